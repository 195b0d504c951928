"""The built-in metrics: values computed by hand, directions, and what each rejects."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

from dojo_lite._errors import SubmissionError, TaskFormatError
from dojo_lite._metrics import METRICS, Direction, PredictionKind, get_metric


def score(name: str, y_true: Sequence[Any], y_pred: Sequence[Any]) -> float:
    return get_metric(name).fn(np.array(y_true), np.array(y_pred))


@pytest.mark.parametrize(("name", "direction", "kind"), [
    ("accuracy", Direction.MAXIMIZE, PredictionKind.LABEL),
    ("roc_auc", Direction.MAXIMIZE, PredictionKind.PROBABILITY),
    ("log_loss", Direction.MINIMIZE, PredictionKind.PROBABILITY),
    ("rmse", Direction.MINIMIZE, PredictionKind.VALUE),
    ("rmsle", Direction.MINIMIZE, PredictionKind.VALUE),
    ("mae", Direction.MINIMIZE, PredictionKind.VALUE),
    ("smape", Direction.MINIMIZE, PredictionKind.VALUE),
    ("macro_f1", Direction.MAXIMIZE, PredictionKind.LABEL),
    ("qwk", Direction.MAXIMIZE, PredictionKind.LABEL),
])
def test_every_metric_has_its_natural_direction(name: str, direction: Direction, kind: PredictionKind) -> None:
    metric = get_metric(name)
    assert metric.name == name
    assert metric.direction is direction
    assert metric.kind == frozenset({kind})
    assert metric.multiclass is (name == "log_loss")


def test_the_registry_holds_exactly_the_documented_metrics() -> None:
    assert set(METRICS) == {"accuracy", "roc_auc", "log_loss", "rmse", "rmsle", "mae", "smape", "macro_f1", "qwk"}


def test_unknown_metric_names_the_known_ones() -> None:
    with pytest.raises(TaskFormatError, match=r"unknown metric 'f2'.*accuracy.*smape"):
        get_metric("f2")


def test_direction_better_is_strict() -> None:
    assert Direction.MAXIMIZE.better(2.0, 1.0) and not Direction.MAXIMIZE.better(1.0, 2.0)
    assert Direction.MINIMIZE.better(1.0, 2.0) and not Direction.MINIMIZE.better(2.0, 1.0)
    for direction in Direction:
        assert not direction.better(1.0, 1.0)
        assert not direction.better(math.nan, 1.0) and not direction.better(1.0, math.nan)
    assert Direction("maximize") is Direction.MAXIMIZE and Direction("minimize") is Direction.MINIMIZE


def test_accuracy() -> None:
    assert score("accuracy", [1, 0, 1, 1], [1, 1, 1, 0]) == 0.5
    assert score("accuracy", ["a", "b"], ["a", "b"]) == 1.0


def test_roc_auc() -> None:
    # Pairs (positive, negative): (0.35, 0.1) ok, (0.35, 0.4) wrong, (0.8, *) ok: 3 of 4.
    assert score("roc_auc", [0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == pytest.approx(0.75)


def test_roc_auc_needs_both_classes_in_the_answers() -> None:
    with pytest.raises(TaskFormatError, match="both classes"):
        score("roc_auc", [1, 1], [0.2, 0.3])


def test_binary_log_loss() -> None:
    assert score("log_loss", [1, 0], [0.8, 0.4]) == pytest.approx(-(math.log(0.8) + math.log(0.6)) / 2)


def test_log_loss_clips_like_kaggle() -> None:
    # A confident miss costs -log(1e-15), not infinity; a confident hit costs ~0.
    assert score("log_loss", [1], [0.0]) == pytest.approx(-math.log(1e-15))
    # (1 - 1e-15 is not exact in floating point, hence the tolerance)
    assert score("log_loss", [0], [1.0]) == pytest.approx(-math.log(1e-15), rel=1e-4)
    assert score("log_loss", [1, 0], [1.0, 0.0]) == pytest.approx(0.0, abs=1e-12)


def test_multiclass_log_loss_renormalises_rows() -> None:
    # Row 2 [1, 1, 2] becomes [0.25, 0.25, 0.5]: both rows give the true class 0.5.
    value = score("log_loss", [0, 2], [[0.5, 0.25, 0.25], [1.0, 1.0, 2.0]])
    assert value == pytest.approx(math.log(2))


def test_multiclass_log_loss_refuses_an_all_zero_row() -> None:
    """No distribution to renormalise: once read as uniform, which scored log(3) for nothing."""
    with pytest.raises(SubmissionError) as caught:
        score("log_loss", [1, 0], [[0.2, 0.8, 0.0], [0.0, 0.0, 0.0]])
    assert caught.value.code == "zero_probabilities" and "1 rows" in caught.value.message


def test_rmse() -> None:
    assert score("rmse", [1.0, 2.0, 3.0], [1.0, 2.0, 5.0]) == pytest.approx(math.sqrt(4 / 3))


def test_rmsle() -> None:
    # log1p(e - 1) = 1 and log1p(0) = 0: the squared errors are 0 and 1.
    assert score("rmsle", [0.0, math.e - 1], [0.0, 0.0]) == pytest.approx(math.sqrt(0.5))


def test_rmsle_rejects_negative_predictions() -> None:
    with pytest.raises(SubmissionError, match=r"must be >= 0.*-0\.5") as caught:
        score("rmsle", [1.0, 2.0], [1.0, -0.5])
    assert caught.value.code == "negative_values"


def test_rmsle_rejects_negative_answers_as_a_task_error() -> None:
    with pytest.raises(TaskFormatError):
        score("rmsle", [-1.0, 2.0], [1.0, 2.0])


def test_mae() -> None:
    assert score("mae", [1.0, 2.0, 3.0], [2.0, 2.0, 5.0]) == pytest.approx(1.0)


def test_smape() -> None:
    # Terms: 2*10/210, 0/0 -> 0, 2*50/50 = 2; mean times 100.
    assert score("smape", [100.0, 0.0, 50.0], [110.0, 0.0, 0.0]) == pytest.approx(100 / 3 * (20 / 210 + 2))
    assert score("smape", [0.0, 0.0], [0.0, 0.0]) == 0.0
    assert score("smape", [1.0, -1.0], [-1.0, 1.0]) == pytest.approx(200.0)


def test_macro_f1() -> None:
    # a: precision 1, recall 1/2, F1 2/3; b: precision 2/3, recall 1, F1 4/5.
    assert score("macro_f1", ["a", "a", "b", "b"], ["a", "b", "b", "b"]) == pytest.approx((2 / 3 + 4 / 5) / 2)


@pytest.mark.parametrize(("y_true", "y_pred", "expected"), [
    ([0, 0, 1, 1], [0, 1, 1, 1], 0.5),
    ([0, 2, 2], [0, 0, 2], 0.4),
    # Rating 2 never occurs but still counts in the distances (sklearn alone gives 2/3).
    ([0, 1, 3], [1, 1, 3], 20 / 23),
    ([1, 1, 1], [1, 1, 1], 1.0),
    ([3, 1, 2], [3, 1, 2], 1.0),
    ([1, 1, 1], [1, 2, 1], 0.0),
])
def test_qwk(y_true: list[int], y_pred: list[int], expected: float) -> None:
    assert score("qwk", y_true, y_pred) == pytest.approx(expected)


def test_qwk_rejects_non_integer_ratings() -> None:
    with pytest.raises(SubmissionError, match="not integers") as caught:
        score("qwk", [1, 2], [1.0, 1.5])
    assert caught.value.code == "bad_labels"
    with pytest.raises(TaskFormatError):
        score("qwk", [1.5, 2.0], [1.0, 2.0])


def test_metrics_return_python_floats() -> None:
    assert type(score("accuracy", [1], [1])) is float
    assert type(score("rmse", [1.0], [2.0])) is float


def test_what_each_metric_demands_of_a_submission() -> None:
    # Grading reads these, not the names: see test_submission's test_grading_asks_the_metric_not_its_name.
    assert {name: m.non_negative for name, m in METRICS.items() if m.non_negative} == {
        "rmsle": "takes log(1 + prediction)"}
    assert {name for name, m in METRICS.items() if m.ratings} == {"qwk"}
