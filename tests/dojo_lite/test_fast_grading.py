"""The fast grading path (csv module, dicts, numpy) against the pandas path, on the same files.

Every case is graded twice through ``read_submission`` and ``score_submission``: once with the fast
path off (``FAST_MAX_ROWS = 0``) and once with it on. The outcomes must be identical: the same
frame (values, dtypes, bit for bit), the same score bit for bit, or the same exception with the
same code and message. Valid plain files must really take the fast path, or equality would prove
nothing.
"""

from __future__ import annotations

import io
import math
import random
import struct
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import pandas as pd
import pytest

from dojo_lite import _grading, _metrics
from dojo_lite._errors import SubmissionError, TaskFormatError
from dojo_lite._grading import GradingSpec, read_submission, score_submission

ON, OFF = 10**9, 0
RNG_SEEDS = (0, 1, 2)


# --------------------------------------------------------------------------- grading twice


@attrs.frozen
class Outcome:
    """What grading a file gave: a frame and a score, or an error (its type, code and message)."""

    frame: pd.DataFrame | None = None
    score: float | None = None
    error: tuple[str, str | None, str] | None = None


def grade(folder: Path, spec: GradingSpec, answers: pd.DataFrame, fast: bool,
          custom: Callable[[pd.DataFrame, pd.DataFrame], float] | None = None) -> Outcome:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_grading, "FAST_MAX_ROWS", ON if fast else OFF)
        try:
            frame = read_submission(folder, spec, answers[spec.id_column])
        except (SubmissionError, TaskFormatError) as exc:
            return Outcome(error=(type(exc).__name__, getattr(exc, "code", None), str(exc)))
        try:
            score = score_submission(spec, frame, answers, custom)
        except (SubmissionError, TaskFormatError, ValueError) as exc:
            return Outcome(frame=frame, error=(type(exc).__name__, getattr(exc, "code", None), str(exc)))
    return Outcome(frame=frame, score=score)


def bits(score: float) -> bytes:
    return struct.pack("<d", score)


def assert_same(pandas_path: Outcome, fast_path: Outcome) -> None:
    """Both paths gave the same outcome, frames and scores compared bit for bit."""
    assert fast_path.error == pandas_path.error
    assert (fast_path.frame is None) == (pandas_path.frame is None)
    if pandas_path.frame is not None:
        assert fast_path.frame is not None
        assert list(fast_path.frame.dtypes) == list(pandas_path.frame.dtypes)
        pd.testing.assert_frame_equal(fast_path.frame, pandas_path.frame, check_exact=True)
        for column in pandas_path.frame.columns:
            ours, theirs = fast_path.frame[column].to_numpy(), pandas_path.frame[column].to_numpy()
            if ours.dtype.kind == "f":
                assert ours.tobytes() == theirs.tobytes(), column  # -0.0 and NaN payloads too
    assert (fast_path.score is None) == (pandas_path.score is None)
    if pandas_path.score is not None:
        assert fast_path.score is not None
        assert bits(fast_path.score) == bits(pandas_path.score), (fast_path.score, pandas_path.score)


@attrs.define
class Spy:
    """Counts how often each fast step vouched for its input (returned something) or declined."""

    read: list[bool] = attrs.field(factory=list)
    arrays: list[bool] = attrs.field(factory=list)


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> Spy:
    seen = Spy()
    read_small, small_arrays = _grading._read_small, _grading._small_arrays

    def reading(*args: Any) -> Any:
        frame = read_small(*args)
        seen.read.append(frame is not None)
        return frame

    def arrays(*args: Any) -> Any:
        result = small_arrays(*args)
        seen.arrays.append(result is not None)
        return result

    monkeypatch.setattr(_grading, "_read_small", reading)
    monkeypatch.setattr(_grading, "_small_arrays", arrays)
    return seen


def both(folder: Path, spec: GradingSpec, answers: pd.DataFrame,
         custom: Callable[[pd.DataFrame, pd.DataFrame], float] | None = None) -> Outcome:
    """Grade with both paths, check they agree; the (common) outcome."""
    pandas_path = grade(folder, spec, answers, fast=False, custom=custom)
    fast_path = grade(folder, spec, answers, fast=True, custom=custom)
    assert_same(pandas_path, fast_path)
    return fast_path


def write(folder: Path, content: str | bytes) -> Path:
    path = folder / "submission.csv"
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return folder


def answers_of(ids: list[Any], truth: list[Any], spec: GradingSpec) -> pd.DataFrame:
    """The answers as a task reads them: written to CSV and read back by pandas."""
    text = pd.DataFrame({spec.id_column: ids, spec.answer_column: truth}).to_csv(index=False)
    return pd.read_csv(io.StringIO(text))


# --------------------------------------------------------------------------- every metric and kind


def spec_of(**table: Any) -> GradingSpec:
    base = {"id_column": "id", "prediction_columns": ["p"], "answer_column": "target"}
    return GradingSpec.from_table({**base, **table})


def label(metric: str, direction: str, labels: list[Any] | None) -> GradingSpec:
    table: dict[str, Any] = {"metric": metric, "direction": direction, "prediction_kind": "label"}
    return spec_of(**table, **({} if labels is None else {"labels": labels}))


CLASSES = ["setosa", "versicolor", "virginica"]


@attrs.frozen
class Case:
    """A spec, how its answers and predictions are drawn, and how predictions are written."""

    name: str
    spec: GradingSpec
    truth: Callable[[random.Random, int], list[Any]]
    predict: Predict


def choice(values: list[Any]) -> Callable[[random.Random, int], list[Any]]:
    """``n`` draws from ``values``, each of them at least once (roc_auc needs both classes)."""
    def draw(rng: random.Random, n: int) -> list[Any]:
        drawn = [rng.choice(values) for _ in range(n)]
        drawn[: len(values)] = values
        return drawn
    return draw


def floats(scale: float) -> Callable[[random.Random, int], list[Any]]:
    return lambda rng, n: [rng.random() * scale for _ in range(n)]


Predict = Callable[[random.Random, list[Any]], dict[str, list[Any]]]


def one(column: str, make: Callable[[random.Random, Any], Any]) -> Predict:
    return lambda rng, truth: {column: [make(rng, answer) for answer in truth]}


def probabilities(rng: random.Random, truth: list[Any]) -> dict[str, list[Any]]:
    rows = [[rng.random() for _ in CLASSES] for _ in truth]
    return {name: [row[i] for row in rows] for i, name in enumerate(CLASSES)}


def numbered_probabilities(rng: random.Random, truth: list[Any]) -> dict[str, list[Any]]:
    return {str(k): [rng.random() for _ in truth] for k in range(3)}


def noisy_label(options: list[Any]) -> Callable[[random.Random, Any], Any]:
    """The answer most of the time, another label otherwise; numbers sometimes written as floats."""
    def make(rng: random.Random, answer: Any) -> Any:
        value = answer if rng.random() < 0.7 else rng.choice(options)
        return f"{value}.0" if isinstance(value, int) and rng.random() < 0.2 else value
    return make


PROBABILITY = {"metric": "roc_auc", "direction": "maximize", "prediction_kind": "probability"}
LOG_LOSS = {"metric": "log_loss", "direction": "minimize", "prediction_kind": "probability"}
CASES = [
    Case("accuracy, numeric labels", label("accuracy", "maximize", [0, 1]), choice([0, 1]),
         one("p", noisy_label([0, 1]))),
    Case("accuracy, string labels", label("accuracy", "maximize", ["cat", "dog", "eel"]),
         choice(["cat", "dog", "eel"]), one("p", noisy_label(["cat", "dog", "eel"]))),
    Case("accuracy, no labels", label("accuracy", "maximize", None), choice(["x", "y"]),
         one("p", noisy_label(["x", "y", "z"]))),
    Case("accuracy, boolean answers", label("accuracy", "maximize", None), choice([True, False]),
         one("p", lambda rng, answer: rng.choice(["True", "false", "1", "0"]))),
    Case("macro_f1, digits", label("macro_f1", "maximize", list(range(10))), choice(list(range(10))),
         one("p", noisy_label(list(range(10))))),
    Case("macro_f1, strings", label("macro_f1", "maximize", ["a", "b", "c"]), choice(["a", "b", "c"]),
         one("p", noisy_label(["a", "b", "c"]))),
    Case("qwk, ratings", label("qwk", "maximize", [1, 2, 3, 4, 5]), choice([1, 2, 3, 4, 5]),
         one("p", noisy_label([1, 2, 3, 4, 5]))),
    Case("roc_auc, 0/1 answers", spec_of(**PROBABILITY), choice([0, 1]),
         one("p", lambda rng, answer: rng.random())),
    Case("roc_auc, named classes", spec_of(**PROBABILITY, labels=["ham", "spam"]), choice(["ham", "spam"]),
         one("p", lambda rng, answer: round(rng.random(), 3))),
    Case("log_loss, binary", spec_of(**LOG_LOSS), choice([0, 1]), one("p", lambda rng, answer: rng.random())),
    Case("log_loss, multi-class", spec_of(**LOG_LOSS, prediction_columns=CLASSES, labels=CLASSES),
         choice(CLASSES), probabilities),
    Case("log_loss, numbered classes", spec_of(**LOG_LOSS, prediction_columns=["0", "1", "2"], labels=[0, 1, 2]),
         choice([0, 1, 2]), numbered_probabilities),
    *(Case(f"{metric}, values", spec_of(metric=metric, direction="minimize", prediction_kind="value"),
           floats(1000.0), one("p", lambda rng, answer: answer * rng.uniform(0.5, 1.5)))
      for metric in ("rmse", "rmsle", "mae", "smape")),
    Case("rmse, integer answers", spec_of(metric="rmse", direction="minimize", prediction_kind="value"),
         lambda rng, n: [rng.randint(0, 500_000) for _ in range(n)], one("p", lambda rng, answer: answer + 0.5)),
]


def ids_for(kind: str, n: int, rng: random.Random) -> list[Any]:
    if kind == "int":
        return rng.sample(range(1, 10 * n), n)
    if kind == "float":
        return [i + 0.25 for i in rng.sample(range(10 * n), n)]
    return [f"{rng.choice(['0', 'x'])}{i:03d}" for i in rng.sample(range(10 * n), n)]  # "007" stays "007"


def write_predictions(folder: Path, case: Case, ids: list[Any], predictions: dict[str, list[Any]],
                      rng: random.Random) -> None:
    """The predictions, rows shuffled; numeric ids sometimes written as floats or padded with spaces."""
    shown = [f"{i}.0" if isinstance(i, int) and rng.random() < 0.1 else i for i in ids]
    shown = [f" {i} " if rng.random() < 0.05 else i for i in shown]
    frame = pd.DataFrame({case.spec.id_column: shown, **predictions}).sample(frac=1.0, random_state=rng.randint(0, 99))
    frame.to_csv(folder / "submission.csv", index=False)


@pytest.mark.parametrize("seed", RNG_SEEDS)
@pytest.mark.parametrize("ids", ["int", "float", "str"])
@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_both_paths_grade_alike(tmp_path: Path, spy: Spy, case: Case, ids: str, seed: int) -> None:
    rng = random.Random(f"{case.name}/{ids}/{seed}")
    n = rng.choice([12, 40, 300])
    keys = ids_for(ids, n, rng)
    truth = case.truth(rng, n)
    answers = answers_of(keys, truth, case.spec)
    write_predictions(tmp_path, case, keys, case.predict(rng, truth), rng)
    outcome = both(tmp_path, case.spec, answers)
    assert outcome.error is None and outcome.score is not None and math.isfinite(outcome.score), outcome.error
    assert spy.read == [True]  # the pandas path never asks; the fast one vouched for the file
    if case.name != "accuracy, boolean answers":  # True/False answers take pandas' spellings
        assert spy.arrays == [True]


def test_every_metric_and_kind_is_covered() -> None:
    specs = [case.spec for case in CASES]
    assert {spec.metric for spec in specs} == set(_metrics.METRICS)
    assert {spec.prediction_kind for spec in specs} == set(_grading.PredictionKind)
    assert any(spec.multiclass for spec in specs) and any(not spec.multiclass and spec.prediction_kind.value ==
                                                          "probability" for spec in specs)


def test_custom_metrics_see_the_same_frames(tmp_path: Path, spy: Spy) -> None:
    spec = GradingSpec.from_table({
        "metric": "custom", "direction": "minimize", "id_column": "id", "prediction_columns": ["a", "b"],
        "prediction_kind": "label", "answer_column": "target",
    })
    seen: list[str] = []

    def custom(submission: pd.DataFrame, answers: pd.DataFrame) -> float:
        seen.append(f"{submission.dtypes.to_dict()} {submission.to_dict('list')}")
        return float((submission["a"].str.len() + submission["b"].str.len()).sum() / 7)

    answers = answers_of([3, 1, 2], ["x", "y", "z"], spec)
    write(tmp_path, "id,b,a\n2, q ,rr\n1,s,t\n3.0,uu,v\n")
    outcome = both(tmp_path, spec, answers, custom)
    assert outcome.score == 8 / 7
    assert seen[0] == seen[1]
    assert spy.read == [True]


# --------------------------------------------------------------------------- malformed submissions


TITANIC = label("accuracy", "maximize", [0, 1])
STRINGS = label("accuracy", "maximize", None)
BINARY = spec_of(**PROBABILITY)
MULTI = spec_of(**LOG_LOSS, prediction_columns=CLASSES, labels=CLASSES)
RMSLE = spec_of(metric="rmsle", direction="minimize", prediction_kind="value")
QWK = label("qwk", "maximize", [1, 2, 3])

# (spec, answers' ids, answers, file): each is graded by both paths.
ANSWERS: dict[str, tuple[GradingSpec, list[Any], list[Any]]] = {
    "titanic": (TITANIC, [1, 2, 3], [0, 1, 1]),
    "strings": (STRINGS, ["007", "a", "b"], ["x", "y", "x"]),
    "binary": (BINARY, [1, 2, 3], [0, 1, 1]),
    "multi": (MULTI, [1, 2, 3], ["setosa", "virginica", "versicolor"]),
    "rmsle": (RMSLE, [1, 2, 3], [1.5, 2.0, 300.0]),
    "qwk": (QWK, [1, 2, 3], [1, 3, 2]),
}
MALFORMED: list[tuple[str, str, str | bytes]] = [
    # the file as a whole
    ("titanic", "empty", b""),
    ("titanic", "whitespace only", " \n\t\n"),
    ("titanic", "BOM", "\ufeffid,p\n1,0\n2,1\n3,1\n".encode()),
    ("titanic", "two BOMs", "\ufeff\ufeffid,p\n1,0\n2,1\n3,1\n".encode()),
    ("titanic", "not UTF-8", b"id,p\n1,0\n2,\xff\n3,1\n"),
    ("titanic", "header only", "id,p\n"),
    ("titanic", "header only, blank lines", "id,p\n\n  \n"),
    ("titanic", "CRLF", "id,p\r\n1,0\r\n2,1\r\n3,1\r\n"),
    ("titanic", "lone CR", "id,p\r1,0\r2,1\r3,1\r"),
    ("titanic", "NUL", "id,p\n1,0\n2,1\x00\n3,1\n"),
    ("titanic", "tab separated", "id\tp\n1\t0\n2\t1\n3\t1\n"),
    ("titanic", "blank and space lines", "\n  \nid,p\n1,0\n\n\t\n2,1\n \t \n3,1\n   "),
    ("titanic", "a line of \\v", "id,p\n1,0\n\x0b\n2,1\n3,1\n"),
    ("titanic", "row too long", "id,p\n1,0\n2,1,5\n3,1\n"),
    ("titanic", "row too short", "id,p\n1,0\n2\n3,1\n"),
    ("titanic", "quoted fields", 'id,p\n"1","0"\n2,"1"\n"3",1\n'),
    ("titanic", "bad quotes", 'id,p\n1,0"\n"2"x,1\n3,"1\n'),
    ("titanic", "spaces everywhere", " id , p \n 1 , 0 \n2,  1\n\t3\t,1\n"),
    ("titanic", "vertical tab in cells", "id,p\n\x0b1,0\n2,1\x0c\n3,1\x1c\n"),
    ("titanic", "trailing comma", "id,p,\n1,0,\n2,1,\n3,1,\n"),
    # columns
    ("titanic", "missing column", "id\n1\n2\n3\n"),
    ("titanic", "case of a name", "ID,p\n1,0\n2,1\n3,1\n"),
    ("titanic", "extra column", "id,p,q\n1,0,0\n2,1,0\n3,1,0\n"),
    ("titanic", "duplicate column", "id,p,p\n1,0,0\n2,1,0\n3,1,0\n"),
    ("titanic", "index column", ",id,p\n0,1,0\n1,2,1\n2,3,1\n"),
    ("titanic", "wide header", "id,p" + ",x" * 1500 + "\n1,0\n"),
    # ids
    ("titanic", "duplicate ids", "id,p\n1,0\n1,1\n2,1\n3,1\n"),
    ("titanic", "extra ids", "id,p\n1,0\n2,1\n3,1\n4,0\n"),
    ("titanic", "missing ids", "id,p\n1,0\n3,1\n"),
    ("titanic", "every id problem", "id,p\n1,0\n1,0\n9,1\n"),
    ("titanic", "ids as floats", "id,p\n1.0,0\n2e0,1\n3.00,1\n"),
    ("titanic", "ids not numbers", "id,p\nx,0\n2,1\n3,1\n"),
    ("titanic", "many rows", "id,p\n" + "".join(f"{i},0\n" for i in range(4000))),
    ("strings", "string ids padded", "id,p\n 007 ,x\na,y\nb, x\n"),
    ("strings", "7 is not 007", "id,p\n7,x\na,y\nb,x\n"),
    ("strings", "non-ASCII labels", "id,p\n007,é\na,y\nb,x\n"),
    ("strings", "NA labels", "id,p\n007,NA\na,null\nb,\n"),
    # labels
    ("titanic", "labels as floats", "id,p\n1,0.0\n2,1.0\n3,1e0\n"),
    ("titanic", "bad labels", "id,p\n1,2\n2,yes\n3,1.5\n"),
    ("titanic", "empty labels", "id,p\n1,\n2,1\n3,nan\n"),
    ("titanic", "labels with +", "id,p\n1,+0\n2,+1\n3,1\n"),
    ("titanic", "labels with underscores", "id,p\n1,0\n2,1_0\n3,1\n"),
    ("qwk", "fractional rating", "id,p\n1,1\n2,2.5\n3,2\n"),
    ("qwk", "rating text", "id,p\n1,1\n2,high\n3,2\n"),
    # numbers
    ("binary", "NaN spellings", "id,p\n1,nan\n2,NA\n3,-nan\n"),
    ("binary", "null and none", "id,p\n1,null\n2,None\n3,#N/A\n"),
    ("binary", "out of range", "id,p\n1,1.5\n2,-0.1\n3,0.5\n"),
    ("binary", "non-numeric", "id,p\n1,abc\n2,0.5\n3,0x1\n"),
    ("binary", "plus signs", "id,p\n1,+0.5\n2,+.25\n3,+1e-1\n"),
    ("binary", "underscores and other digits", "id,p\n1,0.5\n2,0_5\n3,\u0661\n"),
    ("binary", "odd but valid numbers", "id,p\n1,.5\n2,5.e-1\n3,-0\n"),
    ("binary", "exponents", "id,p\n1,1e-400\n2,5E-1\n3,0.1e+0\n"),
    ("rmsle", "infinite", "id,p\n1,inf\n2,1e400\n3,5\n"),
    ("rmsle", "Infinity", "id,p\n1,Infinity\n2,-inf\n3,5\n"),
    ("rmsle", "negative", "id,p\n1,-1\n2,2\n3,5\n"),
    ("rmsle", "long digits", "id,p\n1,1." + "3" * 400 + "\n2,0." + "0" * 40 + "1\n3,12345678901234567890\n"),
    ("rmsle", "huge", "id,p\n1,1e308\n2,1\n3,1\n"),
    ("multi", "zero row", "id,setosa,versicolor,virginica\n1,0,0,0\n2,0.2,0.3,0.5\n3,1,0,0\n"),
    ("multi", "valid", "id,virginica,setosa,versicolor\n3,0,0,1\n2,0.2,0.3,0.5\n1,1,0,0\n"),
    ("multi", "a column short", "id,setosa,versicolor,virginica\n1,0.1,0.2\n2,0.2,0.3,0.5\n3,1,0,0\n"),
]


@pytest.mark.parametrize(("answers", "name", "content"), MALFORMED, ids=[f"{a}: {n}" for a, n, _ in MALFORMED])
def test_both_paths_refuse_alike(tmp_path: Path, answers: str, name: str, content: str | bytes) -> None:
    spec, ids, truth = ANSWERS[answers]
    both(write(tmp_path, content), spec, answers_of(ids, truth, spec))


def test_the_corpus_reaches_every_code() -> None:
    """The malformed corpus is not a set of valid files: it raises every check of reading."""
    codes = set()
    for answers, _, content in MALFORMED:
        spec, ids, truth = ANSWERS[answers]
        with pytest.MonkeyPatch.context() as patch, tempfile.TemporaryDirectory() as folder:
            patch.setattr(_grading, "FAST_MAX_ROWS", ON)
            outcome = grade(write(Path(folder), content), spec, answers_of(ids, truth, spec), fast=True)
        codes.add(outcome.error[1] if outcome.error else "ok")
    assert codes >= {
        "ok", "empty", "encoding", "not_csv", "wrong_row_count", "missing_columns", "extra_columns",
        "duplicate_ids", "extra_ids", "missing_ids", "nan", "non_numeric", "out_of_range", "infinite",
        "negative_values", "bad_labels", "zero_probabilities",
    }, codes


def test_answers_with_duplicate_ids_fail_alike(tmp_path: Path) -> None:
    answers = answers_of([1, 1, 2], [0, 1, 1], TITANIC)
    outcome = both(write(tmp_path, "id,p\n1,0\n2,1\n"), TITANIC, answers)
    assert outcome.error is not None and outcome.error[0] == "TaskFormatError"


@pytest.mark.parametrize("dtype", ["float32", "Int64", "object"])
def test_unusual_id_dtypes_grade_alike(tmp_path: Path, dtype: str) -> None:
    answers = answers_of([1, 2, 3], [0, 1, 1], TITANIC)
    answers["id"] = answers["id"].astype(dtype)
    both(write(tmp_path, "id,p\n1,0\n2.0,1\n3,1\n"), TITANIC, answers)


# --------------------------------------------------------------------------- the parts


def tricky_numbers(rng: random.Random) -> Iterator[str]:
    digits = "0123456789"
    for _ in range(20_000):
        mantissa = "".join(rng.choice(digits) for _ in range(rng.randint(1, 25)))
        point = rng.randint(0, len(mantissa))
        if rng.random() < 0.6:
            mantissa = mantissa[:point] + "." + mantissa[point:]
        exponent = rng.choice(["", f"e{rng.randint(-340, 320)}", f"E+{rng.randint(0, 40)}", f"e-0{rng.randint(0, 9)}"])
        yield rng.choice(["", "-", "+"]) + mantissa + exponent


def test_numbers_the_fast_path_takes_parse_as_pandas_does() -> None:
    """The fast path's number pattern admits only what float() parses exactly as pandas.to_numeric
    (which reads "+1e30" one ulp off): bit for bit over many exponents and lengths."""
    texts = list(tricky_numbers(random.Random(0)))
    admitted = [text for text in texts if _grading._NUMBERS.fullmatch(text)]
    assert len(admitted) > len(texts) // 2
    assert not any(text.startswith("+") for text in admitted)
    theirs = pd.to_numeric(pd.Series(admitted, dtype=object), errors="coerce").to_numpy(dtype=float)
    ours = np.array(admitted, dtype=float)
    assert ours.tobytes() == theirs.tobytes()


SMALL = [(name, metric) for name, metric in _metrics.METRICS.items() if metric.small is not None]


@pytest.mark.parametrize(("name", "metric"), SMALL, ids=[name for name, _ in SMALL])
def test_small_metrics_equal_sklearn_bit_for_bit(name: str, metric: _metrics.Metric) -> None:
    assert metric.small is not None
    rng = np.random.default_rng(0)
    for n in (1, 2, 7, 40, 333, 5000):
        for _ in range(10):
            if metric.kind == frozenset({_grading.PredictionKind.LABEL}):  # keys: strings
                classes = int(rng.integers(1, 12))
                y_true = rng.integers(0, classes, n).astype(str).astype(object)
                y_pred = rng.integers(0, classes + 1, n).astype(str).astype(object)
            else:
                y_true = rng.random(n) * 10.0 ** rng.integers(-3, 7)
                y_pred = y_true * rng.uniform(0.5, 1.5, n)
            assert bits(metric.small(y_true, y_pred)) == bits(metric.fn(y_true, y_pred)), n


@pytest.mark.parametrize(("name", "metric"), SMALL, ids=[name for name, _ in SMALL])
def test_small_metrics_leave_bad_input_to_sklearn(name: str, metric: _metrics.Metric) -> None:
    """Misshapen or non-finite input gets sklearn's own error, not a number."""
    assert metric.small is not None
    truth = np.array([1.0, 2.0, 3.0])
    bad = [np.array([1.0, 2.0])]
    if metric.kind != frozenset({_grading.PredictionKind.LABEL}):  # labels are keys: never NaN
        bad += [np.array([1.0, np.inf, 2.0]), np.array([1.0, np.nan, 2.0])]
    for pred in bad:
        with pytest.raises(ValueError) as fast:
            metric.small(truth, pred)
        with pytest.raises(ValueError) as slow:
            metric.fn(truth, pred)
        assert str(fast.value) == str(slow.value)


def test_the_comparison_sees_one_ulp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """If the fast path were one ulp off, the comparison would say so."""
    predictions = _grading._small_predictions

    def off(*args: Any) -> Any:
        values = predictions(*args)
        return np.nextafter(values, np.inf) if isinstance(values, np.ndarray) else values

    monkeypatch.setattr(_grading, "_small_predictions", off)
    spec, ids, truth = ANSWERS["rmsle"]
    answers = answers_of(ids, truth, spec)
    write(tmp_path, "id,p\n1,1.5\n2,2.25\n3,299\n")
    with pytest.raises(AssertionError):
        assert_same(grade(tmp_path, spec, answers, fast=False), grade(tmp_path, spec, answers, fast=True))


def test_only_small_submissions_take_the_fast_path(tmp_path: Path, spy: Spy, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_grading, "FAST_MAX_ROWS", 3)
    write(tmp_path, "id,p\n1,0\n2,1\n3,1\n")
    assert len(read_submission(tmp_path, TITANIC, pd.Series([1, 2, 3]))) == 3
    assert spy.read == [True]
    with pytest.raises(SubmissionError, match="missing ids: 4"):
        read_submission(tmp_path, TITANIC, pd.Series([1, 2, 3, 4]))
    assert spy.read == [True]  # four ids: the pandas path alone
