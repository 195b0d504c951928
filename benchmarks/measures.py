"""What the benchmarks of this folder measure alike: percentiles, the host's busy CPU time, the CPU
time of a process tree, the floor a run is compared with (``fork()`` + ``os._exit`` of the same
preloaded interpreter, and the snippet run in-process), CPU-bound load, and a progress line
(``python benchmarks/x.py`` puts the folder on the path).

The floor is measured in a fresh ``python benchmarks/measures.py floor`` process, so that the
benchmark's own children (pools, nsjail, zygotes) never reach its CPU counters, and so that the
interpreter is the zygote's: ``sys.executable`` with the preload list imported, ``gc.freeze()``, and
its heap collapsed into huge pages (the zygote's own ``collapse_heap``). The floor before that
collapse is reported too (``fork_cpu_ms_4k``), to compare with reports older than it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import importlib
import importlib.util
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Collection, Iterator, Sequence
from pathlib import Path
from types import ModuleType

import psutil

THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS")
FORK_WARMUP = 5  # untimed forks first: the first ones fault in the parent's page tables


def percentile(samples: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0..100), linear between order statistics; None for no samples."""
    if not samples:
        return None
    ordered = sorted(samples)
    pos = (len(ordered) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """``numerator / denominator`` rounded for a report, or None when either is missing or 0."""
    if numerator is None or not denominator:
        return None
    return round(numerator / denominator, 2)


def host_busy_s() -> float:
    """Busy CPU seconds of the whole host (all CPUs), time stolen by the hypervisor included."""
    times = psutil.cpu_times()
    return sum(getattr(times, name, 0.0) for name in ("user", "nice", "system", "irq", "softirq", "steal"))


def tree_cpu_s(exclude: Collection[int] = ()) -> float:
    """CPU seconds of this process and its live descendants, with the children each has reaped
    (a run's CPU reaches its zygote, or this process, when the run is reaped); the processes in
    ``exclude`` (a CPU load of our own) are left out."""
    me = psutil.Process()
    return sum(cpu_s(proc) for proc in [me, *me.children(recursive=True)] if proc.pid not in exclude)


def cpu_s(proc: psutil.Process) -> float:
    """CPU seconds of ``proc`` and the children it has reaped (0 if it is gone)."""
    try:
        times = proc.cpu_times()
    except psutil.Error:
        return 0.0
    return float(times.user + times.system + times.children_user + times.children_system)


def single_thread_env() -> dict[str, str]:
    return {**os.environ, **dict.fromkeys(THREAD_VARS, "1")}


def progress(message: str) -> None:
    """A time-stamped line on stderr (stdout is the results')."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------ load


@contextlib.contextmanager
def cpu_load(processes: int) -> Iterator[frozenset[int]]:
    """``processes`` busy loops (one thread each) while the block runs; yields their pids, for
    ``tree_cpu_s(exclude=...)``. They are killed and reaped when the block ends."""
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(processes)]
    try:
        time.sleep(0.2)  # let them start spinning before anything is timed
        yield frozenset(proc.pid for proc in busy)
    finally:
        for proc in busy:
            proc.kill()
        for proc in busy:
            proc.wait()


# ------------------------------------------------------------------ the floor


@dataclasses.dataclass(frozen=True)
class Floor:
    """What a run costs at the least, in one interpreter with ``preload`` imported.

    ``fork_*``: ``os.fork()`` then ``os._exit(0)`` in the child, reaped with ``waitpid`` (wall per
    fork; CPU per fork of the whole tree, parent and child). ``inproc_*``: the snippet compiled and
    exec'd in that interpreter, no fork (wall per run; CPU per run). ``fork_cpu_ms_4k``: the fork's
    CPU before the heap was collapsed into huge pages (``huge_pages_mb`` of it), as the zygote does.
    """

    preload: tuple[str, ...]
    fork_wall_ms: list[float]
    fork_cpu_ms: float
    fork_parent_cpu_ms: float
    fork_child_cpu_ms: float
    fork_cpu_ms_4k: float
    huge_pages_mb: int
    inproc_wall_ms: list[float]
    inproc_cpu_ms: float

    def summary(self) -> dict[str, object]:
        """The numbers without the samples, rounded for a report."""
        return {
            "preload": list(self.preload),
            "fork_wall_p50_ms": round(percentile(self.fork_wall_ms, 50) or 0.0, 3),
            "fork_wall_p95_ms": round(percentile(self.fork_wall_ms, 95) or 0.0, 3),
            "fork_cpu_ms": round(self.fork_cpu_ms, 3),
            "fork_parent_cpu_ms": round(self.fork_parent_cpu_ms, 3),
            "fork_child_cpu_ms": round(self.fork_child_cpu_ms, 3),
            "fork_cpu_ms_4k": round(self.fork_cpu_ms_4k, 3),
            "huge_pages_mb": self.huge_pages_mb,
            "inproc_wall_p50_ms": round(percentile(self.inproc_wall_ms, 50) or 0.0, 4),
            "inproc_cpu_ms": round(self.inproc_cpu_ms, 4),
        }


def measure_floor(preload: Sequence[str], snippet: str, repeat: int, cwd: str | os.PathLike[str]) -> Floor:
    """The floor for ``preload`` and ``snippet``, measured in a fresh ``sys.executable`` run in ``cwd``
    (where the snippet may write), one thread per library as the benchmarks' runs have."""
    argument = json.dumps({"preload": list(preload), "snippet": snippet, "repeat": repeat})
    proc = subprocess.run([sys.executable, os.path.abspath(__file__), "floor", argument], cwd=cwd,
                          env=single_thread_env(), capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"measuring the fork floor failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return Floor(**{**json.loads(proc.stdout.splitlines()[-1]), "preload": tuple(preload)})


def _cpu_s(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _fork_and_exit() -> None:
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)


def _zygote_module() -> ModuleType:
    """``sandbox/_zygote.py`` loaded alone, as the jail runs it (it imports the standard library only):
    importing the ``sandbox`` package would grow the heap whose forks are measured."""
    found = importlib.util.find_spec("sandbox")
    assert found is not None and found.submodule_search_locations
    spec = importlib.util.spec_from_file_location("zygote", Path(found.submodule_search_locations[0]) / "_zygote.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _forks(repeat: int) -> tuple[list[float], float, float]:
    """Wall ms of each of ``repeat`` forks, and the CPU ms per fork of the parent and of the child."""
    for _ in range(FORK_WARMUP):
        _fork_and_exit()
    walls = []
    parent, children = _cpu_s(resource.RUSAGE_SELF), _cpu_s(resource.RUSAGE_CHILDREN)
    for _ in range(repeat):
        started = time.perf_counter()
        _fork_and_exit()
        walls.append((time.perf_counter() - started) * 1000)
    return (walls, (_cpu_s(resource.RUSAGE_SELF) - parent) * 1000 / repeat,
            (_cpu_s(resource.RUSAGE_CHILDREN) - children) * 1000 / repeat)


def _floor_here(preload: Sequence[str], snippet: str, repeat: int) -> dict[str, object]:
    """Measure the floor in this process (``measures.py floor``): nothing else forks here, so
    RUSAGE_CHILDREN holds only the forked children."""
    collapse_heap = _zygote_module().collapse_heap
    for module in preload:
        importlib.import_module(module)
    gc.collect()
    gc.freeze()  # as the zygote does before it forks
    _, parent_4k, child_4k = _forks(repeat)
    huge_mb = collapse_heap(60.0)  # as the zygote does before it says ready
    walls, parent_ms, child_ms = _forks(repeat)
    exec(compile(snippet, "<snippet>", "exec"), {"__name__": "__main__"})  # once untimed: first-call costs
    inproc, cpu = [], time.process_time()
    for _ in range(repeat):
        started = time.perf_counter()
        exec(compile(snippet, "<snippet>", "exec"), {"__name__": "__main__"})  # a run compiles its code too
        inproc.append((time.perf_counter() - started) * 1000)
    return {"fork_wall_ms": walls, "fork_cpu_ms": parent_ms + child_ms, "fork_parent_cpu_ms": parent_ms,
            "fork_child_cpu_ms": child_ms, "fork_cpu_ms_4k": parent_4k + child_4k, "huge_pages_mb": huge_mb,
            "inproc_wall_ms": inproc, "inproc_cpu_ms": (time.process_time() - cpu) * 1000 / repeat}


if __name__ == "__main__" and sys.argv[1:2] == ["floor"]:
    request = json.loads(sys.argv[2])
    print(json.dumps(_floor_here(request["preload"], request["snippet"], request["repeat"])))
