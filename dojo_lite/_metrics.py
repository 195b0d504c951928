"""The built-in metrics, each with its natural direction and the prediction kinds it grades.

A metric is a plain function ``fn(y_true, y_pred) -> float`` on NumPy arrays that the grading
layer has already checked and aligned (see ``_grading.score_submission``):

- label metrics get two 1-D arrays of labels of one type, or two 1-D float arrays when their labels are
  numeric ratings (``Metric.ratings``);
- probability metrics get the truth as 0/1 (binary) or as class indices ``0..K-1`` (multi-class),
  and 1-D probabilities of the positive class (binary) or an ``(n, K)`` array (multi-class);
- value metrics get two 1-D float arrays.
"""

from __future__ import annotations

import enum
from collections.abc import Callable

import attrs
import numpy as np
from numpy.typing import NDArray
from sklearn import metrics as skm

from ._errors import SubmissionError, TaskFormatError

__all__ = ["METRICS", "Direction", "Metric", "PredictionKind", "get_metric"]

# Kaggle clips probabilities to [eps, 1 - eps] before taking logs, so one confident miss costs
# about 34.5 instead of infinity.
LOG_LOSS_EPS = 1e-15


class Direction(enum.Enum):
    """Whether a higher or a lower score is better."""

    MAXIMIZE = "maximize"
    MINIMIZE = "minimize"

    def better(self, a: float, b: float) -> bool:
        """True when score ``a`` is strictly better than ``b`` (False for ties and for NaN)."""
        return a > b if self is Direction.MAXIMIZE else a < b


class PredictionKind(enum.Enum):
    """What a submission's prediction columns hold (``prediction_kind`` in task.toml)."""

    LABEL = "label"                # one column of class labels
    PROBABILITY = "probability"    # P(positive) in one column, or one column per class
    VALUE = "value"                # one column of numbers (regression, forecasts)


MetricFn = Callable[[NDArray[np.generic], NDArray[np.generic]], float]


@attrs.frozen
class Metric:
    """A named metric: ``fn(y_true, y_pred)``, its direction and the kinds it accepts.

    What the metric itself demands of a submission is said here, so that grading checks it for any
    metric that demands it (and says why in the metric's own words):

    - ``multiclass``: it also takes one probability column per class (2-D predictions);
    - ``non_negative``: why predictions must be >= 0, completing "<name> ..." (rmsle: "takes
      log(1 + prediction)"), or None when negative values are fine;
    - ``ratings``: its labels are numeric ratings, compared as numbers (``"2.0"`` is rating 2, and
      text that is not a number is an error), not as label strings;
    - ``small``: the same score as ``fn``, bit for bit, without sklearn's checks of its input (a
      millisecond, more than the metric itself on a small submission), or None where ``fn`` is
      cheap already or has no such twin here. Grading uses it for small inputs.
    """

    name: str
    direction: Direction
    kind: frozenset[PredictionKind]
    fn: MetricFn
    multiclass: bool = False
    non_negative: str | None = None
    ratings: bool = False
    small: MetricFn | None = None


def _accuracy(y_true: NDArray[np.generic], y_pred: NDArray[np.generic]) -> float:
    return float(skm.accuracy_score(y_true, y_pred))


def _accuracy_small(y_true: NDArray[np.generic], y_pred: NDArray[np.generic]) -> float:
    """The share of equal labels, averaged by numpy as sklearn does."""
    if np.shape(y_true) != np.shape(y_pred) or np.ndim(y_true) != 1:
        return _accuracy(y_true, y_pred)  # sklearn says what is wrong
    return float(np.average(np.asarray(y_true) == np.asarray(y_pred)))


def _finite_or(fn: MetricFn, small: Callable[[NDArray[np.float64], NDArray[np.float64]], float]) -> MetricFn:
    """``small`` on two finite 1-D float arrays of one length; ``fn``, whose sklearn checks say what
    is wrong, on anything else."""
    def metric(y_true: NDArray[np.generic], y_pred: NDArray[np.generic]) -> float:
        truth, pred = np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float)
        if truth.shape != pred.shape or truth.ndim != 1 or not (np.isfinite(truth).all() and np.isfinite(pred).all()):
            return fn(y_true, y_pred)
        return small(truth, pred)
    return metric


def _root_mean_square(errors: NDArray[np.float64]) -> float:
    return float(np.sqrt(np.mean(errors ** 2)))


def _roc_auc(y_true: NDArray[np.generic], y_pred: NDArray[np.generic]) -> float:
    # sklearn returns NaN with a warning here; the answers, not the agent, are at fault.
    if len(np.unique(y_true)) < 2:
        raise TaskFormatError("roc_auc needs both classes (0 and 1) among the answers")
    return float(skm.roc_auc_score(y_true, y_pred))


def _log_loss(y_true: NDArray[np.generic], y_pred: NDArray[np.generic]) -> float:
    """Binary (1-D P(positive), truth 0/1) or multi-class ((n, K) probabilities, truth 0..K-1).

    As on Kaggle, multi-class rows are first divided by their sum (a row of zeros, which has no
    sum to divide by, is SubmissionError ``zero_probabilities``), then probabilities are clipped
    to ``[1e-15, 1 - 1e-15]``.
    """
    p = np.asarray(y_pred, dtype=float)
    truth = np.asarray(y_true).astype(int)
    if p.ndim == 1:
        p = np.clip(p, LOG_LOSS_EPS, 1 - LOG_LOSS_EPS)
        return float(-np.mean(truth * np.log(p) + (1 - truth) * np.log(1 - p)))
    sums = p.sum(axis=1, keepdims=True)
    if not (sums > 0).all():
        raise SubmissionError("zero_probabilities", f"{int((sums <= 0).sum())} rows have probabilities that are "
                              "all 0; give each row at least one positive probability")
    p = p / sums
    p = np.clip(p, LOG_LOSS_EPS, 1 - LOG_LOSS_EPS)
    return float(-np.mean(np.log(p[np.arange(len(truth)), truth])))


def _rmse(y_true: NDArray[np.generic], y_pred: NDArray[np.generic]) -> float:
    return float(skm.root_mean_squared_error(y_true, y_pred))


def _rmsle(y_true: NDArray[np.generic], y_pred: NDArray[np.generic]) -> float:
    return float(skm.root_mean_squared_log_error(y_true, _logs_defined(y_true, y_pred)))


def _logs_defined(y_true: NDArray[np.generic], y_pred: NDArray[np.generic]) -> NDArray[np.float64]:
    """The predictions as floats, once answers and predictions are known to be >= 0."""
    pred = np.asarray(y_pred, dtype=float)
    if np.any(np.asarray(y_true, dtype=float) < 0):
        raise TaskFormatError("rmsle needs non-negative answers")
    negative = np.flatnonzero(pred < 0)
    if len(negative):
        raise SubmissionError(
            "negative_values",
            f"rmsle takes log(1 + prediction): predictions must be >= 0, found {len(negative)} negative "
            f"(e.g. {pred[negative[0]]!r}); clip them to 0",
        )
    return pred


def _mae(y_true: NDArray[np.generic], y_pred: NDArray[np.generic]) -> float:
    return float(skm.mean_absolute_error(y_true, y_pred))


def _smape(y_true: NDArray[np.generic], y_pred: NDArray[np.generic]) -> float:
    """``100/n * sum(2|F - A| / (|A| + |F|))`` in percent, where a 0/0 term counts 0."""
    actual = np.asarray(y_true, dtype=float)
    forecast = np.asarray(y_pred, dtype=float)
    denominator = np.abs(actual) + np.abs(forecast)
    numerator = 2 * np.abs(forecast - actual)
    # denominator is 0 only when both are 0, so the numerator is 0 too: that term is 0.
    terms = np.divide(numerator, denominator, out=np.zeros_like(numerator), where=denominator != 0)
    return float(100 * np.mean(terms))


def _macro_f1(y_true: NDArray[np.generic], y_pred: NDArray[np.generic]) -> float:
    # zero_division=0 is sklearn's default value, without the warning.
    return float(skm.f1_score(y_true, y_pred, average="macro", zero_division=0))


def _macro_f1_small(y_true: NDArray[np.generic], y_pred: NDArray[np.generic]) -> float:
    """The mean, over the labels that occur (in sorted order, as sklearn takes them), of each
    label's F1: ``2 TP / (true + predicted)``; no label has a zero denominator."""
    if np.shape(y_true) != np.shape(y_pred) or np.ndim(y_true) != 1 or not len(y_true):
        return _macro_f1(y_true, y_pred)  # sklearn says what is wrong
    try:
        _, codes = np.unique(np.concatenate([y_true, y_pred]), return_inverse=True)
    except TypeError:  # labels of mixed types: sklearn's error
        return _macro_f1(y_true, y_pred)
    truth, pred = codes[: len(y_true)], codes[len(y_true):]
    count = int(codes.max()) + 1
    hits = np.bincount(truth[truth == pred], minlength=count).astype(float)
    occurrences = np.bincount(truth, minlength=count).astype(float) + np.bincount(pred, minlength=count)
    return float(np.average(2.0 * hits / occurrences))


def _qwk(y_true: NDArray[np.generic], y_pred: NDArray[np.generic]) -> float:
    """Quadratic weighted kappa over the integer ratings ``min..max`` of both arrays (Kaggle's definition).

    sklearn alone would index only the ratings that occur, so an unused middle rating would shrink
    the distance between its neighbours; passing every rating in the range keeps distances true.
    """
    truth = np.asarray(y_true, dtype=float)
    pred = np.asarray(y_pred, dtype=float)
    if not np.all(truth == np.round(truth)):
        raise TaskFormatError("qwk needs integer ratings among the answers")
    bad = np.flatnonzero(pred != np.round(pred))
    if len(bad):
        raise SubmissionError(
            "bad_labels", f"qwk grades integer ratings; {len(bad)} predictions are not integers (e.g. {pred[bad[0]]!r})"
        )
    low, high = truth.min(), truth.max()
    outside = np.flatnonzero((pred < low - 1000) | (pred > high + 1000))
    if len(outside):
        # the rating range sizes a (range x range) matrix: keep it near the answers' scale
        raise SubmissionError("bad_labels", f"qwk grades ratings near {low:g}..{high:g}; {len(outside)} predictions "
                              f"are far outside it (e.g. {pred[outside[0]]!r})")
    if np.array_equal(truth, pred):
        # Perfect agreement: kappa is 1, or 0/0 when a single rating occurs; count that as 1 too.
        return 1.0
    both = np.concatenate([truth, pred]).astype(int)
    ratings = np.arange(both.min(), both.max() + 1)
    return float(skm.cohen_kappa_score(truth.astype(int), pred.astype(int), labels=ratings, weights="quadratic"))


_rmse_small = _finite_or(_rmse, lambda truth, pred: _root_mean_square(truth - pred))
_mae_small = _finite_or(_mae, lambda truth, pred: float(np.mean(np.abs(pred - truth))))
_rmsle_small = _finite_or(
    _rmsle, lambda truth, pred: _root_mean_square(np.log1p(truth) - np.log1p(_logs_defined(truth, pred)))
)

_MAX, _MIN = Direction.MAXIMIZE, Direction.MINIMIZE
_LABEL = frozenset({PredictionKind.LABEL})
_PROBABILITY = frozenset({PredictionKind.PROBABILITY})
_VALUE = frozenset({PredictionKind.VALUE})

METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("accuracy", _MAX, _LABEL, _accuracy, small=_accuracy_small),
        Metric("roc_auc", _MAX, _PROBABILITY, _roc_auc),
        Metric("log_loss", _MIN, _PROBABILITY, _log_loss, multiclass=True),
        Metric("rmse", _MIN, _VALUE, _rmse, small=_rmse_small),
        Metric("rmsle", _MIN, _VALUE, _rmsle, non_negative="takes log(1 + prediction)", small=_rmsle_small),
        Metric("mae", _MIN, _VALUE, _mae, small=_mae_small),
        Metric("smape", _MIN, _VALUE, _smape),
        Metric("macro_f1", _MAX, _LABEL, _macro_f1, small=_macro_f1_small),
        Metric("qwk", _MAX, _LABEL, _qwk, ratings=True),
    )
}


def get_metric(name: str) -> Metric:
    """The built-in metric called ``name``; TaskFormatError naming the known ones if there is none."""
    try:
        return METRICS[name]
    except KeyError:
        raise TaskFormatError(f"unknown metric {name!r}; known: {', '.join(sorted(METRICS))}") from None
