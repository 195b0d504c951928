"""Exceptions raised by ``dojo_lite``.

What an *agent* does wrong (bad code, a malformed action, a bad submission) is never an
exception raised at the caller: it comes back as an observation with a status. The exceptions
below are about how the library was set up or called::

    DojoError                    root: catch this to catch everything
    ├── TaskNotFound             no task with that id on the search path
    ├── TaskFormatError          a task folder that breaks the format (task.toml, files)
    ├── PrepareError             a task's prepare.py failed or wrote the wrong files
    ├── SubmissionError          a submission that cannot be graded (caught by the env:
    │                            agents see it as feedback); ``code`` says which check failed
    └── EnvClosed                the environment was closed
"""

from __future__ import annotations


class DojoError(Exception):
    """Root of every error raised by ``dojo_lite``."""


class TaskNotFound(DojoError, LookupError):
    """No task with that id was found on the task search path."""


class TaskFormatError(DojoError, ValueError):
    """A task folder does not follow the task format."""


class PrepareError(DojoError):
    """A task's data could not be prepared."""


class SubmissionError(DojoError, ValueError):
    """A submission failed a check. ``code`` names the check (e.g. ``"missing_file"``);
    the message says precisely what is wrong, for an agent to read."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class EnvClosed(DojoError):
    """The environment was closed; open a new one."""
