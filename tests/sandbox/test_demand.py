"""The spare demand: Little's law over a sliding window, between the pool's floor and ceiling."""

from __future__ import annotations

import math

import pytest

import sandbox
from sandbox._demand import HEADROOM, SpareDemand


def _streamed(floor: int, ceiling: int, lead_s: float, runs: int, gap_s: float) -> SpareDemand:
    """A demand that knows its lead time and saw ``runs`` runs ``gap_s`` apart from time 0."""
    demand = SpareDemand(floor=floor, ceiling=ceiling, window_s=2.0)
    demand.lead(lead_s)
    for i in range(runs):
        demand.arrived(i * gap_s)
    return demand


def test_the_floor_until_a_lead_time_is_known() -> None:
    demand = SpareDemand(floor=1, ceiling=4)
    for i in range(100):
        demand.arrived(i * 0.001)
    assert demand.lead_s is None
    assert demand.target(0.1) == 1


def test_the_target_is_rate_times_lead_with_headroom() -> None:
    demand = _streamed(1, 8, lead_s=0.05, runs=200, gap_s=0.01)  # 100 runs per second
    assert demand.rate(1.99) == pytest.approx(100.0, rel=0.01)
    assert SpareDemand(floor=1, ceiling=8).rate(5.0) == 0.0
    # 100/s * 0.05 s * 1.5 = 7.5 -> 8
    assert demand.target(1.99) == min(8, math.ceil(100 * 0.05 * HEADROOM))


def test_the_ceiling_caps_and_the_floor_holds() -> None:
    assert _streamed(2, 3, lead_s=0.5, runs=100, gap_s=0.01).target(1.0) == 3
    assert _streamed(2, 3, lead_s=0.5, runs=1, gap_s=0.0).target(0.1) == 2


def test_one_run_is_no_stream_and_two_close_together_are_no_flood() -> None:
    demand = SpareDemand(floor=1, ceiling=8, window_s=2.0)
    demand.arrived(0.0)
    assert demand.rate(0.0) == 0.0
    demand.arrived(0.001)
    assert demand.rate(0.001) == pytest.approx(1 / 0.25)


def test_a_burst_counts_at_its_own_rate_and_is_forgotten_after_the_window() -> None:
    demand = _streamed(1, 4, lead_s=0.1, runs=100, gap_s=0.005)
    assert demand.target(0.5) == 4
    assert demand.target(2.6) == 1


def test_no_adaptation_when_the_ceiling_is_the_floor() -> None:
    assert _streamed(0, 0, lead_s=1.0, runs=100, gap_s=0.001).target(0.1) == 0


def test_lead_times_are_a_moving_average() -> None:
    demand = SpareDemand(floor=1, ceiling=4)
    demand.lead(0.1)
    assert demand.lead_s == pytest.approx(0.1)
    demand.lead(0.6)  # the average moves a fifth of the way
    assert demand.lead_s == pytest.approx(0.1 + 0.2 * 0.5)
    demand.lead(-1.0)  # a clock step: never a negative lead
    assert demand.lead_s == pytest.approx(0.2 * 0.8)


def test_requests_are_answered_in_order_and_lost_ones_forgotten() -> None:
    demand = SpareDemand(floor=1, ceiling=4)
    demand.requested(1.0)
    demand.requested(2.0)
    assert demand.answered() == 1.0
    demand.lost()
    assert demand.answered() is None  # a spare of the next zygote: its request is not the lost one
    demand.requested(3.0)
    assert demand.answered() == 3.0


def test_a_pool_adapts_only_with_spares() -> None:
    assert sandbox.Pool(spares=0).max_spares == 0
    assert sandbox.Pool(spares=1).max_spares >= 1
    assert sandbox.Pool(spares=3, max_spares=2).max_spares == 3  # never below the floor
    assert sandbox.Pool(spares=1, max_spares=6).max_spares == 6
