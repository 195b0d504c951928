"""The wait and run time summaries: exact while small, bounded and within 1% after, mergeable."""

from __future__ import annotations

import pickle
import random
import statistics

import pytest

from dojo_lite._durations import EXACT, GAMMA, Durations

QS = (1, 5, 25, 50, 75, 95, 99)
BOUND = (GAMMA - 1) / (GAMMA + 1)  # the largest relative error of a bucket's middle


def _lognormal(n: int, seed: int) -> list[float]:
    rng = random.Random(seed)
    return [rng.lognormvariate(-4.0, 1.5) for _ in range(n)]  # 0.1 ms to seconds, like waits and runs


def _exact(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def test_small_summaries_are_exact() -> None:
    values = _lognormal(EXACT, seed=1)
    summary = Durations.of(values)
    assert summary.is_exact and summary.count == EXACT and summary.max == max(values)
    assert [summary.percentile(q) for q in QS] == [_exact(values, q) for q in QS]
    assert Durations().percentile(50) is None and Durations().max is None
    assert Durations.of([0.25]).percentile(95) == 0.25


def test_a_long_life_stays_small_and_within_one_percent() -> None:
    values = _lognormal(200_000, seed=2)
    summary = Durations.of(values)
    assert not summary.is_exact and summary.count == len(values) and summary.max == max(values)
    assert summary.size < 1_000, "bounded by the range of durations, not by their count"
    assert len(pickle.dumps(summary)) < 20_000, "what a Ray node ships per stats call stays small"
    ordered = sorted(values)
    for q in QS:
        got = summary.percentile(q)
        want = ordered[round((len(values) - 1) * q / 100)]
        assert got is not None and abs(got - want) <= BOUND * want * 1.0001, (q, got, want)


def test_merging_equals_summarising_the_union() -> None:
    a, b = _lognormal(50_000, seed=3), [v * 3 for v in _lognormal(30_000, seed=4)]
    small = _lognormal(100, seed=5)
    union = Durations.of(a + b + small)
    merged = Durations.of(a).merged(Durations.of(b)).merged(Durations.of(small))
    assert merged.count == union.count and merged.max == union.max
    assert [merged.percentile(q) for q in QS] == [union.percentile(q) for q in QS]
    flipped = Durations.of(small).merged(Durations.of(a).merged(Durations.of(b)))
    assert [flipped.percentile(q) for q in QS] == [union.percentile(q) for q in QS]
    # two exact summaries that fit stay exact
    two = Durations.of(small).merged(Durations.of(small))
    assert two.is_exact and two.percentile(50) == _exact(small + small, 50)


def test_zeros_and_negative_clock_steps_count_as_zero() -> None:
    summary = Durations.of([0.0] * 3000 + [-1e-6] * 10 + [0.5] * 1000)
    assert not summary.is_exact
    assert summary.percentile(50) == 0.0 and summary.percentile(99) == pytest.approx(0.5, rel=BOUND)
    assert summary.percentile(99) <= 0.5, "capped at the largest sample"


def test_out_of_range_asks_and_samples_are_clamped() -> None:
    summary = Durations.of([0.1, 0.2, float("inf")])
    assert summary.percentile(0) == summary.percentile(1) and summary.percentile(100) == summary.percentile(99)
    bucketed = Durations.of([0.1] * EXACT + [float("inf")])
    assert not bucketed.is_exact and bucketed.max == 1e12 and bucketed.percentile(50) == pytest.approx(0.1, rel=BOUND)
