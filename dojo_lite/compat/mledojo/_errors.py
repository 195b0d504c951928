"""MLE-Dojo's error names (``mledojo.gym.error``), as :class:`dojo_lite.DojoError` subclasses."""

from __future__ import annotations

from ..._errors import ConfigError, DojoError, TaskFormatError, TaskNotFound

__all__ = ["CompetitionAlreadyExistsError", "CompetitionDataError", "CompetitionError", "CompetitionNotFoundError",
           "MLEDojoError", "MetricError"]


class MLEDojoError(DojoError):
    """Root of the errors with MLE-Dojo's names (``mledojo.gym.error``); a :class:`DojoError`,
    so ``except dojo_lite.DojoError`` catches them too.  ``message`` and ``details`` as MLE-Dojo's."""

    def __init__(self, message: str, details: str | None = None) -> None:
        self.message = message
        self.details = details
        super().__init__(message if details is None else f"{message}\nDetails: {details}")


class CompetitionError(MLEDojoError):
    """A competition's registration or lookup failed."""


class CompetitionNotFoundError(CompetitionError, TaskNotFound):
    """No competition of that name in the registry (also a :class:`dojo_lite.TaskNotFound`)."""


class CompetitionAlreadyExistsError(CompetitionError, ConfigError):
    """A competition of that name is registered already."""


class CompetitionDataError(CompetitionError, TaskFormatError):
    """A competition's data directory lacks what MLE-Dojo requires (``Competition.REQUIRED_PATHS``)."""


class MetricError(CompetitionError, ConfigError):
    """A competition's metric class is missing, not a metric class, or cannot be made."""


