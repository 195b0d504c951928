"""What the benchmarks of this folder measure with alike: percentiles, the host's busy CPU time,
a progress line (``python benchmarks/x.py`` puts the folder on the path)."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence

import psutil


def percentile(samples: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0..100), linear between order statistics; None for no samples."""
    if not samples:
        return None
    ordered = sorted(samples)
    pos = (len(ordered) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def host_busy_s() -> float:
    """Busy CPU seconds of the whole host (all CPUs), time stolen by the hypervisor included."""
    times = psutil.cpu_times()
    return sum(getattr(times, name, 0.0) for name in ("user", "nice", "system", "irq", "softirq", "steal"))


def progress(message: str) -> None:
    """A time-stamped line on stderr (stdout is the results')."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)
