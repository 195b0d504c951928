"""The scheduler: many episodes on one host, sharing warm zygotes, within CPU, memory and GPU budgets."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import io
import os
import statistics
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import pandas as pd
import psutil

import sandbox

from ._admission import Admission, GpuNeed, GpuSlot, Grant, Request
from ._agents import Agent, EpisodeResult, run_episode
from ._env import DojoEnv, task_pool
from ._metrics import METRICS, PredictionKind
from ._task import Task, find_task

__all__ = ["Scheduler", "SchedulerStats"]


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


def _percentile(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


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

    started: float = attrs.field(factory=time.monotonic)
    waits: list[float] = attrs.field(factory=list)
    runs: list[float] = attrs.field(factory=list)
    overhead_s: float = 0.0
    last: float = attrs.field(factory=time.monotonic)
    held: dict[str, float] = attrs.field(factory=dict)  # resource -> amount x seconds

    def tick(self, admission: Admission) -> None:
        now = time.monotonic()
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

    Use as ``async with Scheduler(cpus=16, memory="96G", gpus=[0, 1]) as sched``.  Episodes of
    one task share one warm sandbox pool (started on first use, kept while episodes of the task
    exist, closed ``idle_close_s`` after the last one ends).  Every run is admitted against the
    budgets (its CPUs and memory limit, a GPU or a share of one) and waits in a fair queue when
    they are full; see :class:`~dojo_lite._admission.Admission`.

    :meth:`run_episode` drives one agent through one episode; :meth:`gather` runs a batch;
    :meth:`env` gives a :class:`DojoEnv` whose runs go through this scheduler, for your own loop.
    Cancelling an episode kills its running child, frees what it held and ends its trajectory;
    closing the scheduler closes every pool (no processes, cgroups or work dirs are left).
    """

    def __init__(
        self,
        *,
        cpus: float | None = None,
        memory: int | str | None = None,
        gpus: Sequence[int] = (),
        gpu_inventory: sandbox.GpuInventory | None = None,
        idle_close_s: float = 30.0,
        max_overtakes: int = 8,
        spares: int = 1,
        task_path: Sequence[str | os.PathLike[str]] = (),
        cache: str | os.PathLike[str] | None = None,
        trajectory_dir: str | os.PathLike[str] | None = None,
        pool_options: dict[str, Any] | None = None,
        freeze_gc: bool = True,
    ) -> None:
        self.cpus = float(os.cpu_count() or 1) if cpus is None else float(cpus)
        self.memory_bytes = int(psutil.virtual_memory().total * 0.8) if memory is None else sandbox.parse_size(memory)
        if self.cpus <= 0 or self.memory_bytes <= 0:
            raise sandbox.ConfigError(f"a scheduler needs CPUs and memory, got {cpus!r} and {memory!r}")
        self.gpus = tuple(gpus)
        self.gpu_inventory = gpu_inventory
        self.idle_close_s = idle_close_s
        self.task_path = tuple(task_path)
        self.cache = Path(cache) if cache else None
        self.trajectory_dir = trajectory_dir
        self.pool_options = {"spares": spares, **(pool_options or {})}
        self.freeze_gc = freeze_gc
        self.admission = Admission(cpus=self.cpus, memory_bytes=self.memory_bytes,
                                   gpus=self._gpu_slots(), max_overtakes=max_overtakes)
        self._leases: dict[str, _PoolLease] = {}
        self._starting: dict[str, asyncio.Lock] = {}
        self._meter = _Meter()
        self._episodes: set[asyncio.Task[Any]] = set()
        self._closing: set[asyncio.Task[None]] = set()  # idle pools being closed
        self._active = 0
        self._done = 0
        self._closed = False

    def _gpu_slots(self) -> list[GpuSlot]:
        if not self.gpus:
            return []
        self.gpu_inventory = self.gpu_inventory or sandbox.NvidiaInventory()
        devices = {d.index: d for d in self.gpu_inventory.devices()}
        missing = [i for i in self.gpus if i not in devices]
        if missing:
            raise sandbox.ConfigError(f"no GPU {missing} on this host (found {sorted(devices)})")
        return [GpuSlot(i, devices[i].memory_bytes) for i in self.gpus]

    # ------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> Scheduler:
        if self.freeze_gc:
            await asyncio.to_thread(_settle_the_heap)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Cancel the episodes still running, then close every pool."""
        self._closed = True
        for task in list(self._episodes):
            task.cancel()
        if self._episodes:
            await asyncio.gather(*self._episodes, return_exceptions=True)
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)
        for key in list(self._leases):
            await self._close_pool(key)

    # ------------------------------------------------------------ episodes

    def env(self, task: str | Task, **kwargs: Any) -> DojoEnv:
        """A :class:`DojoEnv` on this scheduler's pools and budgets (keyword arguments go to it)."""
        if self._closed:
            raise sandbox.PoolClosed("the scheduler is closed")
        task = task if isinstance(task, Task) else find_task(task, self.task_path)
        kwargs.setdefault("cache", self.cache)
        kwargs.setdefault("trajectory_dir", self.trajectory_dir)
        return DojoEnv(task, scheduler=self, **kwargs)

    async def run_episode(self, task: str | Task, agent: Agent, *, seed: int | None = None,
                          **env_kwargs: Any) -> EpisodeResult:
        """Drive ``agent`` (async, or sync: then run in a thread) through one episode of ``task``."""
        env = self.env(task, **env_kwargs)
        current = asyncio.current_task()
        if current is not None:
            self._episodes.add(current)
        self._active += 1
        try:
            return await run_episode(env, agent, seed=seed, sync_in_thread=True)
        finally:
            self._active -= 1
            self._done += 1
            self._episodes.discard(current)  # type: ignore[arg-type]
            await asyncio.shield(env.aclose())

    async def gather(self, jobs: Iterable[tuple[str | Task, Agent]], *, seed: int | None = None,
                     return_exceptions: bool = False) -> list[EpisodeResult | BaseException]:
        """Run ``(task, agent)`` episodes concurrently; their results in the same order."""
        coros = [self.run_episode(task, agent, seed=seed) for task, agent in jobs]
        return await asyncio.gather(*coros, return_exceptions=return_exceptions)

    # ------------------------------------------------------------ what DojoEnv calls

    async def lease_pool(self, task: Task) -> sandbox.Pool:
        """The shared, started pool of ``task`` (one lease per env; give it back with :meth:`release_pool`)."""
        if self._closed:
            raise sandbox.PoolClosed("the scheduler is closed")
        key = task.id
        async with self._starting.setdefault(key, asyncio.Lock()):
            lease = self._leases.get(key)
            if lease is None or lease.pool.closed:
                options = dict(self.pool_options)
                if self.gpus:
                    options.update(gpus=self.gpus, gpu_inventory=self.gpu_inventory)
                pool = await asyncio.to_thread(task_pool, task, cache=self.cache, **options)  # may prepare data
                await pool.start()
                if self._closed:  # closed while this pool started: it must not outlive the scheduler
                    await pool.aclose()
                    raise sandbox.PoolClosed("the scheduler is closed")
                lease = self._leases[key] = _PoolLease(pool)
            if lease.closer is not None:
                lease.closer.cancel()
                lease.closer = None
            lease.users += 1
            return lease.pool

    def release_pool(self, task: Task) -> None:
        """One user of ``task``'s pool is done; the pool closes when idle for ``idle_close_s``."""
        lease = self._leases.get(task.id)
        if lease is None:
            return
        lease.users -= 1
        if lease.users <= 0:
            delay = 0.0 if self._closed else self.idle_close_s
            lease.closer = asyncio.get_running_loop().call_later(delay, self._start_closing, task.id)

    def _start_closing(self, key: str) -> None:
        closing = asyncio.ensure_future(self._close_idle(key))
        self._closing.add(closing)
        closing.add_done_callback(self._closing.discard)

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
                await asyncio.shield(lease.pool.aclose())  # a cancelled closer still finishes closing
            finally:
                if self._leases.get(key) is lease:
                    del self._leases[key]

    @contextlib.asynccontextmanager
    async def admit(self, episode: str, limits: sandbox.Limits, gpu: GpuNeed | None = None) -> AsyncIterator[Grant]:
        """Hold the budgets one run needs while the block runs (waiting in the fair queue first)."""
        self._meter.tick(self.admission)
        grant = await self.admission.acquire(Request(episode, limits.cpus, limits.memory, gpu))
        self._meter.tick(self.admission)
        self._meter.waits.append(grant.waited_s)
        held = time.monotonic()
        try:
            yield grant
        finally:
            self._meter.tick(self.admission)
            self.admission.release(grant)
            self._meter.runs.append(time.monotonic() - held)

    def record_overhead(self, seconds: float) -> None:
        """Time a run held its budgets without running agent code (dispatch, collection)."""
        self._meter.overhead_s += max(0.0, seconds)

    # ------------------------------------------------------------ visibility

    def stats(self) -> SchedulerStats:
        """Queue length, wait and run times, overhead, and utilisation per resource so far."""
        meter, admission = self._meter, self.admission
        meter.tick(admission)
        elapsed = max(1e-9, time.monotonic() - meter.started)
        capacity = {"cpus": self.cpus, "memory": float(self.memory_bytes)}
        capacity.update({f"gpu{i}": 1.0 for i in admission.gpus})
        usage = admission.usage
        in_use = {"cpus": usage.cpus, "memory": float(usage.memory_bytes),
                  **{f"gpu{i}": float(i in usage.gpu_whole or usage.gpu_shares.get(i, 0) > 0) for i in admission.gpus}}
        return SchedulerStats(
            episodes_active=self._active, episodes_done=self._done, pools_open=len(self._leases),
            queue_length=admission.queue_length, max_queue_length=admission.max_queue, runs=len(meter.runs),
            wait_p50_s=_percentile(meter.waits, 50), wait_p95_s=_percentile(meter.waits, 95),
            wait_max_s=max(meter.waits, default=None), run_p50_s=_percentile(meter.runs, 50),
            run_p95_s=_percentile(meter.runs, 95), overhead_s=meter.overhead_s,
            utilisation={k: meter.held.get(k, 0.0) / (capacity[k] * elapsed) for k in capacity},
            in_use=in_use)

