"""The scheduler: many episodes on one host, sharing warm zygotes, within CPU, memory and GPU budgets."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import gc
import io
import os
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import pandas as pd
import psutil

import sandbox

from ._admission import Admission, GpuNeed, GpuSlot, Request
from ._agents import Agent, EpisodeResult, run_episode
from ._backend import Ran, _OnPool, check_pool_options, start_task_pool
from ._durations import Durations
from ._env import DojoEnv
from ._errors import ConfigError, EnvClosed, UsageError, translated
from ._metrics import METRICS, PredictionKind
from ._nursery import Nursery, shielded
from ._task import Task, find_task

__all__ = ["Scheduler", "SchedulerBackend", "SchedulerStats"]


_settled = False


def _settle_the_heap() -> None:
    """Import what grading imports on first use, then ``gc.freeze()`` the heap, once per process.

    A full collection walks every object, the ML stack's included, holding the GIL: 90-140 ms
    on a controller that imported pandas and scikit-learn, during which the event loop stops.
    Objects alive now (modules, classes) live as long as the process: frozen, full collections
    skip them.  ``Scheduler(freeze_gc=False)`` leaves the collector alone.
    """
    global _settled
    if _settled:
        return
    _settled = True
    # No collection meanwhile: a full one here would be the very stall this avoids.  What garbage
    # the imports leave is frozen with the rest (a one-time few MB).
    enabled = gc.isenabled()
    gc.disable()
    try:
        truth, labels, probs = np.array([0, 1, 0, 1]), np.array([0, 1, 1, 1]), np.array([0.2, 0.8, 0.4, 0.6])
        for metric in METRICS.values():
            with contextlib.suppress(Exception):  # only the imports matter here
                metric.fn(truth, probs if PredictionKind.PROBABILITY in metric.kind else labels)
        pd.read_csv(io.StringIO("id,y\n1,2\n"))
        gc.freeze()
    finally:
        if enabled:
            gc.enable()


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


@attrs.frozen
class SchedulerStats:
    """Where time went and how full the budgets were (a snapshot)."""

    episodes_active: int
    episodes_done: int
    pools_open: int
    queue_length: int
    max_queue_length: int
    runs: int
    wait_p50_s: float | None
    wait_p95_s: float | None
    wait_max_s: float | None
    run_p50_s: float | None
    run_p95_s: float | None
    overhead_s: float
    utilisation: dict[str, float]
    in_use: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


@attrs.define
class _Meter:
    """Running totals: waits, holds, agent time, and the time integral of what was held."""

    clock: Callable[[], float]
    started: float = attrs.field(default=attrs.Factory(lambda self: self.clock(), takes_self=True))
    waits: Durations = attrs.field(factory=Durations)
    runs: Durations = attrs.field(factory=Durations)
    overhead_s: float = 0.0
    last: float = attrs.field(default=attrs.Factory(lambda self: self.clock(), takes_self=True))
    held: dict[str, float] = attrs.field(factory=dict)  # resource -> amount x seconds

    def tick(self, admission: Admission) -> None:
        now = self.clock()
        dt, self.last = now - self.last, now
        usage = admission.usage
        for name, amount in (("cpus", usage.cpus), ("memory", usage.memory_bytes)):
            self.held[name] = self.held.get(name, 0.0) + amount * dt
        for index, slot in admission.gpus.items():
            busy = 1.0 if index in usage.gpu_whole else (usage.gpu_memory.get(index, 0) / (slot.memory_bytes or 1))
            self.held[f"gpu{index}"] = self.held.get(f"gpu{index}", 0.0) + min(1.0, busy) * dt


@attrs.define
class _PoolLease:
    pool: sandbox.Pool
    users: int = 0
    closer: asyncio.TimerHandle | None = None


class Scheduler:
    """Runs many episodes at once on one host.

    Use as ``async with Scheduler(cpus=2, memory="8G") as sched``.  Episodes of one task share
    one warm sandbox pool (started on first use, kept while episodes of the task exist, closed
    ``idle_close_s`` after the last one ends).  Every run is admitted against the budgets (its
    CPUs and memory limit, a GPU or a share of one) and waits in a fair queue when they are full;
    see :class:`~dojo_lite._admission.Admission`.

    :meth:`run_episode` drives one agent through one episode; :meth:`gather` runs a batch;
    :meth:`env` gives a :class:`DojoEnv` whose runs go through this scheduler, for your own loop
    (``DojoEnv(task, backend=sched.backend())`` is the same).  Episodes run as tasks the scheduler
    owns: cancelling a caller cancels its episode, which kills its running child, frees what it
    held and ends its trajectory; closing the scheduler ends its episodes (their callers get
    :class:`EnvClosed`) and closes every pool (no processes, cgroups or work dirs are left).

    Arguments: ``cpus`` and ``memory`` (bytes or ``"96G"``) are the budgets runs are admitted
    against (by default all CPUs and 80% of the memory; more than the host has is refused unless
    ``oversubscribe=True``); ``gpus`` the device indexes to hand out (``gpu_inventory`` finds
    them; NVIDIA's by default); ``idle_close_s`` how long an unused pool stays warm;
    ``max_overtakes`` how often a big run may be overtaken by smaller ones; ``spares`` and
    ``pool_options`` go to each :class:`sandbox.Pool`; ``task_path``, ``cache`` and
    ``trajectory_dir`` are the envs' defaults; ``freeze_gc`` settles the heap at start (see
    :func:`_settle_the_heap`); ``clock`` is the admission's clock (tests pass a fake one).
    """

    def __init__(
        self,
        *,
        cpus: float | None = None,
        memory: int | str | None = None,
        gpus: Sequence[int] = (),
        gpu_inventory: sandbox.GpuInventory | None = None,
        oversubscribe: bool = False,
        idle_close_s: float = 30.0,
        max_overtakes: int = 8,
        spares: int = 1,
        task_path: Sequence[str | os.PathLike[str]] = (),
        cache: str | os.PathLike[str] | None = None,
        trajectory_dir: str | os.PathLike[str] | None = None,
        pool_options: dict[str, Any] | None = None,
        freeze_gc: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        host_cpus, host_memory = os.cpu_count() or 1, psutil.virtual_memory().total
        self.cpus = float(host_cpus) if cpus is None else float(cpus)
        with translated():
            self.memory_bytes = int(host_memory * 0.8) if memory is None else sandbox.parse_size(memory)
        if self.cpus <= 0 or self.memory_bytes <= 0:
            raise ConfigError(f"a scheduler needs CPUs and memory, got {cpus!r} and {memory!r}")
        if not oversubscribe and (self.cpus > host_cpus or self.memory_bytes > host_memory):
            raise ConfigError(f"the budgets ({self.cpus:g} CPUs, {self.memory_bytes / 2**30:.1f} GiB) exceed this "
                              f"host ({host_cpus} CPUs, {host_memory / 2**30:.1f} GiB): ask for less, or pass "
                              "oversubscribe=True")
        self.gpus = tuple(gpus)
        self.gpu_inventory = gpu_inventory
        self.idle_close_s = idle_close_s
        self.task_path = tuple(task_path)
        self.cache = Path(cache) if cache else None
        self.trajectory_dir = trajectory_dir
        self.pool_options = {"spares": spares, **(pool_options or {})}
        check_pool_options(self.pool_options)
        self.freeze_gc = freeze_gc
        self.admission = Admission(cpus=self.cpus, memory_bytes=self.memory_bytes,
                                   gpus=self._gpu_slots(), max_overtakes=max_overtakes, clock=clock)
        self._clock = clock
        self._leases: dict[str, _PoolLease] = {}
        self._starting: dict[str, asyncio.Lock] = {}
        self._meter = _Meter(clock)
        self._nursery = Nursery("the scheduler")
        # the loop its pools live on: the one it is made on, else the one that opens it
        self._loop: asyncio.AbstractEventLoop | None = _running_loop()
        self._active = 0
        self._done = 0
        self._closed = False

    def _gpu_slots(self) -> list[GpuSlot]:
        if not self.gpus:
            return []
        self.gpu_inventory = self.gpu_inventory or sandbox.NvidiaInventory()
        with translated():
            devices = {d.index: d for d in self.gpu_inventory.devices()}
        missing = [i for i in self.gpus if i not in devices]
        if missing:
            raise ConfigError(f"no GPU {missing} on this host (found {sorted(devices)})")
        return [GpuSlot(i, devices[i].memory_bytes) for i in self.gpus]

    # ------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> Scheduler:
        self._check_open()
        await self._open()
        if self.freeze_gc:
            await asyncio.to_thread(_settle_the_heap)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """End the episodes still running, then close every pool; idempotent."""
        self._closed = True
        await self._nursery.aclose()
        for lock in list(self._starting.values()):  # a pool still starting is closed by its starter
            async with lock:
                pass
        for key in list(self._leases):
            await self._close_pool(key)

    def _check_open(self) -> None:
        if self._closed:
            raise EnvClosed("the scheduler is closed")

    async def _open(self) -> None:
        """Bind the scheduler to the running loop (where its pools will live) and open its nursery."""
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self._loop = loop
        elif loop is not self._loop:
            raise UsageError("this scheduler runs on another event loop")
        await self._nursery.open()

    # ------------------------------------------------------------ episodes

    def backend(self, *, gpu: GpuNeed | None = None) -> SchedulerBackend:
        """A backend for one :class:`DojoEnv`: this scheduler's shared pools and budgets; each run
        also needs ``gpu`` (a whole device, or a share of one)."""
        self._check_open()
        return SchedulerBackend(self, gpu)

    def env(self, task: str | Task, *, gpu: GpuNeed | None = None, **kwargs: Any) -> DojoEnv:
        """A :class:`DojoEnv` on this scheduler's pools and budgets (keyword arguments go to it)."""
        self._check_open()
        if "backend" in kwargs:
            raise ConfigError("sched.env() gives its env the scheduler's backend; for another, make a DojoEnv")
        task = task if isinstance(task, Task) else find_task(task, [*kwargs.pop("task_path", ()), *self.task_path])
        kwargs.setdefault("cache", self.cache)
        kwargs.setdefault("trajectory_dir", self.trajectory_dir)
        return DojoEnv(task, backend=self.backend(gpu=gpu), **kwargs)

    async def run_episode(self, task: str | Task, agent: Agent, *, seed: int | None = None,
                          **env_kwargs: Any) -> EpisodeResult:
        """Drive ``agent`` (async, or sync: then run in a thread) through one episode of ``task``,
        as a task this scheduler owns (see the class docstring for cancelling and closing)."""
        await self._open()
        env = self.env(task, **env_kwargs)
        return await self._nursery.run(self._episode(env, agent, seed), name=f"episode of {env.task.id}")

    async def _episode(self, env: DojoEnv, agent: Agent, seed: int | None) -> EpisodeResult:
        self._active += 1
        try:
            return await run_episode(env, agent, seed=seed, sync_in_thread=True)
        finally:
            self._active -= 1
            self._done += 1
            await shielded(env.aclose())

    async def gather(self, jobs: Iterable[tuple[str | Task, Agent]], *, seed: int | None = None,
                     return_exceptions: bool = False) -> list[EpisodeResult | BaseException]:
        """Run ``(task, agent)`` episodes concurrently; their results in the same order."""
        coros = [self.run_episode(task, agent, seed=seed) for task, agent in jobs]
        return await asyncio.gather(*coros, return_exceptions=return_exceptions)

    # ------------------------------------------------------------ pools (for SchedulerBackend)

    async def _lease(self, task: Task) -> sandbox.Pool:
        """The shared, started pool of ``task``; one lease per env, given back with :meth:`_release`."""
        self._check_open()
        if self._loop is not asyncio.get_running_loop():
            raise UsageError("a scheduler's envs run on the scheduler's event loop: open it there "
                             "(`async with Scheduler(...) as sched`) and use areset/astep/aclose "
                             "(an env's sync methods run a loop of their own)")
        await self._nursery.open()  # a pool's idle closer will need it
        key = task.id
        async with self._starting.setdefault(key, asyncio.Lock()):
            lease = self._leases.get(key)
            if lease is None or lease.pool.closed:
                options = dict(self.pool_options)
                if self.gpus:
                    options.update(gpus=self.gpus, gpu_inventory=self.gpu_inventory)
                pool = await start_task_pool(task, self.cache, options)
                if self._closed:  # closed while this pool started: it must not outlive the scheduler
                    await pool.aclose()
                    raise EnvClosed("the scheduler is closed")
                lease = self._leases[key] = _PoolLease(pool)
            if lease.closer is not None:
                lease.closer.cancel()
                lease.closer = None
            lease.users += 1
            return lease.pool

    def _release(self, task: Task) -> None:
        """One user of ``task``'s pool is done; the pool closes when idle for ``idle_close_s``."""
        lease = self._leases.get(task.id)
        if lease is None:
            return
        lease.users -= 1
        if lease.users <= 0 and not self._nursery.closed:
            lease.closer = asyncio.get_running_loop().call_later(self.idle_close_s, self._close_when_idle, task.id)

    def _close_when_idle(self, key: str) -> None:
        if not self._nursery.closed:  # else aclose closes every pool itself
            self._nursery.start_soon(self._close_idle(key), name=f"closing the idle pool of {key}")

    async def _close_idle(self, key: str) -> None:
        lease = self._leases.get(key)
        if lease is not None and lease.users <= 0:
            await self._close_pool(key)

    async def _close_pool(self, key: str) -> None:
        lease = self._leases.get(key)
        if lease is not None:
            if lease.closer is not None:
                lease.closer.cancel()
            try:
                await shielded(lease.pool.aclose())  # a cancelled closer still finishes closing
            finally:
                if self._leases.get(key) is lease:
                    del self._leases[key]

    async def _admitted(self, episode: str, limits: sandbox.Limits, gpu: GpuNeed | None,
                        run: Callable[[sandbox.GpuRequest | None], Awaitable[sandbox.RunResult]]) -> Ran:
        """Hold the budgets one run needs (waiting in the fair queue first) while ``run`` runs;
        the time held without running agent code is metered as overhead."""
        meter = self._meter
        meter.tick(self.admission)
        grant = await self.admission.acquire(Request(episode, limits.cpus, limits.memory, gpu))
        meter.tick(self.admission)
        meter.waits.add(grant.waited_s)
        held = self._clock()
        try:
            result = await run(grant.gpu)
        finally:
            meter.tick(self.admission)
            self.admission.release(grant)
            meter.runs.add(self._clock() - held)
        meter.overhead_s += max(0.0, self._clock() - held - result.wall_s)
        return Ran(result, grant.waited_s)

    # ------------------------------------------------------------ visibility

    def samples(self) -> tuple[Durations, Durations]:
        """The summaries of every run's queue wait and run time so far (copies, bounded in size
        whatever the run count): what the percentiles of :meth:`stats` come from, for merging
        them across schedulers (``dojo_lite.ray``)."""
        return copy.deepcopy(self._meter.waits), copy.deepcopy(self._meter.runs)

    def stats(self) -> SchedulerStats:
        """Queue length, wait and run times, overhead, and utilisation per resource so far."""
        meter, admission = self._meter, self.admission
        meter.tick(admission)
        elapsed = max(1e-9, self._clock() - meter.started)
        capacity = {"cpus": self.cpus, "memory": float(self.memory_bytes)}
        capacity.update({f"gpu{i}": 1.0 for i in admission.gpus})
        usage = admission.usage
        in_use = {"cpus": usage.cpus, "memory": float(usage.memory_bytes),
                  **{f"gpu{i}": float(i in usage.gpu_whole or usage.gpu_shares.get(i, 0) > 0) for i in admission.gpus}}
        return SchedulerStats(
            episodes_active=self._active, episodes_done=self._done, pools_open=len(self._leases),
            queue_length=admission.queue_length, max_queue_length=admission.max_queue, runs=meter.runs.count,
            wait_p50_s=meter.waits.percentile(50), wait_p95_s=meter.waits.percentile(95),
            wait_max_s=meter.waits.max, run_p50_s=meter.runs.percentile(50),
            run_p95_s=meter.runs.percentile(95), overhead_s=meter.overhead_s,
            utilisation={k: meter.held.get(k, 0.0) / (capacity[k] * elapsed) for k in capacity},
            in_use=in_use)


class SchedulerBackend(_OnPool):
    """The scheduler's backend (make it with :meth:`Scheduler.backend`): the task's shared pool,
    leased on :meth:`start` and given back on :meth:`aclose`; each run admitted against the
    scheduler's budgets, its time queued returned in :class:`Ran` (not charged to the episode)."""

    def __init__(self, scheduler: Scheduler, gpu: GpuNeed | None) -> None:
        super().__init__()
        self.scheduler = scheduler
        self.gpu = gpu

    async def start(self, task: Task, cache: Path | None) -> None:
        self._bind(task)
        for limits in (task.limits, task.validate_limits):  # a run that could never be admitted
            self.scheduler.admission.check(Request("check", limits.cpus, limits.memory, self.gpu))
        self._pool = await self.scheduler._lease(task)

    async def run(self, code: str, *, workdir: str, limits: sandbox.Limits, filename: str) -> Ran:
        pool = self.pool

        async def run(gpu: sandbox.GpuRequest | None) -> sandbox.RunResult:
            return await self._run_on(pool, code, workdir=workdir, limits=limits, filename=filename, gpu=gpu)
        return await self.scheduler._admitted(workdir, limits, self.gpu, run)

    async def aclose(self) -> None:
        if self._pool is not None and self._task is not None:  # leased: give it back, once
            self._pool = None
            self.scheduler._release(self._task)
