"""A bounded, mergeable summary of durations, behind the schedulers' wait and run percentiles.

A scheduler embedded in a trainer lives for days and millions of runs: keeping every duration
grows without end, and shipping them all (a Ray node's statistics) grows every call.  So a
summary is exact while small, and past :data:`EXACT` samples it keeps counts in logarithmic
buckets, each ``GAMMA`` times as wide as the last: then a percentile is off by at most
``(GAMMA - 1) / (GAMMA + 1)`` (under 1%) of the sample at its rank, whatever the count, and the
summary holds at most about 1,300 buckets for durations between a microsecond and a day (a few
hundred for what a scheduler sees).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence

import attrs

__all__ = ["EXACT", "GAMMA", "Durations", "percentile"]

EXACT = 2048
"""Samples kept as they are before the summary turns to buckets."""
GAMMA = 1.02
"""Each bucket's upper bound over its lower one."""
_LOG_GAMMA = math.log(GAMMA)
_TINY = 1e-9  # a duration at or below this (a nanosecond) counts as zero
_HUGE = 1e12  # and one above this (30,000 years, or inf) as this


@attrs.define
class Durations:
    """Durations in seconds: :meth:`add` one, :meth:`merged` two summaries (say, two nodes'),
    read :meth:`percentile`, :attr:`count` and :attr:`max`.  Pickles small whatever its count."""

    count: int = 0
    max: float | None = None
    _exact: list[float] | None = attrs.field(factory=list, alias="exact")  # None once bucketed
    _buckets: dict[int, int] = attrs.field(factory=dict, alias="buckets")
    _zeros: int = attrs.field(default=0, alias="zeros")

    @classmethod
    def of(cls, values: Iterable[float]) -> Durations:
        summary = cls()
        for value in values:
            summary.add(value)
        return summary

    @property
    def is_exact(self) -> bool:
        """Whether every sample is kept as it is (then percentiles are exact)."""
        return self._exact is not None

    @property
    def size(self) -> int:
        """How many numbers the summary holds: at most :data:`EXACT`, or one per bucket."""
        return len(self._exact) if self._exact is not None else len(self._buckets) + 1

    def add(self, value: float) -> None:
        value = min(max(0.0, float(value)), _HUGE)
        self.count += 1
        self.max = value if self.max is None else max(self.max, value)
        if self._exact is None:
            self._bucket(value, 1)
            return
        self._exact.append(value)
        if len(self._exact) > EXACT:
            self._to_buckets()

    def merged(self, other: Durations) -> Durations:
        """A summary of both summaries' samples (neither changes); exact if both are and their
        samples together fit."""
        if self._exact is not None and other._exact is not None:
            return Durations.of([*self._exact, *other._exact])
        out = Durations(count=self.count + other.count, max=_max(self.max, other.max), exact=None,
                        buckets=dict(self._buckets), zeros=self._zeros)
        for part in (self, other) if self._exact is not None else (other,):
            if part._exact is not None:
                for value in part._exact:
                    out._bucket(value, 1)
            else:
                out._zeros += part._zeros
                for index, n in part._buckets.items():
                    out._buckets[index] = out._buckets.get(index, 0) + n
        return out

    def percentile(self, q: float) -> float | None:
        """The ``q``-th percentile (1 to 99, as :func:`statistics.quantiles` inclusive gives
        them), or None with no samples.  Exact while :attr:`is_exact`; else the middle of the
        bucket of the sample at rank ``round((count - 1) * q / 100)``, capped at :attr:`max`."""
        if self.count == 0:
            return None
        if self._exact is not None:
            return percentile(self._exact, q)
        rank = round((self.count - 1) * _whole(q) / 100)
        seen = self._zeros
        if rank < seen:
            return 0.0
        for index in sorted(self._buckets):
            seen += self._buckets[index]
            if rank < seen:
                return min(2 * GAMMA ** index / (GAMMA + 1), self.max or 0.0)
        return self.max  # unreachable while the counts add up

    def _to_buckets(self) -> None:
        exact, self._exact = self._exact or [], None
        for value in exact:
            self._bucket(value, 1)

    def _bucket(self, value: float, n: int) -> None:
        if value <= _TINY:
            self._zeros += n
            return
        index = math.ceil(math.log(value) / _LOG_GAMMA)  # value in (GAMMA**(index-1), GAMMA**index]
        self._buckets[index] = self._buckets.get(index, 0) + n


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (1 to 99) of ``values`` (:func:`statistics.quantiles`, inclusive),
    or None if there are none."""
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[_whole(q) - 1]


def _whole(q: float) -> int:
    """``q`` as a whole percentile, 1 to 99."""
    return min(99, max(1, int(q)))


def _max(a: float | None, b: float | None) -> float | None:
    if a is None or b is None:
        return a if b is None else b
    return max(a, b)
