"""Where an environment's code runs: the :class:`Backend` protocol and its pool backends.

Shaped like httpx's transports: :class:`~dojo_lite.DojoEnv` talks only to this small protocol,
whatever runs the code underneath.  Three implementations exist:

- :class:`PoolBackend`: a sandbox pool of the env's own, started with its first episode and
  closed with the env (the default);
- :class:`SharedPoolBackend`: a started pool that the caller owns and shares between envs;
- the scheduler's (``Scheduler.backend()``): a shared pool per task, each run admitted against
  the host's budgets, time spent queued metered and not charged to the episode.
"""

from __future__ import annotations

import asyncio
import inspect
import os
from pathlib import Path
from typing import Any, Protocol

import attrs

import sandbox

from ._defaults import FROM_TASK, FromTask
from ._errors import ConfigError, EnvClosed, UsageError, translated
from ._task import Task

__all__ = ["DATA_INSIDE", "Backend", "PoolBackend", "Ran", "SharedPoolBackend", "task_pool"]

DATA_INSIDE = "/data"  # where a pool shows the task's public data: /data/full, /data/micro

Quota = sandbox.DiskQuota | None | FromTask


@attrs.frozen
class Ran:
    """A finished run: the sandbox's result, and the seconds it waited before it could start."""

    result: sandbox.RunResult
    queued_s: float = 0.0


class Backend(Protocol):
    """What :class:`~dojo_lite.DojoEnv` needs from wherever agent code runs.

    An env calls :meth:`start` once, before its first episode; then, per episode,
    :meth:`open_workdir`, any number of :meth:`run` and :meth:`clear_workdir`, and
    :meth:`remove_workdir`; and :meth:`aclose` once, when the env closes.  One backend object
    serves one env (a second :meth:`start` raises UsageError; the scheduler's and
    :class:`SharedPoolBackend` share a pool underneath).  Once the pool is closed (by the env, the
    scheduler or the pool's owner) every method raises EnvClosed, and a run cut short by the close
    raises it too, rather than returning a verdict on code that did nothing wrong.  Every method
    raises only :class:`~dojo_lite.DojoError` (the sandbox's errors translated).
    """

    async def start(self, task: Task, cache: Path | None) -> None:
        """Make ready to run ``task``'s code (prepare its data, start or lease a pool)."""

    async def open_workdir(self, name: str, disk_quota: Quota = FROM_TASK) -> Path:
        """A fresh, empty work dir for an episode; returns its host path.  ``disk_quota``:
        FROM_TASK (the task's, unless the backend runs without quotas), a quota, or None."""

    def data_path(self, inside: str) -> str:
        """Where agent code finds the path ``inside`` (e.g. ``/data/full``) as it runs."""

    async def run(self, code: str, *, workdir: str, limits: sandbox.Limits, filename: str) -> Ran:
        """Run ``code`` in the work dir ``workdir`` under ``limits``; agent failures are results."""

    async def clear_workdir(self, name: str) -> None:
        """Empty the work dir (the ``reset`` action)."""

    async def remove_workdir(self, name: str) -> None:
        """Remove the work dir and everything in it (never raises for what agent code left)."""

    async def aclose(self) -> None:
        """Give back what :meth:`start` took; idempotent."""


def task_pool(task: Task, *, cache: Path | None = None, **kwargs: Any) -> sandbox.Pool:
    """A (not yet started) sandbox pool for ``task``'s episodes: its preload list, its public data
    mounted read-only under ``/data/full`` and ``/data/micro``; hidden inside: the task folder, the
    data cache, and the task's ``sources`` (the data it was built from: packages of the runtime,
    and host folders such as an imported competition's).  Keyword arguments go to :class:`sandbox.Pool`."""
    full, micro = task.prepare("full", cache), task.prepare("micro", cache)
    mounts = [sandbox.Mount(full.public, f"{DATA_INSIDE}/full"), sandbox.Mount(micro.public, f"{DATA_INSIDE}/micro")]
    packages = [source for source in task.sources if not source.startswith("/")]
    # A folder that is gone (the task was moved to another host) has nothing left to hide.
    folders = [source for source in task.sources if source.startswith("/") and os.path.lexists(source)]
    if files := [folder for folder in folders if not os.path.isdir(folder)]:
        raise ConfigError(f"{task.id}: sources must name folders (a jail hides folders), not the files {files}")
    with translated():
        runtime = kwargs.setdefault("runtime", sandbox.Runtime())
        hidden = [task.path.parent.parent, task.data_dir(cache).parent.parent, *runtime.locate(packages), *folders,
                  *kwargs.pop("hidden", ())]
        kwargs.setdefault("limits", task.limits)
        kwargs.setdefault("disk_quota", task.disk_quota)
        kwargs.setdefault("name", task.id.replace("/", "--"))
        return sandbox.Pool(preload=task.preload, ro_mounts=mounts, hidden=hidden, **kwargs)


_TASK_OWNED = ("preload", "ro_mounts")  # what task_pool derives from the task itself


def check_pool_options(options: dict[str, Any]) -> None:
    """ConfigError for options :class:`sandbox.Pool` does not take, or that the task decides."""
    known = set(inspect.signature(sandbox.Pool).parameters) - set(_TASK_OWNED)
    wrong = sorted(set(options) - known)
    if wrong:
        raise ConfigError(f"unknown or task-owned pool options {wrong}; sandbox.Pool takes {sorted(known)}")


async def start_task_pool(task: Task, cache: Path | None, options: dict[str, Any]) -> sandbox.Pool:
    """:func:`task_pool`, started (preparing the data and probing the runtime off the event loop)."""
    pool = await asyncio.to_thread(task_pool, task, cache=cache, **options)
    with translated():
        await pool.start()
    return pool


class _OnPool:
    """The work-dir and run methods of a backend that holds a started pool."""

    def __init__(self) -> None:
        self._pool: sandbox.Pool | None = None
        self._task: Task | None = None  # the env's task, from start() on: a backend serves one env

    @property
    def pool(self) -> sandbox.Pool:
        """The started pool; EnvClosed once it is closed (by this backend or by its owner)."""
        if self._task is None:
            raise UsageError("the backend was not started: DojoEnv calls start() before the first episode")
        if self._pool is None or self._pool.closed:
            raise EnvClosed("the sandbox pool of this env was closed")
        return self._pool

    def _bind(self, task: Task) -> None:
        if self._task is not None:
            raise UsageError("this backend already serves an env: give each env a backend of its own")
        self._task = task

    @staticmethod
    async def _run_on(pool: sandbox.Pool, code: str, *, workdir: str, limits: sandbox.Limits, filename: str,
                      gpu: sandbox.GpuRequest | None = None) -> sandbox.RunResult:
        with translated():
            result = await pool.run(code, workdir=workdir, limits=limits, filename=filename, gpu=gpu)
        if pool.closed:  # killed by the close, not by its own doing: no verdict on the agent's code
            raise EnvClosed("the sandbox pool of this env was closed while the code ran")
        return result

    async def open_workdir(self, name: str, disk_quota: Quota = FROM_TASK) -> Path:
        pool = self.pool
        if disk_quota is FROM_TASK:  # a pool made without quotas is an explicit opt-out
            assert self._task is not None
            disk_quota = self._task.disk_quota if pool.disk_quota is not None else None
        with translated():
            return await pool.prepare_workdir(name, disk_quota=disk_quota)

    def data_path(self, inside: str) -> str:
        return self.pool.agent_path(inside)

    async def run(self, code: str, *, workdir: str, limits: sandbox.Limits, filename: str) -> Ran:
        return Ran(await self._run_on(self.pool, code, workdir=workdir, limits=limits, filename=filename))

    async def clear_workdir(self, name: str) -> None:
        with translated():
            await self.pool.clear_workdir(name)

    async def remove_workdir(self, name: str) -> None:
        if self._pool is not None and not self._pool.closed:
            await self._pool.remove_workdir(name)


class PoolBackend(_OnPool):
    """A sandbox pool of the env's own: made from the task on :meth:`start`, closed by
    :meth:`aclose`.  Keyword arguments go to :class:`sandbox.Pool` (``isolation="none"``,
    ``disk_quota=None``, ``spares=2``, ...), over the task's defaults.  ``gpu``: every run gets
    these devices (the pool mounts only them), with the request's memory cap."""

    def __init__(self, *, gpu: sandbox.GpuRequest | None = None, **pool_options: Any) -> None:
        super().__init__()
        if gpu is not None:
            if "gpus" in pool_options:
                raise ConfigError("give the GPUs as gpu=GpuRequest(...) or as gpus=[...], not both")
            pool_options["gpus"] = list(gpu.devices)
        check_pool_options(pool_options)
        self.pool_options = pool_options
        self.gpu = gpu

    async def run(self, code: str, *, workdir: str, limits: sandbox.Limits, filename: str) -> Ran:
        return Ran(await self._run_on(self.pool, code, workdir=workdir, limits=limits, filename=filename,
                                      gpu=self.gpu))

    async def start(self, task: Task, cache: Path | None) -> None:
        self._bind(task)
        self._pool = await start_task_pool(task, cache, self.pool_options)

    async def aclose(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            with translated():
                await pool.aclose()


class SharedPoolBackend(_OnPool):
    """A started pool that the caller owns (and closes), shared by several envs of one task:
    make it with :func:`task_pool` and give each env its own ``SharedPoolBackend(pool)``."""

    def __init__(self, pool: sandbox.Pool) -> None:
        super().__init__()
        self._pool = pool

    async def start(self, task: Task, cache: Path | None) -> None:
        self._bind(task)
        self.pool  # noqa: B018  (EnvClosed if the owner closed it already)

    async def aclose(self) -> None:
        """Nothing to give back: the pool is the caller's to close."""
