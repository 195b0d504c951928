"""MLE-Dojo's metric base shape: what a competition's ``utils/metric.py`` imports.

An MLE-Dojo competition grades with a subclass of ``mledojo.metrics.base.CompetitionMetrics``
(``evaluate(y_true, y_pred) -> float`` and ``validate_submission(submission, ground_truth)``, which
raises ``InvalidSubmissionError`` for a submission that cannot be graded).  MLE-Dojo is not on
PyPI: where it is not installed, :func:`metric_base_modules` lets such a file load anyway, its
``from mledojo.metrics.base import CompetitionMetrics, InvalidSubmissionError`` resolving to the
two classes below.  ``dojo_lite.compat.mledojo`` re-exports them.
"""

from __future__ import annotations

import contextlib
import importlib.util
import sys
import types
from collections.abc import Iterator
from typing import Any, ClassVar

from ..._errors import DojoError
from ...graders import MODULES_LOCK

__all__ = ["CompetitionMetrics", "InvalidSubmissionError", "metric_base_modules"]

_BASE = "mledojo.metrics.base"


class CompetitionMetrics:
    """A competition's metric, shaped as MLE-Dojo's base class.

    ``higher_is_better`` says the metric's direction.  A subclass overrides :meth:`evaluate` and
    :meth:`validate_submission`; every subclass is recorded in :attr:`subclasses`, as MLE-Dojo does.
    """

    subclasses: ClassVar[list[type[CompetitionMetrics]]] = []

    def __init__(self, higher_is_better: bool = True) -> None:
        self.higher_is_better = higher_is_better

    def evaluate(self, y_true: Any, y_pred: Any) -> float:
        """The score of ``y_pred`` (the submission) against ``y_true`` (the answers)."""
        raise NotImplementedError(f"{type(self).__name__} does not define evaluate()")

    def validate_submission(self, submission: Any, ground_truth: Any) -> Any:
        """A message when ``submission`` can be graded against ``ground_truth``; raises
        :class:`InvalidSubmissionError` saying why when it cannot."""
        raise NotImplementedError(f"{type(self).__name__} does not define validate_submission()")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        CompetitionMetrics.subclasses.append(cls)


class InvalidSubmissionError(DojoError):
    """Raised by a competition's metric for a submission that cannot be graded (the agent's
    fault: an imported task turns it into a ``submission_error`` observation)."""


def _real_mledojo() -> bool:
    """Whether ``mledojo.metrics.base`` is already loaded, or MLE-Dojo is installed."""
    if _BASE in sys.modules:
        return True
    try:
        return importlib.util.find_spec("mledojo") is not None
    except (ImportError, ValueError):  # a broken or spec-less "mledojo" in sys.modules
        return False


@contextlib.contextmanager
def metric_base_modules() -> Iterator[None]:
    """Within the block, ``import mledojo.metrics.base`` gives this module, unless MLE-Dojo is
    installed (then its own base classes are used).  Afterwards ``sys.modules`` is as it was: a
    program that tests whether MLE-Dojo is installed is not misled.  One block at a time, and none
    while another swap of modules runs (``dojo_lite.graders.MODULES_LOCK``: sys.modules is the
    process's, and graders load in worker threads)."""
    with MODULES_LOCK:
        if _real_mledojo():
            yield
        else:
            with _shims():
                yield


@contextlib.contextmanager
def _shims() -> Iterator[None]:
    package = types.ModuleType("mledojo")
    metrics = types.ModuleType("mledojo.metrics")
    package.__path__ = []  # packages, so that "import mledojo.metrics.base" walks them
    metrics.__path__ = []
    package.metrics = metrics  # type: ignore[attr-defined]
    metrics.base = sys.modules[__name__]  # type: ignore[attr-defined]
    shims = {"mledojo": package, "mledojo.metrics": metrics, _BASE: sys.modules[__name__]}
    saved = {name: sys.modules.get(name) for name in shims}
    sys.modules.update(shims)
    try:
        yield
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
