"""Exceptions raised by ``dojo_lite``, and the boundary where ``sandbox``'s are translated.

What an *agent* does wrong (bad code, a malformed action, a bad submission) is never an
exception raised at the caller: it comes back as an observation with a status.  The exceptions
below are about how the library was set up or called, or about a task's own code::

    DojoError                    root: catch this to catch everything dojo_lite raises
    ├── ConfigError              an argument or setting that cannot work (also ValueError)
    ├── SandboxUnavailable       the sandbox cannot give its guarantees on this host; the
    │                            message names the fix (a missing nsjail, no cgroups, ...)
    ├── UsageError               a method called where it cannot work, e.g. ``step()``
    │                            inside a running event loop (also RuntimeError)
    ├── EnvClosed                the environment (or its scheduler) was closed
    │   └── NodeLost             the Ray node that held the episode was lost (dojo_lite.ray):
    │                            the episode cannot move; start a new one
    ├── TaskNotFound             no task with that id on the search path (also LookupError)
    ├── TaskFormatError          a task folder that breaks the format (also ValueError)
    ├── PrepareError             a task's prepare.py failed or wrote the wrong files
    ├── TaskImportError          a competition or a table that cannot become a task (a file
    │                            missing, duplicate ids, an unsafe archive, a target with one
    │                            value, ...): the message says what
    ├── TrajectoryError          a trajectory file of an unknown format version, or with no
    │                            episode in it (also ValueError)
    ├── TaskCodeError            a task's own code (its ``grade.py``) raised: a bug of the
    │                            task's author, never blamed on the agent or the sandbox
    ├── RewardError              the reward function given to the env raised or gave no number
    └── SubmissionError          a submission that cannot be graded (caught by the env:
                                 agents see it as feedback); ``code`` says which check failed

``sandbox``'s exceptions never escape ``dojo_lite``: they are translated where dojo_lite calls
the sandbox (:func:`translated`), the original kept as ``__cause__``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import sandbox


class DojoError(Exception):
    """Root of every error raised by ``dojo_lite``."""


class ConfigError(DojoError, ValueError):
    """An argument or setting that cannot work (a bad budget, a GPU that is not there, ...)."""


class SandboxUnavailable(DojoError):
    """The sandbox cannot give its guarantees here; the message says how to fix the host."""


class UsageError(DojoError, RuntimeError):
    """A method was called where it cannot work (the message says what to call instead)."""


class EnvClosed(DojoError):
    """The environment (or the scheduler it ran on) was closed; open a new one."""


class NodeLost(EnvClosed):
    """The Ray node that held an episode (its work dir and warm sandbox) was lost mid-episode
    (``dojo_lite.ray``): that episode cannot move to another node, start a new one; episodes on
    other nodes go on, and new ones are placed on the nodes still alive."""


class TaskNotFound(DojoError, LookupError):
    """No task with that id was found on the task search path."""


class TaskFormatError(DojoError, ValueError):
    """A task folder does not follow the task format."""


class PrepareError(DojoError):
    """A task's data could not be prepared."""


class TaskImportError(DojoError):
    """An MLE-bench or MLE-Dojo competition could not be imported as a task, or a table could not
    become one (``dojo-lite tasks new``); the message says what is missing or wrong, and nothing
    was written where the task would go."""


class TrajectoryError(DojoError, ValueError):
    """A trajectory file this dojo_lite cannot read: a format version it does not know, or no
    episode in it."""


class TaskCodeError(DojoError):
    """A task's own code (its ``grade.py``) failed: a bug for the task's author to fix."""


class RewardError(DojoError):
    """The env's ``reward=`` function raised, or returned something that is not a number."""


class SubmissionError(DojoError, ValueError):
    """A submission failed a check. ``code`` names the check (e.g. ``"missing_file"``);
    the message says precisely what is wrong, for an agent to read."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@contextlib.contextmanager
def translated() -> Iterator[None]:
    """Re-raise ``sandbox``'s exceptions as dojo_lite's (the original as ``__cause__``)."""
    try:
        yield
    except sandbox.PoolClosed as exc:
        raise EnvClosed(str(exc)) from exc
    except sandbox.ConfigError as exc:
        raise ConfigError(str(exc)) from exc
    except sandbox.SandboxError as exc:  # HostError and its kinds: this host cannot jail
        raise SandboxUnavailable(str(exc)) from exc
