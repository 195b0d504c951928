"""The router: a :class:`~dojo_lite.Scheduler`'s API over the node actors of a Ray cluster."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import os
import socket
import statistics
from collections.abc import Coroutine, Iterable, Iterator, Sequence
from typing import Any

import attrs
import gymnasium
import ray
import ray.exceptions
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

import sandbox

from .._admission import GpuNeed
from .._agents import Agent, EpisodeResult, play
from .._durations import Durations
from .._errors import ConfigError, EnvClosed, NodeLost, UsageError, translated
from .._nursery import Nursery, shielded
from .._observation import ActionSpace, ObservationSpace
from .._scheduler import SchedulerStats
from .._task import Task, builtin_root, find_task
from ._channel import ChannelBroken, StepClient
from ._node import FORWARDED, EnvSpec, NodeActor, NodeInfo, NodeOptions, encode_action, result_from_json

__all__ = ["NodeStats", "RayEnv", "RayScheduler", "RaySchedulerStats"]

_log = logging.getLogger("dojo_lite")

# What a lost node looks like from here: its actor died with it (or its worker did), or what the
# call would have returned died with the node's object store.
_LOST = (ray.exceptions.RayActorError, ray.exceptions.NodeDiedError, ray.exceptions.WorkerCrashedError,
         ray.exceptions.ObjectLostError)


@attrs.frozen
class NodeStats:
    """One node in :meth:`RayScheduler.stats`: what it is, whether it is alive (and if not, why),
    the episodes this router placed there (in all, open now, lost with it), and its scheduler's
    last statistics (None if it was lost before any were read)."""

    node: NodeInfo
    alive: bool
    lost_reason: str | None
    episodes_placed: int
    episodes_open: int
    episodes_lost: int
    scheduler: SchedulerStats | None


@attrs.frozen
class RaySchedulerStats(SchedulerStats):
    """A :class:`SchedulerStats` of the whole cluster (so whatever reads a local scheduler's
    statistics reads these), plus each node's (``nodes``) and the episodes lost with their node.
    ``episodes_active``/``episodes_done``: those of :meth:`RayScheduler.run_episode`, as a local
    scheduler counts its own.  Sums over the nodes: pools, queue lengths (the largest queue is the
    sum of each node's largest), runs, overhead, what is in use (``gpus``: devices busy);
    percentiles of waits and run times over every run of every node; utilisation weighted by each
    node's budget (``gpus``: the mean over every GPU).  A lost node counts with its last statistics."""

    nodes: tuple[NodeStats, ...]
    episodes_lost: int


def _as_text(options: dict[str, Any]) -> dict[str, Any]:
    """``options`` with its paths (``cache``, ``trajectory_dir``) as text: what a node gets must
    unpickle there, and a path names the same place on every node."""
    return {**options, **{name: str(options[name]) for name in ("cache", "trajectory_dir")
                          if options.get(name) is not None}}


@attrs.define(eq=False)
class _Node:
    """A node as the router keeps it: its actor, what it is, and this router's books on it."""

    actor: Any  # a Ray actor handle of NodeActor
    info: NodeInfo
    index: int
    alive: bool = True
    lost_reason: str | None = None
    placed: int = 0
    open: int = 0
    lost: int = 0
    last: tuple[SchedulerStats, Durations, Durations] | None = None
    channel: StepClient | None = None  # the async steps' connection, opened on the first
    # False once that connection could not be opened, or with Ray's TLS on: steps go through Ray
    direct: bool = attrs.field(factory=lambda: os.environ.get("RAY_USE_TLS", "0").lower() not in ("1", "true"))
    connecting: asyncio.Lock = attrs.field(factory=asyncio.Lock)

    @property
    def load(self) -> float:
        """Open episodes per CPU of budget: where a new episode goes is where this is least."""
        return self.open / max(self.info.cpus, 1e-9)

    def name(self) -> str:
        return f"{self.info.hostname} (Ray node {self.info.node_id[:12]})"

    async def call(self, method: str, *args: Any) -> Any:
        """``await actor.method(*args)``: its result, or what it raised (a DojoError comes back
        as itself), or :class:`NodeLost` if the node is gone.  Cancelling the caller cancels the
        call on the node (an async actor's coroutine is cancelled there)."""
        ref = self._submit(method, *args)
        with self._translating():
            try:
                return await ref
            except asyncio.CancelledError:
                ray.cancel(ref)
                raise

    async def step(self, key: str, action: str, owner: Nursery, timeout_s: float) -> str:
        """One step of env ``key`` over the node's step connection (see ``_channel``), opened
        on the first (its reader owned by ``owner``), or through Ray if it cannot be opened.
        Raises as :meth:`call` does; if the connection breaks mid-step, :class:`NodeLost` when
        Ray says the node is gone, :class:`EnvClosed` when ``owner`` was closed meanwhile, else
        a :class:`UsageError` (the step's outcome is unknown; the next step reconnects)."""
        if not self.alive:
            raise NodeLost(f"{self.name()} was lost ({self.lost_reason}): start a new episode")
        channel = await self._channel(owner, timeout_s)
        if channel is None:
            return str(await self.call("step", key, action))
        try:
            return await channel.step(key, action)
        except ChannelBroken as exc:
            if self.channel is channel:
                self.channel = None
            if owner.closed:
                raise EnvClosed("the Ray scheduler was closed during the step") from exc
            await self.call("endpoint")  # NodeLost if the node is gone
            raise UsageError(f"the step connection to {self.name()} broke ({exc}): the step's outcome is unknown; "
                             "the next step reconnects") from exc

    async def _channel(self, owner: Nursery, timeout_s: float) -> StepClient | None:
        """The open step connection, or None if this node's steps go through Ray: where the
        connection cannot be opened (a firewall between the hosts?), or Ray's TLS is on (the
        connection would go around it).  One try at a time: steps waiting meanwhile see its end."""
        async with self.connecting:
            if not self.direct:
                return None
            if self.channel is None or self.channel.broken is not None:
                try:
                    channel = await StepClient.connect(await self.call("endpoint"), timeout_s)
                except ChannelBroken as exc:
                    await self.call("endpoint")  # NodeLost if the node is gone
                    self.direct = False
                    _log.warning("dojo_lite: no step connection to %s (%s): its steps go through Ray, ~2 ms slower",
                                 self.name(), exc)
                    return None
                try:
                    owner.start_soon(channel.run(), name=f"the step connection to {self.name()}")
                except BaseException:
                    channel.close()
                    raise
                self.channel = channel
            return self.channel

    def call_sync(self, method: str, *args: Any) -> Any:
        """:meth:`call`, blocking (for the sync twins: never on a running event loop)."""
        ref = self._submit(method, *args)
        with self._translating():
            return ray.get(ref)

    @contextlib.contextmanager
    def _translating(self) -> Iterator[None]:
        """Within the block, an exception is raised as :meth:`_translated` makes it."""
        try:
            yield
        except Exception as exc:
            error = self._translated(exc)
            if error is exc:
                raise
            raise error  # noqa: B904  (its __cause__ is set: Ray's error, unwrapped)

    def _submit(self, method: str, *args: Any) -> Any:
        if not self.alive:
            raise NodeLost(f"{self.name()} was lost ({self.lost_reason}): start a new episode")
        return getattr(self.actor, method).remote(*args)

    def _translated(self, exc: Exception) -> Exception:
        """What the caller gets for ``exc``: NodeLost for a node gone, the node's own error for one
        raised there, ConfigError for arguments the node could not unpickle, UsageError for any
        other failure of Ray's (every one a DojoError, its ``__cause__`` Ray's error); else ``exc``."""
        if isinstance(exc, ray.exceptions.RayTaskError) and isinstance(exc.cause, Exception):
            if not isinstance(exc.cause, ray.exceptions.RayError):
                return exc.cause  # the node's own error (a DojoError); Ray's remote traceback is its context
            exc = exc.cause  # Ray failed on the node (say, an argument it could not unpickle)
        error: Exception
        if isinstance(exc, _LOST):
            self.mark_lost(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
            error = NodeLost(f"{self.name()}, which held this episode's work dir and warm sandbox, was lost "
                             f"({self.lost_reason}): the episode cannot move to another node; start a new one "
                             "(it goes to a node still alive)")
        elif isinstance(exc, ray.exceptions.RaySystemError):
            error = ConfigError(f"{self.name()} could not take what was sent to it ({str(exc).splitlines()[0]}): "
                                "it must unpickle there (its classes importable on the node)")
        elif isinstance(exc, ray.exceptions.RayError):
            error = UsageError(f"Ray failed a call to {self.name()}: {exc}")
        else:
            return exc
        error.__cause__ = exc
        return error

    def mark_lost(self, reason: str) -> None:
        if self.channel is not None:
            self.channel.close()
        if self.alive:
            self.alive, self.lost_reason, self.lost = False, reason, self.open
            _log.warning("dojo_lite: %s was lost (%s); %d open episodes with it", self.name(), reason, self.open)


class RayEnv(gymnasium.Env[dict[str, Any], Any]):
    """An episode's env on a Ray node: ``RayEnv(sched, task, **kwargs)``, the same as
    ``sched.env(task, **kwargs)`` (see :meth:`RayScheduler.env`).  The
    :class:`~dojo_lite.DojoEnv` itself lives on :attr:`node`, pinned there (its work dir and its
    task's warm sandbox are there), and each method here is one call to that node.

    ``areset``/``astep``/``aclose`` and ``ahistory`` are async; ``reset``/``step``/``close``
    their sync twins (refused inside a running event loop, as a DojoEnv's are).  What they return
    is what a DojoEnv returns (see its docstring), sent as JSON.  If the node is lost, every
    method but ``aclose``/``close`` raises :class:`NodeLost`.  :attr:`workdir` and
    :attr:`trajectory_path` are paths on the node's host.
    """

    metadata = {"render_modes": []}

    def __init__(self, scheduler: RayScheduler, task: str | Task, *, gpu: GpuNeed | None = None,
                 **kwargs: Any) -> None:
        scheduler._check_open()
        task, spec = scheduler._spec(task, gpu, kwargs)
        self.task = task
        self.observation_space = ObservationSpace()
        self.action_space = ActionSpace()
        self._router = scheduler
        self._node = scheduler._place()
        self._key = scheduler._new_key()
        self._spec: EnvSpec | None = spec  # sent with each reset until one succeeds (the first makes the env there)
        self._sent = False  # whether a reset went to the node: then there may be an env to close there
        self._closed = False
        self.episode_id: str | None = None
        self.workdir: str | None = None
        self.trajectory_path: str | None = None

    @property
    def node(self) -> NodeInfo:
        """The node this env's episodes run on."""
        return self._node.info

    # ------------------------------------------------------------ async API

    async def areset(self, *, seed: int | None = None,
                     options: dict[str, Any] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
        """Start a new episode on the node; returns the overview and info."""
        self._check_open()
        super().reset(seed=seed)
        self._sent = True
        return self._started(await self._node.call("reset", self._key, self._spec, seed, options))

    async def astep(self, action: Any, *, note: dict[str, Any] | None = None,
                    ) -> tuple[dict[str, Any], float, bool, bool, dict[str, Any]]:
        """Run one action on the node; returns ``(obs, reward, terminated, truncated, info)``."""
        self._check_open()
        router = self._router
        return self._stepped(await self._node.step(self._key, encode_action(action, note), router._nursery,
                                                   router.connect_timeout_s))

    async def ahistory(self) -> list[dict[str, Any]]:
        """Every step of the episode so far (the records a DojoEnv's ``history`` holds)."""
        self._check_open()
        history: list[dict[str, Any]] = json.loads(await self._node.call("history", self._key))
        return history

    async def aclose(self) -> None:
        """End the episode and close the env on its node; idempotent, and quiet if the node is lost."""
        if self._close_here():
            with contextlib.suppress(NodeLost):  # nothing left there to close
                await self._node.call("close_env", self._key)

    # ------------------------------------------------------------ sync API (Gymnasium)

    def reset(self, *, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
        self._check_open()
        self._check_sync()
        super().reset(seed=seed)
        self._sent = True
        return self._started(self._node.call_sync("reset", self._key, self._spec, seed, options))

    def step(self, action: Any) -> tuple[dict[str, Any], float, bool, bool, dict[str, Any]]:
        self._check_open()
        self._check_sync()
        return self._stepped(self._node.call_sync("step", self._key, encode_action(action, None)))

    def close(self) -> None:
        """End the episode and close the env on its node; after async use, ``await aclose()``."""
        if self._closed:
            return
        self._check_sync()
        if self._close_here():
            with contextlib.suppress(NodeLost):
                self._node.call_sync("close_env", self._key)

    # ------------------------------------------------------------ internals

    def _check_open(self) -> None:
        if self._closed:
            raise EnvClosed("this environment was closed")

    @staticmethod
    def _check_sync() -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return
        raise UsageError("RayEnv's sync methods cannot run inside an event loop: use areset/astep/aclose")

    def _close_here(self) -> bool:
        """Mark closed and give the node's slot back to the router; True if the node may hold
        an env to close (a reset went there)."""
        if self._closed:
            return False
        self._closed = True
        self._router._released(self._node)
        return self._sent

    def _started(self, text: str) -> tuple[dict[str, Any], dict[str, Any]]:
        self._spec = None
        reply = json.loads(text)
        self.episode_id, self.workdir, self.trajectory_path = reply["episode_id"], reply["workdir"], reply["trajectory"]
        return reply["obs"], reply["info"]

    @staticmethod
    def _stepped(text: str) -> tuple[dict[str, Any], float, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = json.loads(text)
        return obs, float(reward), bool(terminated), bool(truncated), info


class RayScheduler:
    """A :class:`~dojo_lite.Scheduler`'s API over a Ray cluster: one node actor per node owns
    that node's scheduler, jails and warm pools; episodes are placed on the least-loaded node
    (fewest open episodes per CPU of budget) and stay there.

    Use as ``async with RayScheduler("auto") as sched``, then :meth:`env`, :meth:`run_episode`,
    :meth:`gather` and :meth:`stats` as on a local scheduler.  By default an agent runs here, in
    the caller's process (an LLM client and its key stay here), and each step is one call to the
    episode's node; ``run_episode(..., on_node=True)`` ships a picklable agent to the node
    instead (no round trip per step).  What crosses per step is JSON text; agent code runs in
    the node's jails.

    On entering, it connects to Ray (``address``: None for the running connection, else
    ``ray.init``'s own default, a local cluster or ``$RAY_ADDRESS``; ``"auto"``; or
    ``"host:port"``, refused within ``connect_timeout_s`` if nothing answers there) and starts
    one node actor on every alive node with CPUs (or on ``nodes``, Ray node ids).  Without
    ``nodes``, it looks for nodes that joined every ``watch_nodes_s`` seconds (None: never) and
    starts actors there too; :meth:`refresh_nodes` looks at once.  Each node's budgets are Ray
    resources, reserved for its actor (so Ray places nothing else on them): ``cpus`` (default:
    all of the node's Ray CPUs), ``memory`` (bytes or ``"96G"``; default 80% of the node's Ray
    memory) and ``gpus`` (a count; default 0, None for all of the node's); each at most what
    the node has in Ray, and the node caps CPUs and memory at what its host has.  A node that
    cannot be started within ``start_timeout_s`` is an error.
    The other keyword arguments (``idle_close_s``, ``spares``, ``task_path``, ``cache``,
    ``trajectory_dir``, ``pool_options``, ...) go to every node's :class:`~dojo_lite.Scheduler`;
    paths are paths on the nodes (a shared file system, or the same layout on every host).

    A node lost mid-episode gives its episodes :class:`NodeLost` (an :class:`EnvClosed`); the
    others go on, and new episodes go to the nodes still alive.  Closing ends every episode
    (callers of :meth:`run_episode` get :class:`EnvClosed`), closes every node's scheduler and
    stops the actors; a Ray connection it made, it shuts down.
    """

    def __init__(self, address: str | None = None, *, nodes: Sequence[str] | None = None, cpus: float | None = None,
                 memory: int | str | None = None, gpus: int | None = 0, start_timeout_s: float = 300.0,
                 max_concurrency: int = 10_000, watch_nodes_s: float | None = 10.0,
                 connect_timeout_s: float = 10.0, **scheduler_options: Any) -> None:
        unknown = sorted(set(scheduler_options) - set(FORWARDED))
        if unknown:
            raise ConfigError(f"RayScheduler does not take {unknown}; it passes on {list(FORWARDED)}")
        if ((cpus is not None and cpus <= 0) or (gpus is not None and gpus < 0) or start_timeout_s <= 0
                or (watch_nodes_s is not None and watch_nodes_s <= 0) or connect_timeout_s <= 0):
            raise ConfigError(f"want cpus > 0, gpus >= 0, and start_timeout_s, watch_nodes_s (or None) and "
                              f"connect_timeout_s > 0; got {cpus!r}, {gpus!r}, {start_timeout_s!r}, "
                              f"{watch_nodes_s!r}, {connect_timeout_s!r}")
        with translated():
            self._memory = None if memory is None else sandbox.parse_size(memory)
        self.address = address
        self._want = None if nodes is None else set(nodes)
        self._cpus, self._gpus = cpus, gpus
        self.start_timeout_s = start_timeout_s
        self.watch_nodes_s = watch_nodes_s
        self.connect_timeout_s = connect_timeout_s
        self.max_concurrency = max_concurrency
        self.task_path = tuple(str(p) for p in scheduler_options.get("task_path", ()))
        self._scheduler_options = _as_text({**scheduler_options, "task_path": self.task_path})
        self._nodes: list[_Node] = []
        self._keys = itertools.count()
        self._nursery = Nursery("the Ray scheduler")
        self._opening: asyncio.Lock | None = None
        self._refreshing: asyncio.Lock | None = None
        self._refused: set[str] = set()  # nodes that joined but cannot hold the budgets
        self._opened = False
        self._active = 0  # episodes of run_episode running now, and finished (as a Scheduler counts them)
        self._done = 0
        self._owns_ray = False
        self._closed = False

    # ------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> RayScheduler:
        await self._open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _open(self) -> None:
        self._check_open()
        self._opening = self._opening or asyncio.Lock()
        async with self._opening:
            if not self._opened:
                await self._start_nodes()
                self._opened = True
                await self._nursery.open()
                if self._want is None and self.watch_nodes_s is not None:
                    self._nursery.start_soon(self._watch_nodes(self.watch_nodes_s), name="the watch for new Ray nodes")

    async def _start_nodes(self) -> None:
        if not ray.is_initialized():
            await asyncio.to_thread(_check_reachable, self.address, self.connect_timeout_s)
            # On this thread: ray.init installs signal handlers, which only the main thread may.
            # Once, before any episode.
            try:
                ray.init(address=self.address, logging_level=logging.WARNING)
            except (ConnectionError, RuntimeError, ValueError) as exc:  # no cluster there, a bad address
                raise ConfigError(f"cannot connect to Ray at {self.address or 'a new local cluster'}: {exc}") from exc
            self._owns_ray = True
        elif self.address not in (None, "auto"):
            _log.info("dojo_lite: Ray is already connected; RayScheduler(%r) uses that connection", self.address)
        chosen = self._new_nodes(ray.nodes())  # type: ignore[no-untyped-call]
        if not chosen:
            raise ConfigError("no Ray node to run episodes on: none alive with CPUs"
                              + (f" among {sorted(self._want)}" if self._want else ""))
        self._nodes = await self._start_actors(chosen)

    def _new_nodes(self, every: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The nodes of ``every`` (Ray's node table) to start an actor on: alive, with CPUs,
        among those asked for, and not started yet (a lost node's id is never taken again)."""
        known = {n.info.node_id for n in self._nodes}
        return [n for n in every if n["Alive"] and n["Resources"].get("CPU", 0) > 0 and n["NodeID"] not in known
                and (self._want is None or n["NodeID"] in self._want)]

    async def _start_actors(self, chosen: list[dict[str, Any]]) -> list[_Node]:
        """A started node actor on each of ``chosen``, numbered after the nodes already known."""
        remote: Any = ray.remote(NodeActor)  # typed by Ray as the class; it is an actor class
        reservations = [self._reservation(node) for node in chosen]  # a refusal here, before any actor exists
        actors = [remote.options(**reservation).remote(self._options(node))
                  for node, reservation in zip(chosen, reservations, strict=True)]
        try:
            infos = await asyncio.wait_for(asyncio.gather(*(a.open.remote() for a in actors)), self.start_timeout_s)
        except BaseException as exc:
            for actor in actors:  # none is kept: a half-started node holds its budgets for nothing
                ray.kill(actor)
            raise self._start_failed(exc, reservations)  # noqa: B904  (its cause is set where there is one)
        first = len(self._nodes)
        return [_Node(actor, info, first + i) for i, (actor, info) in enumerate(zip(actors, infos, strict=True))]

    def _start_failed(self, exc: BaseException, reservations: list[dict[str, Any]]) -> BaseException:
        """What to raise for ``exc``, raised while node actors started with ``reservations``."""
        if isinstance(exc, TimeoutError):
            return ConfigError(f"the node actors did not start within {self.start_timeout_s:g} s: Ray could not "
                               f"reserve {[r['num_cpus'] for r in reservations]} CPUs (and the memory "
                               "and GPUs) on the nodes; is something else holding them?")
        if not isinstance(exc, ray.exceptions.RayError):  # a cancellation, or a bug: as it is
            return exc
        # a node's scheduler refused its budgets (its own error), or a node died
        error = (exc.cause if isinstance(exc, ray.exceptions.RayTaskError) and isinstance(exc.cause, Exception)
                 else NodeLost(f"a Ray node was lost while its node actor started: {exc}"))
        error.__cause__ = exc
        return error

    async def refresh_nodes(self) -> tuple[NodeInfo, ...]:
        """Start node actors on the nodes that joined the cluster since (alive, with CPUs; only
        among ``nodes`` if that was given) and place new episodes there too; returns what those
        nodes are.  Unless ``nodes`` was given, this runs by itself every ``watch_nodes_s``
        seconds; call it to take a new node at once.  Raises as opening does if a new node's
        actor cannot start (then that node is tried again next time)."""
        self._check_open()
        if not self._opened:
            raise UsageError("open the Ray scheduler first: `async with RayScheduler(...) as sched`")
        self._refreshing = self._refreshing or asyncio.Lock()
        async with self._refreshing:
            fresh = [node for node in self._new_nodes(await asyncio.to_thread(ray.nodes)) if self._can_serve(node)]
            started = await self._start_actors(fresh) if fresh else []
            if self._closed:  # closed meanwhile: these nodes' actors would outlive it
                for node in started:
                    ray.kill(node.actor)
                raise EnvClosed("the Ray scheduler was closed")
            self._nodes += started
        for node in started:
            _log.info("dojo_lite: %s joined: new episodes go there too", node.name())
        return tuple(n.info for n in started)

    def _can_serve(self, node: dict[str, Any]) -> bool:
        """Whether a node that joined can hold this scheduler's budgets (say, ``gpus`` on a node
        without them); one that cannot is said once in the log and left alone."""
        if node["NodeID"] in self._refused:
            return False
        try:
            self._reservation(node)
        except ConfigError as exc:
            self._refused.add(node["NodeID"])
            _log.warning("dojo_lite: a Ray node that joined is left alone: %s", exc)
            return False
        return True

    async def _watch_nodes(self, every_s: float) -> None:
        while True:
            await asyncio.sleep(every_s)
            try:
                await self.refresh_nodes()
            except Exception as exc:  # a node that could not start, Ray busy: look again next time
                _log.warning("dojo_lite: looking for Ray nodes that joined failed (tried again in %g s): %s",
                             every_s, exc)

    def _reservation(self, node: dict[str, Any]) -> dict[str, Any]:
        """The Ray options of ``node``'s actor: pinned there, holding the node's budgets."""
        have = node["Resources"]
        cpus = have.get("CPU", 0.0) if self._cpus is None else min(self._cpus, have.get("CPU", 0.0))
        ray_memory = have.get("memory", 0.0)
        memory = int(0.8 * ray_memory if self._memory is None else min(self._memory, ray_memory))
        gpus = have.get("GPU", 0.0) if self._gpus is None else float(self._gpus)
        if gpus > have.get("GPU", 0.0):
            raise ConfigError(f"Ray node {node['NodeID'][:12]} has {have.get('GPU', 0):g} GPUs, not {gpus:g}")
        return {"num_cpus": cpus, "memory": memory, "num_gpus": gpus, "max_restarts": 0,
                "max_concurrency": self.max_concurrency,
                "scheduling_strategy": NodeAffinitySchedulingStrategy(node["NodeID"], soft=False)}

    def _options(self, node: dict[str, Any]) -> NodeOptions:
        reservation = self._reservation(node)
        return NodeOptions(cpus=reservation["num_cpus"], memory_bytes=reservation["memory"],
                           scheduler=dict(self._scheduler_options))

    async def aclose(self) -> None:
        """End the episodes still running, close every node's scheduler and stop the node actors;
        idempotent."""
        self._closed = True
        await self._nursery.aclose()
        nodes, self._nodes = self._nodes, []
        live = [n for n in nodes if n.alive]
        outcomes = await asyncio.gather(*(n.call("close") for n in live), return_exceptions=True)
        for node, outcome in zip(live, outcomes, strict=True):
            if isinstance(outcome, BaseException) and not isinstance(outcome, NodeLost):
                _log.warning("dojo_lite: closing %s failed: %r", node.name(), outcome)
        for node in nodes:
            ray.kill(node.actor)
        if self._owns_ray:
            self._owns_ray = False
            ray.shutdown()

    def _check_open(self) -> None:
        if self._closed:
            raise EnvClosed("the Ray scheduler is closed")

    # ------------------------------------------------------------ nodes and placement

    @property
    def nodes(self) -> tuple[NodeInfo, ...]:
        """The nodes this scheduler runs episodes on (lost ones included)."""
        return tuple(n.info for n in self._nodes)

    @property
    def cpus(self) -> float:
        """The CPU budgets of the nodes still alive, summed."""
        return sum(n.info.cpus for n in self._nodes if n.alive)

    @property
    def memory_bytes(self) -> int:
        """The memory budgets of the nodes still alive, summed."""
        return sum(n.info.memory_bytes for n in self._nodes if n.alive)

    def _place(self) -> _Node:
        """The alive node with the fewest open episodes per CPU (the bigger, then the first, on a tie)."""
        if not self._opened:
            raise UsageError("open the Ray scheduler first: `async with RayScheduler(...) as sched`")
        live = [n for n in self._nodes if n.alive]
        if not live:
            raise NodeLost("every Ray node of this scheduler was lost: "
                           + "; ".join(f"{n.name()}: {n.lost_reason}" for n in self._nodes))
        node = min(live, key=lambda n: (n.load, -n.info.cpus, n.index))
        node.placed += 1
        node.open += 1
        return node

    def _released(self, node: _Node) -> None:
        node.open -= 1

    def _spec(self, task: str | Task, gpu: GpuNeed | None, kwargs: dict[str, Any]) -> tuple[Task, EnvSpec]:
        """The task (found here, to fail early and to know its id) and how a node makes its env."""
        if "backend" in kwargs:
            raise ConfigError("a RayScheduler's envs run on its nodes' schedulers: no backend= here")
        extra = tuple(str(p) for p in kwargs.pop("task_path", ()))
        task = task if isinstance(task, Task) else find_task(task, [*extra, *self.task_path])
        root = task.path.parent.parent
        # The node finds the task by id: in the folder it came from (same path there), else on its own path.
        task_path = (*extra, *(() if root == builtin_root() else (str(root),)))
        return task, EnvSpec(task.id, task_path, gpu, _as_text(kwargs))

    # ------------------------------------------------------------ episodes

    def env(self, task: str | Task, *, gpu: GpuNeed | None = None, **kwargs: Any) -> RayEnv:
        """A :class:`RayEnv` on the least-loaded node (keyword arguments go to its DojoEnv there);
        the env is made on the node by its first reset.  Needs the scheduler open."""
        return RayEnv(self, task, gpu=gpu, **kwargs)

    def _new_key(self) -> str:
        return f"env-{next(self._keys)}"

    async def run_episode(self, task: str | Task, agent: Agent, *, seed: int | None = None, on_node: bool = False,
                          **env_kwargs: Any) -> EpisodeResult:
        """Drive ``agent`` through one episode of ``task`` on the least-loaded node, as a task this
        scheduler owns.  By default the agent runs here (async, or sync in a worker thread) and
        each step is one call to the node; with ``on_node`` the agent is shipped to the node
        (it must pickle) and runs there.  Raises :class:`NodeLost` if the node is lost meanwhile."""
        await self._open()
        coro = self._on_node(task, agent, seed, env_kwargs) if on_node else self._here(task, agent, seed, env_kwargs)
        return await self._nursery.run(self._counted(coro), name=f"episode of {getattr(task, 'id', task)}")

    async def _counted(self, episode: Coroutine[Any, Any, EpisodeResult]) -> EpisodeResult:
        self._active += 1
        try:
            return await episode
        finally:
            self._active -= 1
            self._done += 1

    async def _here(self, task: str | Task, agent: Agent, seed: int | None,
                    env_kwargs: dict[str, Any]) -> EpisodeResult:
        env = self.env(task, **env_kwargs)
        try:
            # a sync agent in a worker thread: the loop serves the other episodes meanwhile
            info, truncated = await play(env, agent, seed=seed, sync_in_thread=True)
            history = await env.ahistory()
        finally:
            await shielded(env.aclose())
        return EpisodeResult.of(env.task.id, env.episode_id, history, info, truncated, env.trajectory_path)

    async def _on_node(self, task: str | Task, agent: Agent, seed: int | None,
                       env_kwargs: dict[str, Any]) -> EpisodeResult:
        gpu = env_kwargs.pop("gpu", None)
        _, spec = self._spec(task, gpu, env_kwargs)
        node = self._place()
        try:
            try:
                text = await node.call("run_episode", spec, agent, seed)
            except (TypeError, ConfigError) as exc:
                if isinstance(exc, ConfigError) and not isinstance(exc.__cause__, ray.exceptions.RaySystemError):
                    raise  # the node's own refusal
                # Ray could not pickle the agent here (TypeError), or the node could not unpickle it
                # (RaySystemError: say, its class is in a module the node cannot import)
                raise ConfigError(f"this agent cannot be shipped to a node ({str(exc).splitlines()[0]}): make it "
                                  "picklable and importable on every node, or run it here (on_node=False), where "
                                  "each step is a call to the node") from exc
        finally:
            self._released(node)
        return result_from_json(text)

    async def gather(self, jobs: Iterable[tuple[str | Task, Agent]], *, seed: int | None = None,
                     on_node: bool = False, return_exceptions: bool = False) -> list[EpisodeResult | BaseException]:
        """Run ``(task, agent)`` episodes concurrently across the nodes; their results in the same
        order (with ``return_exceptions``, an episode lost with its node is its NodeLost)."""
        coros = [self.run_episode(task, agent, seed=seed, on_node=on_node) for task, agent in jobs]
        return await asyncio.gather(*coros, return_exceptions=return_exceptions)

    # ------------------------------------------------------------ visibility

    async def astats(self) -> RaySchedulerStats:
        """:meth:`stats`, without blocking the event loop while the nodes answer."""
        live = [n for n in self._nodes if n.alive]
        outcomes = await asyncio.gather(*(n.call("stats") for n in live), return_exceptions=True)
        return self._stats(live, outcomes)

    def stats(self) -> RaySchedulerStats:
        """The whole cluster's statistics and each node's (see :class:`RaySchedulerStats`); asks
        every live node (a round trip, blocking: in a coroutine, prefer ``await astats()``)."""
        live = [n for n in self._nodes if n.alive]
        refs = [n.actor.stats.remote() for n in live]
        outcomes: list[Any] = []
        for node, ref in zip(live, refs, strict=True):
            try:
                outcomes.append(ray.get(ref))
            except Exception as exc:
                outcomes.append(node._translated(exc))
        return self._stats(live, outcomes)

    def _stats(self, live: list[_Node], outcomes: Sequence[Any]) -> RaySchedulerStats:
        for node, outcome in zip(live, outcomes, strict=True):
            if isinstance(outcome, tuple):
                node.last = outcome
            elif isinstance(outcome, BaseException) and not isinstance(outcome, NodeLost):
                raise outcome
        return _aggregate(self._nodes, self._active, self._done)


def _check_reachable(address: str | None, timeout_s: float) -> None:
    """Fail within ``timeout_s`` if nothing answers at a ``host:port`` address: ``ray.init`` would
    retry for many minutes before it gave up.  (Something that answers but is not Ray's GCS still
    gets Ray's own retries.)"""
    if address is None or address in ("auto", "local") or "://" in address:
        return
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError(f"a Ray address is 'auto', 'HOST:PORT' or 'ray://HOST:PORT', not {address!r}")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s):
            pass
    except OSError as exc:
        raise ConfigError(f"nothing answers at the Ray address {address} ({exc or type(exc).__name__}): is the "
                          "head node started (`ray start --head`) and is that its GCS port (6379 by "
                          "default)?") from exc


def _aggregate(nodes: Sequence[_Node], active: int, done: int) -> RaySchedulerStats:
    per_node = tuple(NodeStats(n.info, n.alive, n.lost_reason, n.placed, n.open if n.alive else 0, n.lost,
                               n.last[0] if n.last else None) for n in nodes)
    seen = [n for n in nodes if n.last is not None]
    parts = [n.last[0] for n in seen if n.last is not None]
    waits, runs = Durations(), Durations()
    for node in seen:
        if node.last is not None:
            waits, runs = waits.merged(node.last[1]), runs.merged(node.last[2])
    budgets = {"cpus": [n.info.cpus for n in seen], "memory": [float(n.info.memory_bytes) for n in seen]}
    utilisation = {k: sum(p.utilisation.get(k, 0.0) * b for p, b in zip(parts, weights, strict=True))
                   / (sum(weights) or 1.0) for k, weights in budgets.items()}
    gpu_use = [v for p in parts for k, v in p.utilisation.items() if k.startswith("gpu")]
    if gpu_use:
        utilisation["gpus"] = statistics.fmean(gpu_use)
    in_use = {"cpus": sum(p.in_use.get("cpus", 0.0) for p in parts),
              "memory": sum(p.in_use.get("memory", 0.0) for p in parts),
              "gpus": sum(v for p in parts for k, v in p.in_use.items() if k.startswith("gpu"))}
    return RaySchedulerStats(
        episodes_active=active, episodes_done=done,
        pools_open=sum(p.pools_open for p in parts), queue_length=sum(p.queue_length for p in parts),
        max_queue_length=sum(p.max_queue_length for p in parts), runs=sum(p.runs for p in parts),
        wait_p50_s=waits.percentile(50), wait_p95_s=waits.percentile(95), wait_max_s=waits.max,
        run_p50_s=runs.percentile(50), run_p95_s=runs.percentile(95),
        overhead_s=sum(p.overhead_s for p in parts), utilisation=utilisation, in_use=in_use,
        nodes=per_node, episodes_lost=sum(n.lost for n in nodes))
