"""Graders of imported competitions: what an imported task's generated ``grade.py`` calls.

Public, like :mod:`dojo_lite.recipes`: the ``grade.py`` that ``dojo-lite tasks import`` writes
records the competition's grader (as literals) and hands it to one of the two factories here::

    grade = mledojo_grader(metric_file, "GemSortingMetrics", integer_columns=[])
    grade = mlebench_grader(checkout, "mlebench.competitions.x.grade:grade", grader_file, sha256,
                            integer_columns=["count"])

Each returns ``grade(submission, answers) -> float``, the hook dojo_lite's judge calls with the
submission and the answers already checked and aligned on the id column.  The competition's code
gets them as it would read them from the files (:func:`as_read`), and its refusal of a
submission (an ``InvalidSubmissionError``, :func:`is_refusal`) becomes dojo_lite's
:class:`~dojo_lite.SubmissionError` (the agent sees a ``submission_error`` with the grader's
message); anything else the competition's code raises passes unchanged (the judge reports it as
the task's bug, a ``task_error``).

Loading a grader swaps process-wide state (``sys.modules``, ``sys.path``), and graders load in
worker threads: every such swap of dojo_lite's, here and in ``dojo_lite.compat.mledojo``, holds
:data:`MODULES_LOCK`.  Everything here runs in the controller: the competition's code is trusted,
like any task's ``grade.py``.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import importlib.util
import io
import os
import sys
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any, TypeGuard

import pandas as pd

from ._errors import SubmissionError, TaskCodeError
from ._grading import CustomGrader

__all__ = [
    "MODULES_LOCK",
    "CustomGrader",
    "as_read",
    "checkout_modules",
    "is_metric_class",
    "is_refusal",
    "load_metric_module",
    "mlebench_grader",
    "mledojo_grader",
]

MODULES_LOCK = threading.RLock()
"""Held by every swap of ``sys.modules`` or ``sys.path`` that dojo_lite makes (MLE-bench's
checkout, MLE-Dojo's metric base): they are the process's, and two graders loading at once in
two threads would otherwise see each other's modules.  Reentrant: a swap may nest in another."""

# MLE-bench's read_csv reads with float_precision="round_trip"; pandas 3 deprecates the option, its
# default parser reading back exactly what to_csv wrote.
_MLEBENCH_READ: dict[str, Any] = {"float_precision": "round_trip"} if int(pd.__version__.split(".")[0]) < 3 else {}


def as_read(frame: pd.DataFrame, integer_columns: Iterable[str] = (),
            read_options: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """``frame`` as pandas reads it from a file: written to CSV and read back with
    ``pd.read_csv(..., **read_options)``, so that a competition's code gets the types it would
    get from the agent's file.

    dojo_lite parses a submission's numbers as floats: each of ``integer_columns`` (the columns
    the sample submission holds as integers) is first written as integers when it is a float
    column whose every value is whole and below 2**53 in magnitude, as pandas would have read
    the agent's file; otherwise (a fraction, a NaN, a huge value) it stays as it is.  ``frame``
    itself is not changed.  Returns the new frame; raises KeyError when an integer column is not
    in ``frame``.
    """
    frame = frame.copy()
    for column in integer_columns:
        values = frame[column]
        if pd.api.types.is_float_dtype(values) and bool(((values % 1 == 0) & (values.abs() < 2**53)).all()):
            frame[column] = values.astype("int64")
    return pd.read_csv(io.StringIO(frame.to_csv(index=False)), **(read_options or {}))


def is_refusal(exc: BaseException) -> bool:
    """Whether ``exc`` says the submission cannot be graded: an ``InvalidSubmissionError``
    (MLE-bench's, MLE-Dojo's or dojo_lite's stand-in), or an instance of a subclass of one.
    Matched by class name, not by class: each MLE-bench checkout has its own class."""
    return any(kind.__name__ == "InvalidSubmissionError" for kind in type(exc).__mro__)


@contextlib.contextmanager
def _refusals_translated() -> Iterator[None]:
    """Within the block, a refusal (:func:`is_refusal`) becomes a SubmissionError
    ``invalid_submission`` with its message; any other exception passes unchanged."""
    try:
        yield
    except Exception as exc:
        if not is_refusal(exc):
            raise
        message = str(exc).strip() or type(exc).__name__
        raise SubmissionError("invalid_submission", f"the competition's grader refused it: {message}") from exc


# --------------------------------------------------------------------------- MLE-Dojo


def is_metric_class(value: object) -> TypeGuard[type[Any]]:
    """Whether ``value`` is an MLE-Dojo metric class: a class with ``evaluate`` and
    ``validate_submission`` (a ``CompetitionMetrics`` subclass, MLE-Dojo's or dojo_lite's, has both)."""
    return isinstance(value, type) and all(callable(getattr(value, m, None))
                                           for m in ("evaluate", "validate_submission"))


def load_metric_module(metric_file: str | os.PathLike[str], module_name: str) -> ModuleType:
    """The MLE-Dojo metric file ``metric_file`` run as a module named ``module_name`` (not put in
    ``sys.modules``).  Its ``from mledojo.metrics.base import ...`` works without MLE-Dojo
    (``dojo_lite.compat.mledojo``'s stand-in, unless MLE-Dojo is installed).  Raises ImportError
    when the file's name is not a Python module's, OSError when it cannot be read, and what the
    file raises as it runs."""
    # Not at the top: dojo_lite.compat imports the importers, which import this module.
    from .compat.mledojo._metrics import metric_base_modules

    spec = importlib.util.spec_from_file_location(module_name, metric_file)
    if spec is None or spec.loader is None:
        raise ImportError(f"{metric_file} is not a Python file (want a name ending in .py)")
    module = importlib.util.module_from_spec(spec)
    with metric_base_modules():
        spec.loader.exec_module(module)
    return module


def mledojo_grader(metric_file: str | os.PathLike[str], class_name: str, *, integer_columns: Iterable[str] = (),
                   module_name: str | None = None) -> CustomGrader:
    """The grader of an MLE-Dojo competition: the class ``class_name`` of its metric file
    ``metric_file`` (loaded now, by :func:`load_metric_module`, as ``module_name``; default: a
    name made from the file's path).

    Returns ``grade(submission, answers)``: both frames :func:`as_read` (the submission's
    ``integer_columns`` as integers where whole, no read options: MLE-Dojo reads with
    ``pd.read_csv``), then, as MLE-Dojo does, a new instance's
    ``validate_submission(submission, answers)`` and ``evaluate(answers, submission)``; the score
    as a float.  ``grade`` raises SubmissionError ``invalid_submission`` when the metric refuses
    the submission, and whatever else the metric raises, unchanged.

    Raises what the metric file raises as it loads, AttributeError when it defines no
    ``class_name``.
    """
    if module_name is None:
        module_name = "dojo_lite_metric_" + hashlib.sha256(str(metric_file).encode()).hexdigest()[:12]
    metric = getattr(load_metric_module(metric_file, module_name), class_name)
    columns = tuple(integer_columns)

    def grade(submission: pd.DataFrame, answers: pd.DataFrame) -> float:
        submission, answers = as_read(submission, columns), as_read(answers)
        instance = metric()
        with _refusals_translated():
            instance.validate_submission(submission, answers)
            score = instance.evaluate(answers, submission)
        return float(score)

    return grade


# --------------------------------------------------------------------------- MLE-bench


def _mlebench(name: str) -> bool:
    return name == "mlebench" or name.startswith("mlebench.")


@contextlib.contextmanager
def checkout_modules(checkout: str | os.PathLike[str]) -> Iterator[None]:
    """Within the block, ``mlebench`` and its modules are imported from the MLE-bench checkout
    ``checkout`` (the folder holding the ``mlebench`` package), and no other thread swaps modules
    (:data:`MODULES_LOCK` is held).

    Afterwards ``checkout`` is off ``sys.path`` again.  ``mlebench`` modules of another checkout,
    imported before the block, are put back (what was loaded from this one keeps its own
    references); with none before, this checkout's stay in ``sys.modules``, for imports that a
    grader makes as it runs.
    """
    folder = str(checkout)
    with MODULES_LOCK:
        # list() first: sys.modules may grow meanwhile (another thread importing what it needs)
        saved = {name: sys.modules.pop(name) for name in list(sys.modules) if _mlebench(name)}
        sys.path.insert(0, folder)
        importlib.invalidate_caches()
        try:
            yield
        finally:
            sys.path.remove(folder)
            if saved:
                for name in [n for n in list(sys.modules) if _mlebench(n)]:
                    del sys.modules[name]
                sys.modules.update(saved)


def mlebench_grader(checkout: str | os.PathLike[str], grade_fn: str, grader_file: str | os.PathLike[str],
                    sha256: str, *, integer_columns: Iterable[str] = ()) -> CustomGrader:
    """The grader of an MLE-bench competition: ``grade_fn`` (``module:function``, as its
    ``config.yaml`` names it), imported now from the MLE-bench checkout ``checkout`` (its
    helpers, ``mlebench.*``, live there: :func:`checkout_modules`), after checking that the
    grader's file ``grader_file`` still has the SHA-256 ``sha256`` (hex) recorded at import.

    Returns ``grade(submission, answers)``: the grader called with both frames :func:`as_read`
    as MLE-bench's ``read_csv`` reads them (``float_precision="round_trip"`` before pandas 3;
    the submission's ``integer_columns`` as integers where whole); the score as a float, not
    rounded (MLE-bench rounds to five decimals: here a leaderboard's own precision decides ties).
    ``grade`` raises SubmissionError ``invalid_submission`` when the grader refuses the
    submission, and whatever else the grader raises, unchanged.

    Raises TaskCodeError when the grader's file changed since the import or its module loads from
    another file; OSError when the file cannot be read; what the module raises as it is imported;
    AttributeError when it has no such function.
    """
    grader_file = Path(grader_file)
    with open(grader_file, "rb") as handle:
        found = hashlib.file_digest(handle, "sha256").hexdigest()
    if found != sha256:
        raise TaskCodeError(f"{grader_file} changed since the import (SHA-256 {found}, imported {sha256}): "
                            "import the competition again")
    module_name, _, function_name = grade_fn.partition(":")
    with checkout_modules(checkout):
        module = importlib.import_module(module_name)
    if Path(module.__file__ or "").resolve() != grader_file.resolve():
        raise TaskCodeError(f"{module_name} was loaded from {module.__file__}, not {grader_file}")
    function = getattr(module, function_name)
    columns = tuple(integer_columns)

    def grade(submission: pd.DataFrame, answers: pd.DataFrame) -> float:
        with _refusals_translated():
            score = function(as_read(submission, columns, _MLEBENCH_READ), as_read(answers, (), _MLEBENCH_READ))
        return float(score)

    return grade
