"""Episode throughput: many concurrent episodes on one host, three ways, on the same workload.

The workload: four small tasks written to a temp dir by this script (the conftest toy task,
``y = x1 + x2``, 40 test rows, rmse, 1 CPU and 1 GiB per run), which differ only in their
preload list::

    tabular/bench-pd         numpy, pandas
    tabular/bench-pd-sk      numpy, pandas, sklearn
    tabular/bench-pd-lgb     numpy, pandas, lightgbm
    tabular/bench-pd-sk-lgb  numpy, pandas, sklearn, lightgbm

Episode ``i`` plays task ``i % 4`` and makes ``--executions`` (10) ``execute_code`` actions of one
snippet: ``trivial`` writes a precomputed, exact ``submission.csv`` with ``open().write`` (no
import); ``pandas`` reads ``input/test.csv`` with pandas and writes the prediction with ``to_csv``.
The paths, side by side in one run:

  (a)  MLE-Dojo's way: a fresh ``python -c 'import <preload>; <snippet>'`` per execution
       (``sys.executable``, one thread), in the episode's work dir (``input`` links to the data);
  (b)  a fresh nsjail jail per execution: ``dojo_lite.task_pool(task, spares=0)`` started, one
       ``pool.run``, closed (a new jail and zygote that imports the preload list every time);
  (s)  sandbox only: one warm ``task_pool`` per task (``spares=1``), ``pool.run`` per execution,
       no env, no grading (a label for the floor of (c), not a way to run episodes);
  (c)  dojo_lite: ``Scheduler.gather`` of the episodes, each a ``DojoEnv`` driven by an async
       scripted agent through ``run_episode``: admission, the warm zygotes the episodes of a task
       share, and grading of every execution in the controller.  Its pools start (and each runs one
       untimed execution) before the clock starts; its budgets are the defaults (the host's
       CPUs, 80% of its memory) and it writes no trajectories.

(a), (b) and (s) cap concurrency with ``asyncio.Semaphore(os.cpu_count())``; (c) with its own
admission (each run holds 1 CPU).  (a) and (b) cost about a second per execution here, so they
stop after ``--baseline-executions`` executions (the first to get a slot, across all the
episodes): throughput is per second, so the numbers compare.  (a) and (b) do not grade (it costs
a few ms, under 1% of their time); they check exit status ``ok`` and that ``submission.csv``
exists.  Every execution of every path must succeed, or the benchmark fails.

Measured per path: executions/s (executions over the wall time from the first request to the last
result); latency (request to result as the episode sees it: in (c), from the agent's action to
the next observation, grading included); queue wait (the semaphore, or the scheduler's
admission, per run); agent-code time (the sandbox's ``wall_s`` of the run); overhead, latency
minus wait minus agent-code time (for (c): the scheduler's and the env's own time, grading
included); CPU time per execution, of the controller (``time.process_time``, less the sampler
thread's) and of the whole process tree (with the runs its zygotes reaped); the host's busy CPU
time outside that tree, as a share of all its CPUs (other work on the host, the kernel's workers
and hypervisor steal: a busy host makes every number worse); and memory:
PSS (``psutil``'s ``memory_full_info().pss``, read from ``smaps_rollup``) summed over this process
and all its descendants (nsjail, zygotes, spares, runs, fresh processes), sampled every
``--sample-ms`` in a thread: the peak, and (peak - PSS before the clock starts) / episodes.  For
(c) also ``Scheduler.stats()``.

The floor, in the same run: for each task's preload list, ``fork()`` + ``os._exit`` of a fresh
interpreter with those modules imported (``gc.freeze()``d, like a zygote), in wall ms and in CPU ms
of parent and child, and the trivial snippet exec'd in that interpreter (the in-process time; it
does not grade): ``measures.measure_floor``. The tasks take equal shares of the episodes, so the
floor is the mean over the four. (c)'s whole-tree CPU per trivial execution is reported as a
ratio to it (grading, which the floor does not do, included).

Under load: (c), trivial, at the first episode count, again while ``--load`` CPU-bound processes
(busy loops, left out of the CPU counts) run beside it; its latency p50 and p95 against the quiet
run's.

Memory per idle episode: a scheduler with the four pools warm, then 0, 64 and 256 ``DojoEnv``
objects from ``sched.env(task)`` open and reset (not running); total PSS at each count (median
of 3 samples after a settle), and the least-squares slope in MB per episode.

Prints a table, writes every sample as JSON and a PNG plot to ``--out`` (a folder), and ends stdout
with one JSON line of headline numbers (``executions_per_s``: (c), trivial, 64 episodes;
``baseline_executions_per_s``: (a) on the same; ``memory_per_episode_mb``: the idle slope;
``cpu_ms_per_exec`` against ``fork_floor_cpu_ms``; ``loaded_p50_ratio`` and ``loaded_p95_ratio``)
and the issue's targets.  Run it from the repository root::

    .venv/bin/python benchmarks/episode_throughput.py            # full run: about 4 minutes
    .venv/bin/python benchmarks/episode_throughput.py --quick    # smoke test
    nox -s throughput -- --quick                                 # the same through nox
    .venv/bin/python benchmarks/episode_throughput.py --load 0   # no loaded run
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import gc
import json
import logging
import os
import platform
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Coroutine, Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import psutil
from measures import (
    Floor,
    cpu_load,
    cpu_s,
    host_busy_s,
    measure_floor,
    percentile,
    progress,
    ratio,
    single_thread_env,
    tree_cpu_s,
)
from toy_task import EXACT, write_toy_task

import dojo_lite
import sandbox

TASKS = {
    "tabular/bench-pd": ("numpy", "pandas"),
    "tabular/bench-pd-sk": ("numpy", "pandas", "sklearn"),
    "tabular/bench-pd-lgb": ("numpy", "pandas", "lightgbm"),
    "tabular/bench-pd-sk-lgb": ("numpy", "pandas", "sklearn", "lightgbm"),
}
SNIPPETS = {
    "trivial": f"open('submission.csv', 'w').write({EXACT!r})\n",
    "pandas": (
        "import pandas as pd\n"
        "test = pd.read_csv('input/test.csv')\n"
        "pd.DataFrame({'id': test.id, 'y': test.x1 + test.x2}).to_csv('submission.csv', index=False)\n"
    ),
}
PATHS = {
    "a": "(a) fresh python",
    "b": "(b) fresh jail",
    "s": "(s) warm pools, sandbox only",
    "c": "(c) dojo_lite scheduler",
}
DATA_INSIDE = "/data/full"  # where a task pool shows the full data (see dojo_lite.task_pool)
HEADLINE_EPISODES = 64
TARGET_EXECUTIONS_PER_S = 150.0
TARGET_SPEEDUP = 10.0
TARGET_IDLE_MB = 25.0
TARGET_CPU_OVER_FORK_FLOOR = 2.0
TARGET_LOADED_P50_RATIO = 3.0
TARGET_LOADED_P95_RATIO = 5.0
DEFAULT_OUT = Path(__file__).resolve().parent / "results"
MB = 1 << 20
CPUS = os.cpu_count() or 1


class RunFailed(RuntimeError):
    """A benchmarked execution did not succeed: the numbers would be meaningless."""


@dataclasses.dataclass
class Config:
    episodes: tuple[int, ...]      # concurrent episodes for (c); the first also for (a), (b), (s)
    executions: int                # execute_code actions per episode
    baseline_executions: int       # (a) and (b) stop after this many executions
    idle: tuple[int, ...]          # idle episode counts for the memory slope
    sample_ms: float               # PSS sampling period
    load: int                      # busy processes beside the loaded run of (c) (0: no loaded run)
    floor_repeat: int              # forks (and in-process runs) per task for the floor
    out: Path


@dataclasses.dataclass
class Sample:
    """One execution as its episode saw it."""

    episode: int
    task: str
    latency_s: float
    wait_s: float | None
    code_s: float | None           # the sandbox's wall_s of the run (None for (a))


@dataclasses.dataclass
class Measurement:
    """One path on one workload."""

    path: str
    snippet: str
    episodes: int
    elapsed_s: float
    controller_cpu_s: float        # this process (less the PSS sampler)
    tree_cpu_s: float              # this process and every descendant (less the PSS sampler)
    host_busy_s: float             # every CPU of the host, busy (steal included)
    pss_before: int
    pss_peak: int
    samples: list[Sample]
    scheduler: dict[str, Any] | None = None
    load: int = 0                  # busy processes beside it

    @property
    def executions(self) -> int:
        return len(self.samples)


@dataclasses.dataclass
class Workload:
    """The benchmark's tasks, written and prepared in a temp dir."""

    root: Path
    cache: Path
    tasks: list[dojo_lite.Task]

    def task_for(self, episode: int) -> dojo_lite.Task:
        return self.tasks[episode % len(self.tasks)]


# ------------------------------------------------------------------ statistics


def slope(points: dict[int, float]) -> float:
    """The least-squares slope of ``y`` over ``x``."""
    xs, ys = list(points), list(points.values())
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    spread = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / spread if spread else 0.0


def overheads(m: Measurement) -> list[float]:
    """Latency minus queue wait minus agent-code time, per execution that has both."""
    return [s.latency_s - (s.wait_s or 0.0) - s.code_s for s in m.samples if s.code_s is not None]


# ------------------------------------------------------------------ CPU and memory


def jail_cpu_s(pool: sandbox.Pool) -> float:
    """CPU seconds of what runs in a pool's jail (its zygote and the runs it reaped): init of the
    host reaps them when the pool closes, so this process tree never sees that time."""
    config = str(pool.directory / "nsjail.cfg")
    for proc in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if config in proc.cmdline():
                return sum(cpu_s(child) for child in proc.children(recursive=True))
    return 0.0


def pss(proc: psutil.Process) -> int:
    """A process's PSS in bytes: the kernel's own sum (``smaps_rollup``, the number psutil's
    ``memory_full_info().pss`` adds up from ``smaps``, at a third of the cost), else psutil's."""
    try:
        with open(f"/proc/{proc.pid}/smaps_rollup", "rb") as rollup:
            line = next(line for line in rollup if line.startswith(b"Pss:"))
        return int(line.split()[1]) * 1024
    except (OSError, StopIteration):
        return int(proc.memory_full_info().pss)


def total_pss(exclude: Collection[int] = ()) -> int:
    """PSS of this process and all its descendants but ``exclude``, in bytes (processes that
    vanish count 0)."""
    me = psutil.Process()
    total = 0
    for proc in [me, *me.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            total += 0 if proc.pid in exclude else pss(proc)
    return total


def settled_pss(samples: int = 3) -> int:
    """The median of a few PSS samples, after a garbage collection."""
    gc.collect()
    return int(statistics.median(total_pss() for _ in range(samples)))


class PeakSampler:
    """Samples total PSS in a thread while the block runs; ``peak`` is the largest sample and
    ``cpu_s`` the CPU time the sampling took (not the controller's: it is subtracted)."""

    def __init__(self, period_s: float, exclude: Collection[int] = ()) -> None:
        self.period_s = period_s
        self.exclude = exclude
        self.peak = 0
        self.cpu_s = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="pss-sampler", daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, total_pss(self.exclude))
            self.cpu_s = time.thread_time()
            self._stop.wait(self.period_s)

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, total_pss(self.exclude))


@contextlib.asynccontextmanager
async def measured(path: str, snippet: str, episodes: int, period_s: float,
                   busy: frozenset[int] = frozenset()) -> AsyncIterator[Measurement]:
    """Clock, controller CPU and peak PSS around the block; the block fills in the samples.
    ``busy``: the pids of a CPU load of ours, left out of the tree's CPU and PSS (they are our children)."""
    m = Measurement(path, snippet, episodes, 0.0, 0.0, 0.0, 0.0, settled_pss(), 0, [], load=len(busy))
    cpu, tree, host, started = time.process_time(), tree_cpu_s(busy), host_busy_s(), time.perf_counter()
    with PeakSampler(period_s, busy) as sampler:
        yield m
        m.elapsed_s = time.perf_counter() - started
        m.controller_cpu_s = time.process_time() - cpu - sampler.cpu_s
        m.tree_cpu_s = tree_cpu_s(busy) - tree - sampler.cpu_s
        m.host_busy_s = host_busy_s() - host
    m.pss_peak = sampler.peak


# ------------------------------------------------------------------ the workload


def make_workload(base: Path) -> Workload:
    """Write the four tasks under ``base/tasks`` and prepare their data in ``base/cache``."""
    root, cache = base / "tasks", base / "cache"
    tasks = [write_toy_task(root, task_id, preload=preload, cache=cache) for task_id, preload in TASKS.items()]
    return Workload(root, cache, tasks)


def check_result(result: sandbox.RunResult, where: str) -> None:
    if result.ok and any(change.path == "submission.csv" for change in result.files):
        return
    print(f"{where}: status={result.status.value} {result.message}\n--- stderr ---\n{result.stderr.text}",
          file=sys.stderr)
    raise RunFailed(f"{where}: run ended with status {result.status.value} (or wrote no submission.csv)")


def link_input(workdir: Path, target: str | Path) -> None:
    """``workdir/input`` -> the data, as DojoEnv does before each run."""
    link = workdir / "input"
    if not link.is_symlink():
        link.symlink_to(target)


# ------------------------------------------------------------------ (a), (b), (s): capped episodes

Execute = Callable[[dojo_lite.Task, int], Awaitable[float | None]]  # (task, episode) -> agent-code s


async def capped_episodes(m: Measurement, workload: Workload, executions: int, budget: int,
                          execute: Execute) -> None:
    """``m.episodes`` episodes of ``executions`` runs each, at most ``os.cpu_count()`` at once,
    stopping after ``budget`` executions in all (the first to get a slot)."""
    slots, started = asyncio.Semaphore(CPUS), [0]

    async def episode(index: int) -> None:
        task = workload.task_for(index)
        for _ in range(executions):
            requested = time.perf_counter()
            async with slots:
                if started[0] >= budget:
                    return
                started[0] += 1
                waited = time.perf_counter() - requested
                code_s = await execute(task, index)
            m.samples.append(Sample(index, task.id, time.perf_counter() - requested, waited, code_s))

    await asyncio.gather(*(episode(i) for i in range(m.episodes)))


def fresh_process(workload: Workload, base: Path, snippet: str) -> Execute:
    """(a): ``python -c 'import <preload>; <snippet>'`` in the episode's work dir."""
    env = single_thread_env()

    async def execute(task: dojo_lite.Task, episode: int) -> None:
        workdir = base / f"ep{episode}"
        workdir.mkdir(exist_ok=True)
        link_input(workdir, task.prepare("full", workload.cache).public)
        (workdir / "submission.csv").unlink(missing_ok=True)
        code = f"import {', '.join(task.preload)}\n{SNIPPETS[snippet]}"
        proc = await asyncio.create_subprocess_exec(sys.executable, "-c", code, cwd=workdir, env=env,
                                                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        _, err = await proc.communicate()
        if proc.returncode != 0 or not (workdir / "submission.csv").is_file():
            print(err.decode(errors="replace"), file=sys.stderr)
            raise RunFailed(f"{PATHS['a']} {task.id}: exit code {proc.returncode}")

    return execute


def fresh_jail(workload: Workload, snippet: str, jail_cpu: list[float]) -> Execute:
    """(b): a new task pool (jail, zygote, preload imports) per execution, closed after it; the
    CPU time of each jail's processes goes to ``jail_cpu``."""

    async def execute(task: dojo_lite.Task, episode: int) -> float:
        async with dojo_lite.task_pool(task, cache=workload.cache, spares=0, name="fresh") as pool:
            link_input(pool.workdir("run"), DATA_INSIDE)
            result = await pool.run(SNIPPETS[snippet], workdir="run", filename="solution.py")
            jail_cpu.append(jail_cpu_s(pool))
        check_result(result, f"{PATHS['b']} {task.id}")
        return result.wall_s

    return execute


def warm_pools(pools: dict[str, sandbox.Pool], snippet: str) -> Execute:
    """(s): ``pool.run`` on the task's warm pool, in the episode's work dir."""

    async def execute(task: dojo_lite.Task, episode: int) -> float:
        pool = pools[task.id]
        link_input(pool.workdir(f"ep{episode}"), DATA_INSIDE)
        result = await pool.run(SNIPPETS[snippet], workdir=f"ep{episode}", filename="solution.py")
        check_result(result, f"{PATHS['s']} {task.id}")
        return result.wall_s

    return execute


async def run_fresh_process(config: Config, workload: Workload, snippet: str) -> Measurement:
    with tempfile.TemporaryDirectory(prefix="bench-a-") as base:
        async with measured("a", snippet, config.episodes[0], config.sample_ms / 1000) as m:
            await capped_episodes(m, workload, config.executions, config.baseline_executions,
                                  fresh_process(workload, Path(base), snippet))
    return m


async def run_fresh_jail(config: Config, workload: Workload, snippet: str) -> Measurement:
    jail_cpu: list[float] = []
    async with measured("b", snippet, config.episodes[0], config.sample_ms / 1000) as m:
        await capped_episodes(m, workload, config.executions, config.baseline_executions,
                              fresh_jail(workload, snippet, jail_cpu))
    m.tree_cpu_s += sum(jail_cpu)
    return m


async def run_warm_pools(config: Config, workload: Workload, snippet: str) -> Measurement:
    async with contextlib.AsyncExitStack() as stack:
        pools = {t.id: await stack.enter_async_context(dojo_lite.task_pool(t, cache=workload.cache))
                 for t in workload.tasks}
        for pool in pools.values():  # one untimed run each, as (c) gets
            link_input(pool.workdir("warmup"), DATA_INSIDE)
            check_result(await pool.run(SNIPPETS[snippet], workdir="warmup"), f"{PATHS['s']} warm-up")
        total = config.episodes[0] * config.executions
        async with measured("s", snippet, config.episodes[0], config.sample_ms / 1000) as m:
            await capped_episodes(m, workload, config.executions, total, warm_pools(pools, snippet))
    return m


# ------------------------------------------------------------------ (c): the scheduler


class MeteredScheduler(dojo_lite.Scheduler):
    """A Scheduler that also keeps each run's admission wait, per episode, in order."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.waits: dict[str, list[float]] = {}

    async def _admitted(self, episode: str, limits: sandbox.Limits, gpu: dojo_lite.GpuNeed | None,
                        run: Any) -> dojo_lite.Ran:
        ran = await super()._admitted(episode, limits, gpu, run)
        self.waits.setdefault(episode, []).append(ran.queued_s)
        return ran


class BenchAgent:
    """An async scripted agent: ``count`` execute_code actions of one snippet, timed from each
    action to the observation that answers it."""

    def __init__(self, code: str, count: int) -> None:
        self.action = {"action": "execute_code", "code": code}
        self.left = count
        self.sent: float | None = None
        self.latencies: list[float] = []
        self.code_s: list[float] = []

    async def __call__(self, obs: dict[str, Any], info: dict[str, Any]) -> dict[str, Any] | None:
        if self.sent is not None:
            self.latencies.append(time.perf_counter() - self.sent)
            if obs["status"] != "ok":
                raise RunFailed(f"{PATHS['c']}: status {obs['status']}: {obs['feedback'][-2000:]}")
            self.code_s.append(obs["data"]["run"]["wall_s"])
        if self.left == 0:
            return None
        self.left -= 1
        self.sent = time.perf_counter()
        return self.action


def scheduler(workload: Workload) -> MeteredScheduler:
    return MeteredScheduler(task_path=[workload.root], cache=workload.cache, idle_close_s=3600)


async def warm_scheduler(sched: dojo_lite.Scheduler, workload: Workload, snippet: str) -> None:
    """Start every task's shared pool and run the snippet once in each, outside the scheduler's books."""
    backends = [sched.backend() for _ in workload.tasks]
    await asyncio.gather(*(b.start(task, workload.cache) for b, task in zip(backends, workload.tasks, strict=True)))
    for backend in backends:
        pool = backend.pool
        link_input(pool.workdir("warmup"), DATA_INSIDE)
        check_result(await pool.run(SNIPPETS[snippet], workdir="warmup"), f"{PATHS['c']} warm-up")
        await pool.remove_workdir("warmup")
        await backend.aclose()


def episode_result(result: dojo_lite.EpisodeResult | BaseException) -> dojo_lite.EpisodeResult:
    if isinstance(result, BaseException):
        raise result
    return result


def scheduler_samples(sched: MeteredScheduler, results: Sequence[dojo_lite.EpisodeResult],
                      agents: Sequence[BenchAgent], workload: Workload) -> list[Sample]:
    samples = []
    for index, (result, agent) in enumerate(zip(results, agents, strict=True)):
        waits = sched.waits.get(result.episode_id, [])
        for latency, code_s, wait in zip(agent.latencies, agent.code_s, waits, strict=True):
            samples.append(Sample(index, workload.task_for(index).id, latency, wait, code_s))
    return samples


async def run_scheduler(config: Config, workload: Workload, snippet: str, episodes: int, load: int = 0) -> Measurement:
    """(c): every episode through the scheduler; with ``load`` busy processes beside it, started
    once the pools are warm."""
    sched = scheduler(workload)
    async with sched:
        await warm_scheduler(sched, workload, snippet)
        agents = [BenchAgent(SNIPPETS[snippet], config.executions) for _ in range(episodes)]
        jobs = [(workload.task_for(i), agent) for i, agent in enumerate(agents)]
        with cpu_load(load) as busy:
            async with measured("c", snippet, episodes, config.sample_ms / 1000, busy) as m:
                results = [episode_result(r) for r in await sched.gather(jobs)]
        m.samples = scheduler_samples(sched, results, agents, workload)
        m.scheduler = sched.stats().to_dict()
    return m


async def idle_memory(workload: Workload, counts: Sequence[int]) -> dict[int, float]:
    """Total PSS in MB with ``count`` reset, idle episodes open, for each count (pools warm)."""
    points: dict[int, float] = {}
    async with scheduler(workload) as sched:
        await warm_scheduler(sched, workload, "trivial")
        envs: list[dojo_lite.DojoEnv] = []
        for count in sorted(counts):
            while len(envs) < count:
                env = sched.env(workload.task_for(len(envs)))
                await env.areset()
                envs.append(env)
            await asyncio.sleep(1.0)  # let the pools' spares settle
            points[count] = settled_pss() / MB
        for env in envs:
            await env.aclose()
    return points


# ------------------------------------------------------------------ report


def ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 3)


def summarize(m: Measurement) -> dict[str, Any]:
    latencies = [s.latency_s for s in m.samples]
    waits = [s.wait_s for s in m.samples if s.wait_s is not None]
    over = overheads(m)
    return {
        "path": m.path, "label": PATHS[m.path], "snippet": m.snippet, "episodes": m.episodes, "load": m.load,
        "executions": m.executions, "elapsed_s": round(m.elapsed_s, 3),
        "executions_per_s": round(m.executions / m.elapsed_s, 2),
        "latency_p50_ms": ms(percentile(latencies, 50)), "latency_p95_ms": ms(percentile(latencies, 95)),
        "wait_p50_ms": ms(percentile(waits, 50)), "wait_p95_ms": ms(percentile(waits, 95)),
        "overhead_p50_ms": ms(percentile(over, 50)), "overhead_p95_ms": ms(percentile(over, 95)),
        "overhead_mean_ms": ms(statistics.fmean(over)) if over else None,
        "controller_cpu_ms_per_execution": round(m.controller_cpu_s / m.executions * 1000, 3),
        "cpu_ms_per_execution": round(m.tree_cpu_s / m.executions * 1000, 3),
        "other_cpu_pct": round(100 * max(0.0, m.host_busy_s - m.tree_cpu_s) / (m.elapsed_s * CPUS), 1),
        "pss_before_mb": round(m.pss_before / MB, 1), "pss_peak_mb": round(m.pss_peak / MB, 1),
        "pss_per_episode_mb": round((m.pss_peak - m.pss_before) / MB / m.episodes, 3),
    }


COLUMNS = (
    ("path", "label"), ("snippet", "snippet"), ("episodes", "episodes"), ("load", "load"), ("execs", "executions"),
    ("exec/s", "executions_per_s"), ("p50 ms", "latency_p50_ms"), ("p95 ms", "latency_p95_ms"),
    ("wait p50", "wait_p50_ms"), ("wait p95", "wait_p95_ms"), ("overhead p50", "overhead_p50_ms"),
    ("overhead p95", "overhead_p95_ms"), ("ctl CPU ms/exec", "controller_cpu_ms_per_execution"),
    ("CPU ms/exec", "cpu_ms_per_execution"), ("peak PSS MB", "pss_peak_mb"), ("MB/episode", "pss_per_episode_mb"),
    ("other CPU %", "other_cpu_pct"),
)


def cell(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:.1f}" if isinstance(value, float) else str(value)


def table(summaries: Sequence[dict[str, Any]]) -> str:
    """Aligned plain text: text columns to the left, numbers to the right."""
    rows = [tuple(title for title, _ in COLUMNS)]
    rows += [tuple(cell(s[key]) for _, key in COLUMNS) for s in summaries]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    lines = ["  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))
             for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def find(summaries: Sequence[dict[str, Any]], path: str, snippet: str, episodes: int,
         load: int = 0) -> dict[str, Any]:
    return next(s for s in summaries
                if (s["path"], s["snippet"], s["episodes"], s["load"]) == (path, snippet, episodes, load))


def floor_of(floors: dict[str, Floor]) -> dict[str, float]:
    """The floor of an execution here: the mean over the tasks, which take equal shares of the episodes."""
    return {
        "fork_cpu_ms": statistics.fmean(f.fork_cpu_ms for f in floors.values()),
        "fork_cpu_ms_4k": statistics.fmean(f.fork_cpu_ms_4k for f in floors.values()),
        "fork_wall_p50_ms": statistics.fmean(percentile(f.fork_wall_ms, 50) or 0.0 for f in floors.values()),
        "inproc_p50_ms": statistics.fmean(percentile(f.inproc_wall_ms, 50) or 0.0 for f in floors.values()),
    }


def loaded_numbers(summaries: Sequence[dict[str, Any]], episodes: int, load: int) -> dict[str, Any]:
    """(c) trivial under ``load`` busy processes against quiet: its latency ratios (None, with
    ``load`` 0, when there was no loaded run)."""
    quiet = find(summaries, "c", "trivial", episodes)
    loaded = find(summaries, "c", "trivial", episodes, load) if load else None
    return {
        "load": load,
        "loaded_executions_per_s": None if loaded is None else loaded["executions_per_s"],
        "loaded_p50_ratio": None if loaded is None else ratio(loaded["latency_p50_ms"], quiet["latency_p50_ms"]),
        "loaded_p95_ratio": None if loaded is None else ratio(loaded["latency_p95_ms"], quiet["latency_p95_ms"]),
    }


def headline(summaries: Sequence[dict[str, Any]], idle_mb: float, episodes: int, floors: dict[str, Floor],
             load: int) -> dict[str, Any]:
    """The numbers the issue asks for, and whether they meet its targets."""
    ours, process = find(summaries, "c", "trivial", episodes), find(summaries, "a", "trivial", episodes)
    jail = find(summaries, "b", "trivial", episodes)
    rate = ours["executions_per_s"]
    speedup = rate / process["executions_per_s"]
    floor, loaded = floor_of(floors), loaded_numbers(summaries, episodes, load)
    cpu = ours["cpu_ms_per_execution"]
    p50_ratio, p95_ratio = loaded["loaded_p50_ratio"], loaded["loaded_p95_ratio"]
    return {
        "executions_per_s": rate,
        "baseline_executions_per_s": process["executions_per_s"],
        "fresh_jail_executions_per_s": jail["executions_per_s"],
        "memory_per_episode_mb": round(idle_mb, 3),
        "episodes": episodes,
        "speedup_vs_fresh_process": round(speedup, 1),
        "speedup_vs_fresh_jail": round(rate / jail["executions_per_s"], 1),
        "latency_p50_ms": ours["latency_p50_ms"],
        "latency_p95_ms": ours["latency_p95_ms"],
        # (c), trivial: whole-tree CPU per execution (grading included) against fork() + _exit
        "cpu_ms_per_exec": cpu,
        "fork_floor_cpu_ms": round(floor["fork_cpu_ms"], 3),
        "fork_floor_4k_cpu_ms": round(floor["fork_cpu_ms_4k"], 3),  # before the heap's huge pages
        "fork_floor_wall_p50_ms": round(floor["fork_wall_p50_ms"], 3),
        "inproc_trivial_p50_ms": round(floor["inproc_p50_ms"], 4),
        "cpu_ratio_to_fork_floor": ratio(cpu, floor["fork_cpu_ms"]),
        **loaded,
        "targets_met": {
            f"executions_per_s_ge_{TARGET_EXECUTIONS_PER_S:g}": rate >= TARGET_EXECUTIONS_PER_S,
            f"speedup_vs_fresh_process_ge_{TARGET_SPEEDUP:g}x": speedup >= TARGET_SPEEDUP,
            f"memory_per_idle_episode_le_{TARGET_IDLE_MB:g}mb": idle_mb <= TARGET_IDLE_MB,
            f"cpu_le_{TARGET_CPU_OVER_FORK_FLOOR:g}x_fork_floor":
                cpu <= TARGET_CPU_OVER_FORK_FLOOR * floor["fork_cpu_ms"],
            f"loaded_p50_le_{TARGET_LOADED_P50_RATIO:g}x_quiet": None if p50_ratio is None
            else p50_ratio <= TARGET_LOADED_P50_RATIO,
            f"loaded_p95_le_{TARGET_LOADED_P95_RATIO:g}x_quiet": None if p95_ratio is None
            else p95_ratio <= TARGET_LOADED_P95_RATIO,
        },
    }


def machine() -> dict[str, Any]:
    return {
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)),
        "memory_bytes": psutil.virtual_memory().total,
        "python": platform.python_version(),
        "executable": sys.executable,
        "platform": platform.platform(),
    }


def plot(summaries: Sequence[dict[str, Any]], idle: dict[int, float], summary: dict[str, Any], path: Path) -> None:
    """Executions/s and latency per path and workload (log scales), (c) quiet against loaded with
    the fork floor, and PSS over idle episodes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [f"{s['label'].split(' ', 1)[0]} {s['snippet']}\n{s['episodes']} ep"
             + (f" +{s['load']} busy" if s["load"] else "") for s in summaries]
    fig, (rate, latency, loaded, memory) = plt.subplots(1, 4, figsize=(24, 5.5))
    rate.bar(names, [s["executions_per_s"] for s in summaries], color="tab:blue")
    rate.axhline(TARGET_EXECUTIONS_PER_S, color="tab:red", linestyle="--", label="target")
    rate.set(yscale="log", ylabel="executions / s", title="throughput")
    rate.legend()
    xs = range(len(summaries))
    latency.bar([x - 0.2 for x in xs], [s["latency_p50_ms"] for s in summaries], 0.4, label="p50")
    latency.bar([x + 0.2 for x in xs], [s["latency_p95_ms"] for s in summaries], 0.4, label="p95")
    latency.set(xticks=list(xs), xticklabels=names, yscale="log", ylabel="ms", title="latency per execution")
    latency.legend()
    quiet_against_loaded(loaded, summaries, summary)
    idle_mb = summary["memory_per_episode_mb"]
    counts, start = list(idle), idle[min(idle)]
    memory.plot(counts, list(idle.values()), marker="o", label="measured")
    memory.plot(counts, [start + TARGET_IDLE_MB * (n - min(idle)) for n in counts], "r--", label="target slope")
    memory.set(xlabel="idle episodes", ylabel="total PSS, MB", ylim=(0, None),
               title=f"memory: {idle_mb:.3f} MB per idle episode")
    memory.legend()
    for axis in (rate, latency):
        axis.tick_params(axis="x", labelsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def quiet_against_loaded(axis: Any, summaries: Sequence[dict[str, Any]], summary: dict[str, Any]) -> None:
    """(c), trivial: latency p50 and p95 quiet and with busy processes beside it, and the CPU per
    execution beside the fork floor's."""
    quiet = find(summaries, "c", "trivial", summary["episodes"])
    load = summary["load"]
    loaded = find(summaries, "c", "trivial", summary["episodes"], load) if load else None
    groups = ["latency p50", "latency p95", "CPU per execution"]
    xs = range(len(groups))
    axis.bar([x - 0.2 for x in xs], [quiet["latency_p50_ms"], quiet["latency_p95_ms"], quiet["cpu_ms_per_execution"]],
             0.4, label="quiet")
    if loaded is not None:
        axis.bar([x + 0.2 for x in xs[:2]], [loaded["latency_p50_ms"], loaded["latency_p95_ms"]], 0.4,
                 label=f"{load} busy processes beside it")
    axis.bar([2.2], [summary["fork_floor_cpu_ms"]], 0.4, label="fork() + _exit (CPU)", color="tab:gray")
    ratios = (f"loaded/quiet: p50 x{summary['loaded_p50_ratio']}, p95 x{summary['loaded_p95_ratio']}"
              if loaded is not None else "no loaded run (--load 0)")
    axis.set(xticks=list(xs), xticklabels=groups, yscale="log", ylabel="ms",
             title=f"(c) trivial, {summary['episodes']} ep: {ratios}\n"
                   f"CPU/exec = x{summary['cpu_ratio_to_fork_floor']} the fork floor")
    axis.legend(fontsize=8)


def write_outputs(config: Config, measurements: Sequence[Measurement], idle: dict[int, float],
                  floors: dict[str, Floor], summary: dict[str, Any], wall_s: float) -> tuple[Path, Path]:
    summaries = [summarize(m) for m in measurements]
    document = {
        "benchmark": "episode_throughput",
        "machine": machine(),
        "config": {**dataclasses.asdict(config), "out": str(config.out), "tasks": TASKS,
                   "snippets": SNIPPETS, "paths": PATHS},
        "wall_s": round(wall_s, 1),
        "results": [{**s, "scheduler": m.scheduler, "samples": [dataclasses.asdict(x) for x in m.samples]}
                    for s, m in zip(summaries, measurements, strict=True)],
        "idle_memory_mb": idle,
        "fork_floor": {task: dataclasses.asdict(floor) for task, floor in floors.items()},
        "summary": summary,
    }
    config.out.mkdir(parents=True, exist_ok=True)
    data, picture = config.out / "episode_throughput.json", config.out / "episode_throughput.png"
    data.write_text(json.dumps(document, indent=2) + "\n")
    plot(summaries, idle, summary, picture)
    return data, picture


# ------------------------------------------------------------------ main


def parse_args(argv: Sequence[str] | None = None) -> Config:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--episodes", type=int, nargs="+", default=[HEADLINE_EPISODES, 256],
                        help="concurrent episodes for (c); the first also for (a), (b), (s) and the headline")
    parser.add_argument("--executions", type=int, default=10, help="execute_code actions per episode")
    parser.add_argument("--baseline-executions", type=int, default=32, help="(a) and (b) stop after this many")
    parser.add_argument("--sample-ms", type=float, default=500.0, help="PSS sampling period")
    parser.add_argument("--load", type=int, default=2, help="busy processes beside (c)'s loaded run (0: none)")
    parser.add_argument("--floor-repeat", type=int, default=200, help="forks per task for the fork floor")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for the JSON and the PNG")
    parser.add_argument("--quick", action="store_true", help="tiny counts: a smoke test, not a measurement")
    args = parser.parse_args(argv)
    if args.quick:
        args.episodes, args.executions, args.baseline_executions = [8, 16], 3, 4
        args.floor_repeat = min(args.floor_repeat, 20)
    if (min(args.episodes) < 1 or args.executions < 1 or args.baseline_executions < 1 or args.floor_repeat < 1
            or args.sample_ms <= 0 or args.load < 0):
        parser.error("counts must be at least 1, --sample-ms positive and --load not negative")
    episodes = tuple(dict.fromkeys(args.episodes))
    return Config(episodes=episodes, executions=args.executions, baseline_executions=args.baseline_executions,
                  idle=(0, *episodes), sample_ms=args.sample_ms, load=args.load, floor_repeat=args.floor_repeat,
                  out=args.out)


def plan(config: Config, workload: Workload) -> Iterator[tuple[str, Callable[[], Coroutine[Any, Any, Measurement]]]]:
    """What to measure, in order: (c) first (quiet, then under load), then the sandbox-only floor,
    then the baselines."""
    first = config.episodes[0]
    for episodes in config.episodes:
        yield f"{PATHS['c']}, trivial, {episodes} episodes", partial(run_scheduler, config, workload, "trivial",
                                                                      episodes)
    if config.load:
        yield (f"{PATHS['c']}, trivial, {first} episodes, {config.load} busy processes beside it",
               partial(run_scheduler, config, workload, "trivial", first, config.load))
    yield f"{PATHS['c']}, pandas, {first} episodes", partial(run_scheduler, config, workload, "pandas", first)
    yield f"{PATHS['s']}, trivial", partial(run_warm_pools, config, workload, "trivial")
    for snippet in SNIPPETS:
        yield f"{PATHS['a']}, {snippet}", partial(run_fresh_process, config, workload, snippet)
        yield f"{PATHS['b']}, {snippet}", partial(run_fresh_jail, config, workload, snippet)


def measure(config: Config, workload: Workload) -> tuple[list[Measurement], dict[int, float]]:
    progress(f"idle memory with {', '.join(map(str, config.idle))} open episodes...")
    idle = asyncio.run(idle_memory(workload, config.idle))
    measurements: list[Measurement] = []
    for what, job in plan(config, workload):
        progress(f"measuring {what}...")
        measurements.append(asyncio.run(job()))
    return measurements, idle


def fork_floors(config: Config, base: Path) -> dict[str, Floor]:
    """The floor of each task's interpreter: its preload list, the trivial snippet (run in ``base``)."""
    progress(f"measuring the fork floor of each task ({config.floor_repeat} forks each)...")
    floors = {}
    for task_id, preload in TASKS.items():
        cwd = base / f"floor-{task_id.rsplit('/', 1)[-1]}"
        cwd.mkdir()
        floors[task_id] = measure_floor(preload, SNIPPETS["trivial"], config.floor_repeat, cwd)
    return floors


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(levelname)s: %(message)s")
    config = parse_args(argv)
    started = time.perf_counter()
    base = Path(tempfile.mkdtemp(prefix="episode-throughput-"))
    try:
        workload = make_workload(base)
        measurements, idle = measure(config, workload)
        floors = fork_floors(config, base)
    except RunFailed as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(base, ignore_errors=True)
    summaries = [summarize(m) for m in measurements]
    idle_mb = slope(idle)
    summary = headline(summaries, idle_mb, config.episodes[0], floors, config.load)
    data, picture = write_outputs(config, measurements, idle, floors, summary, time.perf_counter() - started)
    print(f"machine: {CPUS} CPUs; Python {platform.python_version()}")
    print(f"(a), (b): the first {config.baseline_executions} executions of {config.episodes[0]} episodes x "
          f"{config.executions}; (s), (c): every execution; times in ms; overhead = latency - wait - agent code")
    print(table(summaries))
    print("idle episodes -> total PSS MB: " + ", ".join(f"{n}: {mb:.1f}" for n, mb in idle.items())
          + f" (slope {idle_mb:.3f} MB per episode)")
    for task_id, floor in floors.items():
        print(f"fork floor, {task_id}: {json.dumps(floor.summary())}")
    print(f"(every sample: {data}; plot: {picture}; {time.perf_counter() - started:.0f} s in all)")
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
