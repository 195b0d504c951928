"""``dojo-lite tasks verify``: the checks MLE-Smith runs on a generated task, for any task.

Every check gives a :class:`CheckResult` with a :class:`CheckStatus` and a message saying what
was measured.  The checks, on one variant of the data, prepared afresh (never the user's cache):

- ``prepare``: ``prepare.py`` runs and writes ``train.csv``, ``test.csv``, ``sample_submission.csv``
  and ``private/answers.csv`` (with the columns grading expects: ``Task.prepare`` checks those);
- ``schema``: the test set's ids are the answers' ids, unique; the answer column is in
  ``train.csv`` and nowhere else in the public files;
- ``sample_submission``: the task's own grader accepts and scores the sample submission;
- ``leak_columns``: no feature column of ``test.csv`` predicts the target on its own, as a model
  of that one column fitted on ``train.csv`` and scored on the test answers;
- ``leak_id``: neither does the id column (a split in id order, a time split, is exempt);
- ``overlap``: no id on both sides of the split, and few test rows that repeat a train row
  (features and target; images in ``.npy`` files count as features);
- ``determinism``: preparing twice, into fresh folders, gives identical bytes;
- ``solvability``: ``solutions/reference.py``, run in the sandbox on the variant's data and
  graded as an agent's submission is (as ``dojo-lite tasks leaderboard`` runs a population), beats
  the sample submission by a clear margin (:data:`MARGIN` of the way to the metric's perfect
  score); ``solutions/simple.py`` is run and reported too.

A single-feature model's *power* is the share of the gap between a constant prediction (the
train part's majority class or mean) and a perfect one that it closes on the test part:
accuracy above the majority rate for classes, R² against the train mean for values.
"""

from __future__ import annotations

import asyncio
import enum
import hashlib
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import pandas as pd
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from ._backend import PoolBackend
from ._errors import DojoError, SubmissionError
from ._grading import CUSTOM, read_submission, score_submission
from ._leaderboard import run_solutions
from ._metrics import Direction, PredictionKind
from ._task import PreparedData, Task

__all__ = ["MARGIN", "CheckResult", "CheckStatus", "Verification", "verify_task"]

MARGIN = 0.1           # solvability: the reference closes at least this share of the gap to perfect
COLUMN_FAIL, COLUMN_WARN = 0.98, 0.9   # a feature's power: near perfect fails, suspicious warns
ID_FAIL, ID_WARN = 0.5, 0.2            # ids should carry nothing: far lower bars
DUPLICATE_FAIL = 0.05  # share of test rows that repeat a train row (features and target)
_MAX_ROWS = 20_000     # rows the single-feature models fit on (a sample beyond that)
_PUBLIC = ("train.csv", "test.csv", "sample_submission.csv")
# The perfect score of each built-in metric (custom metrics have none we know).
PERFECT = {"accuracy": 1.0, "roc_auc": 1.0, "macro_f1": 1.0, "qwk": 1.0, "log_loss": 0.0, "rmse": 0.0,
           "rmsle": 0.0, "mae": 0.0, "smape": 0.0}


class CheckStatus(enum.Enum):
    """A check's verdict: only ``fail`` makes the task fail verification."""

    PASS = "pass"
    WARN = "warn"   # worth a look, not a defect on its own
    FAIL = "fail"
    SKIP = "skip"   # could not run (an earlier check failed) or does not apply


@attrs.frozen
class CheckResult:
    """One check: its name, verdict, what it found (for a person), and how long it took."""

    name: str
    status: CheckStatus
    message: str
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status.value, "message": self.message, "seconds": self.seconds}


@attrs.frozen
class Verification:
    """Every check run on one task's variant; ``ok`` when none failed."""

    task: str
    variant: str
    checks: tuple[CheckResult, ...]

    @property
    def ok(self) -> bool:
        return all(check.status is not CheckStatus.FAIL for check in self.checks)

    def check(self, name: str) -> CheckResult:
        """The check called ``name`` (KeyError if it was not run)."""
        for check in self.checks:
            if check.name == name:
                return check
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {"task": self.task, "variant": self.variant, "ok": self.ok,
                "checks": [check.to_dict() for check in self.checks]}

    def table(self) -> str:
        """The checks as a plain-text table: a verdict line, then one line per check."""
        width = max(len(check.name) for check in self.checks)
        lines = [f"{self.task} ({self.variant}): {'ok' if self.ok else 'FAILED'}"]
        for check in self.checks:
            lines.append(f"  {check.name:<{width}}  {check.status.value:<4}  {check.seconds:6.1f} s  {check.message}")
        return "\n".join(lines)


class _Failed(Exception):
    """A check that cannot go on: its message is the check's."""


@attrs.frozen
class _Data:
    """One preparation of the variant, read: the public tables and the answers."""

    prepared: PreparedData
    train: pd.DataFrame
    test: pd.DataFrame
    answers: pd.DataFrame


# ------------------------------------------------------------------ the driver


async def verify_task(task: Task, variant: str = "micro", *, solutions: bool = True,
                      pool_options: dict[str, Any] | None = None) -> Verification:
    """Run every check on ``variant`` of ``task``'s data, prepared into temporary folders.

    ``solutions=False`` leaves out the sandbox runs (``solvability`` is then skipped);
    ``pool_options`` go to the sandbox pool that runs the solutions (e.g. ``isolation``)."""
    with tempfile.TemporaryDirectory(prefix="dojo-lite-verify-") as tmp:
        first, second = Path(tmp) / "a", Path(tmp) / "b"
        checks, data, trivial = await asyncio.to_thread(_offline_checks, task, variant, first, second)
        if not solutions:
            checks.append(CheckResult("solvability", CheckStatus.SKIP, "not asked for (no sandbox runs)"))
        elif data is None or trivial is None:
            checks.append(CheckResult("solvability", CheckStatus.SKIP, "the data or its sample submission failed"))
        else:
            start = time.monotonic()
            result = await _solvability(task, variant, first, trivial, pool_options or {})
            checks.append(attrs.evolve(result, seconds=time.monotonic() - start))
    return Verification(task.id, variant, tuple(checks))


def _offline_checks(task: Task, variant: str, first: Path,
                    second: Path) -> tuple[list[CheckResult], _Data | None, float | None]:
    """Every check but solvability (blocking: run in a thread)."""
    checks: list[CheckResult] = []
    data = _timed(checks, "prepare", lambda: _prepare(task, variant, first))
    if data is None:
        names = ("schema", "sample_submission", "leak_columns", "leak_id", "overlap", "determinism")
        checks.extend(CheckResult(name, CheckStatus.SKIP, "the data could not be prepared") for name in names)
        return checks, None, None
    _timed(checks, "schema", lambda: _schema(task, data))
    trivial = _timed(checks, "sample_submission", lambda: _sample_score(task, data))
    _timed(checks, "leak_columns", lambda: _leak_columns(task, data))
    _timed(checks, "leak_id", lambda: _leak_id(task, data))
    _timed(checks, "overlap", lambda: _overlap(task, data))
    _timed(checks, "determinism", lambda: _determinism(task, variant, data, second))
    return checks, data, trivial


def _timed[T](checks: list[CheckResult], name: str, check: Callable[[], tuple[CheckResult, T]]) -> T | None:
    """Run ``check`` (which gives its result and a value for later checks); a :class:`_Failed`,
    a :class:`DojoError` or any error of the task's own code is that check's failure."""
    start = time.monotonic()
    value: T | None = None
    try:
        result, value = check()
    except _Failed as exc:
        result = CheckResult(name, CheckStatus.FAIL, str(exc))
    except DojoError as exc:
        result = CheckResult(name, CheckStatus.FAIL, _first_and_last(str(exc)) or type(exc).__name__)
    except Exception as exc:  # the task's code or data broke the check: say where
        result = CheckResult(name, CheckStatus.FAIL, f"{type(exc).__name__}: {exc} "
                             f"({traceback.extract_tb(exc.__traceback__)[-1].filename})")
        value = None
    checks.append(attrs.evolve(result, name=name, seconds=time.monotonic() - start))
    return value


def _first_and_last(text: str) -> str:
    """A message's first and last lines (a PrepareError holds a whole traceback between them)."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return " ... ".join(dict.fromkeys([lines[0], lines[-1]])) if lines else ""


def _ok(message: str) -> CheckResult:
    return CheckResult("", CheckStatus.PASS, message)


# ------------------------------------------------------------------ structure


def _prepare(task: Task, variant: str, cache: Path) -> tuple[CheckResult, _Data]:
    prepared = task.prepare(variant, cache)  # PrepareError: prepare.py failed or wrote the wrong files
    missing = [name for name in _PUBLIC if not (prepared.public / name).is_file()]
    if missing:
        raise _Failed(f"prepare.py wrote no {', '.join(missing)} in public/")
    spec = task.grading
    train, test = (pd.read_csv(prepared.public / name, low_memory=False) for name in ("train.csv", "test.csv"))
    answers = prepared.answers()
    for name, frame in (("train.csv", train), ("test.csv", test)):
        if spec.id_column not in frame.columns:
            raise _Failed(f"{name} has no id column {spec.id_column!r}")
    files = sorted(p.name for p in prepared.public.iterdir())
    return _ok(f"{len(train)} train rows, {len(test)} test rows; public files: {', '.join(files)}"), \
        _Data(prepared, train, test, answers)


def _schema(task: Task, data: _Data) -> tuple[CheckResult, None]:
    spec = task.grading
    ids, truth = _keys(data.test[spec.id_column]), _keys(data.answers[spec.id_column])
    if not ids.is_unique:
        raise _Failed(f"test.csv repeats ids ({int(ids.duplicated().sum())} rows)")
    if set(ids) != set(truth) or len(ids) != len(truth):
        raise _Failed(f"test.csv's ids ({len(ids)}) are not the answers' ids ({len(truth)}): "
                      f"{len(set(ids) ^ set(truth))} differ")
    shown = [p.name for p in data.prepared.public.glob("*.csv") if p.name not in ("train.csv", "sample_submission.csv")
             and spec.answer_column in pd.read_csv(p, nrows=0).columns]
    if shown:
        raise _Failed(f"the answer column {spec.answer_column!r} is in {', '.join(sorted(shown))}")
    if spec.answer_column not in data.train.columns:
        status = CheckStatus.WARN if spec.metric == CUSTOM else CheckStatus.FAIL
        return CheckResult("", status, f"train.csv has no answer column {spec.answer_column!r}: nothing to learn "
                           "from" + (" (a custom grader may name its truth otherwise)" if status is CheckStatus.WARN
                                     else "")), None
    if data.train[spec.answer_column].isna().any():
        raise _Failed(f"train.csv's answer column {spec.answer_column!r} has missing values")
    return _ok(f"{len(ids)} unique test ids, the answers' own; the answer column only in train.csv"), None


def _sample_score(task: Task, data: _Data) -> tuple[CheckResult, float]:
    """The sample submission, read and scored by the task's own grading (as an agent's would be)."""
    spec = task.grading
    try:
        submission = read_submission(data.prepared.public, spec, data.answers[spec.id_column],
                                     filename="sample_submission.csv")
        score = score_submission(spec, submission, data.answers, task.custom_grader())
    except SubmissionError as exc:
        raise _Failed(f"the grader refuses the sample submission ({exc.code}): {exc.message}") from exc
    return _ok(f"graded: {spec.metric} {score:.6g}"), score


def _keys(values: pd.Series) -> pd.Index:
    """Ids as comparable text (``5`` and ``5.0`` alike)."""
    if pd.api.types.is_float_dtype(values) and values.dropna().apply(float.is_integer).all():
        values = values.astype("Int64")
    return pd.Index(values.astype(str).str.strip())


# ------------------------------------------------------------------ leaks


def _target(task: Task, data: _Data) -> tuple[pd.Series, pd.Series, bool]:
    """The train target, the test truth (aligned with test.csv's rows), and whether it is a class."""
    spec = task.grading
    if spec.answer_column not in data.train.columns:
        raise _Skipped(f"train.csv has no answer column {spec.answer_column!r}")
    truth = data.answers.set_index(_keys(data.answers[spec.id_column]))[spec.answer_column]
    test_truth = truth.reindex(_keys(data.test[spec.id_column])).reset_index(drop=True)
    y_train = data.train[spec.answer_column].reset_index(drop=True)
    classes = spec.prediction_kind is not PredictionKind.VALUE or not pd.api.types.is_numeric_dtype(y_train)
    return y_train, test_truth, classes


class _Skipped(Exception):
    """A check that does not apply to this task: its message says why."""


def _power(x_train: pd.Series, y_train: pd.Series, x_test: pd.Series, y_test: pd.Series, classes: bool, *,
           shallow: bool = False) -> float:
    """The best power (see the module's docstring) of models of one column: a lookup table (value ->
    majority class or mean) and, for numbers, a decision tree, both fitted on train and scored on
    test; with ``shallow``, also a small tree (at most 16 leaves of 5 rows) fitted and scored on
    all the rows, which a column that decides the target by a threshold or two fits perfectly
    however few rows lie near the threshold, and an honest feature cannot."""
    if len(x_train) > _MAX_ROWS:
        picked = np.random.default_rng(0).choice(len(x_train), _MAX_ROWS, replace=False)
        x_train, y_train = x_train.iloc[picked], y_train.iloc[picked]
    y_train, y_test = y_train.reset_index(drop=True), y_test.reset_index(drop=True)
    if classes:
        y_train, y_test = y_train.astype(str), y_test.astype(str)
        constant: Any = y_train.mode().iloc[0]
    else:
        y_train, y_test = y_train.astype(float), y_test.astype(float)
        constant = float(y_train.mean())
    keys_train, keys_test = x_train.astype(str).reset_index(drop=True), x_test.astype(str).reset_index(drop=True)
    grouped = y_train.groupby(keys_train)
    table = grouped.agg(lambda s: s.mode().iloc[0]) if classes else grouped.mean()
    predictions = [keys_test.map(table).fillna(constant)]
    numbers_train, numbers_test = pd.to_numeric(x_train, errors="coerce"), pd.to_numeric(x_test, errors="coerce")
    if numbers_train.notna().mean() > 0.9 and numbers_test.notna().mean() > 0.9:
        fill = float(numbers_train.min()) - 1 if numbers_train.notna().any() else 0.0
        X_train = numbers_train.fillna(fill).to_numpy(dtype=float).reshape(-1, 1)
        X_test = numbers_test.fillna(fill).to_numpy(dtype=float).reshape(-1, 1)
        tree = (DecisionTreeClassifier if classes else DecisionTreeRegressor)(random_state=0)
        predictions.append(pd.Series(tree.fit(X_train, y_train).predict(X_test)))
        if shallow:
            return max(_pooled_power(np.vstack([X_train, X_test]), pd.concat([y_train, y_test], ignore_index=True),
                                     classes),
                       *(_gap_closed(p.reset_index(drop=True), y_test, constant, classes) for p in predictions))
    return max(_gap_closed(p.reset_index(drop=True), y_test, constant, classes) for p in predictions)


def _pooled_power(X: np.ndarray, y: pd.Series, classes: bool) -> float:
    model = (DecisionTreeClassifier if classes else DecisionTreeRegressor)(max_depth=4, min_samples_leaf=5,
                                                                           random_state=0)
    constant = y.mode().iloc[0] if classes else float(y.mean())
    return _gap_closed(pd.Series(model.fit(X, y).predict(X)), y, constant, classes)


def _gap_closed(predicted: pd.Series, truth: pd.Series, constant: Any, classes: bool) -> float:
    if classes:
        base = float((truth == constant).mean())
        accuracy = float((predicted.astype(str) == truth).mean())
        return (accuracy - base) / (1 - base) if base < 1 else 0.0
    baseline = float(((truth - constant) ** 2).sum())
    error = float(((truth - predicted.astype(float)) ** 2).sum())
    return 1 - error / baseline if baseline > 0 else 0.0


def _features(task: Task, data: _Data) -> list[str]:
    """The columns of test.csv besides the id, that train.csv has too."""
    spec = task.grading
    return [c for c in data.test.columns if c not in (spec.id_column, spec.answer_column) and c in data.train.columns]


def _leak_columns(task: Task, data: _Data) -> tuple[CheckResult, None]:
    try:
        y_train, y_test, classes = _target(task, data)
    except _Skipped as exc:
        return CheckResult("", CheckStatus.SKIP, str(exc)), None
    columns = _features(task, data)
    if not columns:
        return CheckResult("", CheckStatus.SKIP, "test.csv has no feature column besides the id"), None
    powers = {c: _power(data.train[c], y_train, data.test[c], y_test, classes, shallow=True) for c in columns}
    ranked = sorted(powers.items(), key=lambda item: -item[1])
    shown = ", ".join(f"{name} {power:.2f}" for name, power in ranked[:3])
    what = "accuracy gain over the majority class" if classes else "R² over the train mean"
    leaking = [name for name, power in ranked if power >= COLUMN_FAIL]
    if leaking:
        return CheckResult("", CheckStatus.FAIL, f"{', '.join(leaking)} alone predict(s) the target: "
                           f"one-column models close {shown} of the gap to perfect ({what})"), None
    status = CheckStatus.WARN if ranked[0][1] >= COLUMN_WARN else CheckStatus.PASS
    return CheckResult("", status, f"{len(columns)} columns; the strongest alone: {shown} ({what})"), None


def _leak_id(task: Task, data: _Data) -> tuple[CheckResult, None]:
    spec = task.grading
    try:
        y_train, y_test, classes = _target(task, data)
    except _Skipped as exc:
        return CheckResult("", CheckStatus.SKIP, str(exc)), None
    train_ids = pd.to_numeric(data.train[spec.id_column], errors="coerce")
    test_ids = pd.to_numeric(data.test[spec.id_column], errors="coerce")
    if train_ids.isna().any() or test_ids.isna().any():
        return CheckResult("", CheckStatus.SKIP, "the ids are not numbers (no order to leak)"), None
    if len(train_ids) and len(test_ids) and test_ids.min() > train_ids.max():
        return CheckResult("", CheckStatus.SKIP, "every test id follows every train id: a split in id order "
                           "(a time split), where ids are the time axis"), None
    power = _power(train_ids, y_train, test_ids, y_test, classes)
    text = f"a model of the id alone closes {power:.2f} of the gap to perfect"
    if power >= ID_FAIL:
        return CheckResult("", CheckStatus.FAIL, f"the ids follow the target: {text}"), None
    return CheckResult("", CheckStatus.WARN if power >= ID_WARN else CheckStatus.PASS, text), None


def _overlap(task: Task, data: _Data) -> tuple[CheckResult, None]:
    spec = task.grading
    train_ids, test_ids = set(_keys(data.train[spec.id_column])), set(_keys(data.test[spec.id_column]))
    both = sorted(train_ids & test_ids)
    if both:
        return CheckResult("", CheckStatus.FAIL, f"{len(both)} ids are in both train.csv and test.csv "
                           f"(e.g. {', '.join(both[:5])})"), None
    try:
        y_train, y_test, _ = _target(task, data)
    except _Skipped as exc:
        return CheckResult("", CheckStatus.PASS, f"no id on both sides; rows not compared: {exc}"), None
    train_rows, test_rows = _row_keys(data, _features(task, data), y_train, y_test)
    if train_rows is None or test_rows is None:
        return _ok("no id on both sides; no features to compare rows by"), None
    repeated = int(test_rows.isin(set(train_rows)).sum())
    share = repeated / max(len(test_rows), 1)
    text = f"no id on both sides; {repeated} test rows ({share:.1%}) repeat a train row (features and target)"
    if share > DUPLICATE_FAIL:
        return CheckResult("", CheckStatus.FAIL, text), None
    return CheckResult("", CheckStatus.WARN if repeated else CheckStatus.PASS, text), None


def _row_keys(data: _Data, columns: Sequence[str], y_train: pd.Series,
              y_test: pd.Series) -> tuple[pd.Series | None, pd.Series | None]:
    """Each row's features and target as one text (with a digest of its image for each
    ``train_X.npy``/``test_X.npy`` pair that holds one array per row); None without features."""
    parts_train = [_text(data.train[c]) for c in columns]
    parts_test = [_text(data.test[c]) for c in columns]
    for path in sorted(data.prepared.public.glob("train_*.npy")):
        twin = path.with_name("test_" + path.name.removeprefix("train_"))
        if twin.is_file():
            arrays = np.load(path, mmap_mode="r"), np.load(twin, mmap_mode="r")
            if len(arrays[0]) == len(data.train) and len(arrays[1]) == len(data.test):
                parts_train.append(_digests(arrays[0]))
                parts_test.append(_digests(arrays[1]))
    if not parts_train:
        return None, None
    parts_train.append(_text(y_train))
    parts_test.append(_text(y_test))
    return (pd.concat(parts_train, axis=1).agg("\x1f".join, axis=1),
            pd.concat(parts_test, axis=1).agg("\x1f".join, axis=1))


def _text(values: pd.Series) -> pd.Series:
    """Each value as text, a missing one too (``astype(str)`` keeps them missing)."""
    return values.map(str).reset_index(drop=True)


def _digests(array: np.ndarray) -> pd.Series:
    return pd.Series([hashlib.sha256(np.ascontiguousarray(item).tobytes()).hexdigest() for item in array])


# ------------------------------------------------------------------ determinism


def _determinism(task: Task, variant: str, data: _Data, cache: Path) -> tuple[CheckResult, None]:
    again = task.prepare(variant, cache)
    first_root, second_root = data.prepared.public.parent, again.public.parent
    first, second = _files(first_root), _files(second_root)
    if first.keys() != second.keys():
        raise _Failed(f"the two preparations wrote different files: {sorted(first.keys() ^ second.keys())}")
    differ = [name for name in first if first[name] != second[name]]
    if differ:
        raise _Failed(f"preparing twice gives different bytes in {', '.join(differ)}")
    return _ok(f"{len(first)} files, byte for byte the same when prepared again"), None


def _files(root: Path) -> dict[str, str]:
    """Each file under ``root`` (its relative path) and its SHA-256; the completion marker aside."""
    digests = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.name != ".complete":
            with open(path, "rb") as handle:
                digests[path.relative_to(root).as_posix()] = hashlib.file_digest(handle, "sha256").hexdigest()
    return digests


# ------------------------------------------------------------------ solvability


async def _solvability(task: Task, variant: str, cache: Path, trivial: float,
                       pool_options: dict[str, Any]) -> CheckResult:
    """Run the reference (and the simple solution, where there is one) as the leaderboard builder
    runs a population member; compare with the sample submission's score."""
    try:
        reference = task.solution("reference")
    except DojoError:
        return CheckResult("solvability", CheckStatus.FAIL, "the task has no solutions/reference.py")
    scores = await _run_solutions(task, variant, cache, pool_options,
                                  {"reference": reference, **_optional_solution(task, "simple")})
    spec = task.grading
    ours = scores["reference"]
    if isinstance(ours, str):
        return CheckResult("solvability", CheckStatus.FAIL, f"the reference got no score: {ours}")
    closed = _closed(spec.metric, spec.direction, trivial, ours)
    simple = scores.get("simple")
    text = (f"reference {spec.metric} {ours:.6g}, sample submission {trivial:.6g}"
            + ("" if simple is None else f", simple {simple:.6g}" if not isinstance(simple, str)
               else f", simple got no score ({simple})"))
    if closed is None:  # a custom metric: no perfect score to measure the gap by
        better = spec.direction.better(ours, trivial) and abs(ours - trivial) >= 0.01 * max(abs(trivial), 1e-12)
        status = CheckStatus.PASS if better else CheckStatus.FAIL
        return CheckResult("solvability", status, f"{text}: better by {'at least' if better else 'less than'} 1% "
                           "of the sample's score (custom metric: no perfect score known)")
    verdict = CheckStatus.PASS if closed >= MARGIN else CheckStatus.FAIL
    if verdict is CheckStatus.PASS and isinstance(simple, str):
        verdict = CheckStatus.WARN
    return CheckResult("solvability", verdict, f"{text}: the reference closes {closed:.2f} of the gap from the "
                       f"sample submission to a perfect score (needs {MARGIN})")


def _optional_solution(task: Task, name: str) -> dict[str, str]:
    try:
        return {name: task.solution(name)}
    except DojoError:
        return {}


def _closed(metric: str, direction: Direction, trivial: float, score: float) -> float | None:
    """The share of the gap from ``trivial`` to the metric's perfect score that ``score`` closes
    (negative when worse); None for a metric with no known perfect score."""
    perfect = PERFECT.get(metric)
    if perfect is None:
        return None
    gap = perfect - trivial if direction is Direction.MAXIMIZE else trivial - perfect
    gain = score - trivial if direction is Direction.MAXIMIZE else trivial - score
    if gap <= 0:
        return 0.0  # the sample submission is already perfect: nothing left to show
    return gain / gap


async def _run_solutions(task: Task, variant: str, cache: Path, pool_options: dict[str, Any],
                         codes: dict[str, str]) -> dict[str, float | str]:
    """Each code's score, or why it has none, in one env (one pool) on ``variant``'s data."""
    scores: dict[str, float | str] = {}
    async for name, score, obs in run_solutions(task, codes.items(), variant=variant, cache=cache,
                                                backend=PoolBackend(**pool_options)):
        scores[name] = score if score is not None else f"{obs['status']}: {obs['feedback'][-300:].strip()}"
    return scores
