"""How many spares a pool keeps ready: enough to cover the runs that arrive while spares are made.

By Little's law, the spares in the pipeline (ready or being made) that a steady stream of runs
needs is the arrival rate times the time a spare takes from request to ready.  The pool keeps at
least ``floor`` (its ``spares``) and at most ``ceiling``: a burst raises the target, and the target
falls back to the floor once the burst is ``window_s`` old.
"""

from __future__ import annotations

import collections
import math

import attrs

WINDOW_S = 2.0
LEAD_WEIGHT = 0.2  # the weight of a new lead time in the moving average
HEADROOM = 1.5  # above the mean need: arrivals and lead times both vary


@attrs.define
class SpareDemand:
    """The target number of spares, from the runs seen and the spares made.

    Every method takes ``now`` (``time.monotonic()``), so that the arithmetic is testable without
    a clock.  With ``ceiling <= floor`` the target is always ``floor`` (adaptation off).
    """

    floor: int
    ceiling: int
    window_s: float = WINDOW_S
    _arrivals: collections.deque[float] = attrs.field(factory=collections.deque, init=False)
    _requests: collections.deque[float] = attrs.field(factory=collections.deque, init=False)
    _lead_s: float | None = attrs.field(default=None, init=False)

    @property
    def lead_s(self) -> float | None:
        """The moving average of the time from a spare's request to its being ready (None before one)."""
        return self._lead_s

    def arrived(self, now: float) -> None:
        """A run wants a spare."""
        self._arrivals.append(now)
        self._forget(now)

    def requested(self, now: float) -> None:
        """A spare was asked of the zygote."""
        self._requests.append(now)

    def answered(self) -> float | None:
        """A spare came: when it was asked for (the zygote forks in order), or None if unknown."""
        return self._requests.popleft() if self._requests else None

    def lead(self, seconds: float) -> None:
        """A spare took ``seconds`` from its request to being ready for a run."""
        lead = max(0.0, seconds)
        self._lead_s = lead if self._lead_s is None else self._lead_s + LEAD_WEIGHT * (lead - self._lead_s)

    def lost(self) -> None:
        """The requests in flight will never be answered (the zygote is gone): forget them."""
        self._requests.clear()

    def rate(self, now: float) -> float:
        """Runs per second: the gaps between the runs of the last ``window_s``, over the time since
        the first of them (at least an eighth of the window, so that two runs close together are
        not a flood; one run alone is no stream).  A burst shorter than the window counts at its
        own rate, and decays as it ages."""
        self._forget(now)
        if not self._arrivals:
            return 0.0
        return (len(self._arrivals) - 1) / max(now - self._arrivals[0], self.window_s / 8)

    def target(self, now: float) -> int:
        """How many spares should be ready or on their way now."""
        if self.ceiling <= self.floor or self._lead_s is None:
            return self.floor
        need = math.ceil(self.rate(now) * self._lead_s * HEADROOM)
        return max(self.floor, min(self.ceiling, need))

    def _forget(self, now: float) -> None:
        while self._arrivals and self._arrivals[0] < now - self.window_s:
            self._arrivals.popleft()
