"""The node actor: one per Ray node, owning that node's :class:`~dojo_lite.Scheduler`, its jails
and the envs of the episodes placed there.

What crosses between the router (the caller's process) and a node, per step, is JSON text:
the action and the agent's note going in; the observation, reward, flags and info coming back.
Configuration (an env's keyword arguments, a shipped agent) travels the other way only, from the
trusted caller to the trusted node controller, pickled by Ray.  Agent code still runs in the
node's jails: Ray moves the controller, not the trust boundary.
"""

from __future__ import annotations

import inspect
import json
import os
import socket
from typing import Any

import attrs
import psutil
import ray

from .._admission import GpuNeed
from .._agents import Agent, EpisodeResult
from .._durations import Durations
from .._env import DojoEnv
from .._errors import ConfigError, EnvClosed
from .._scheduler import Scheduler, SchedulerStats
from ._channel import Endpoint, StepServer

__all__ = ["FORWARDED", "EnvSpec", "NodeActor", "NodeInfo", "NodeOptions", "decode_action", "encode_action",
           "result_from_json"]

# Scheduler's keyword arguments that a RayScheduler passes on to every node's scheduler (the
# budgets are per node, and a node finds its own GPUs: those Ray assigned to its actor).
FORWARDED = ("oversubscribe", "idle_close_s", "max_overtakes", "spares", "task_path", "cache", "trajectory_dir",
             "pool_options", "freeze_gc")


@attrs.frozen
class NodeInfo:
    """One node as the router sees it: Ray's node id, the host, the node actor's process, and the
    budgets its scheduler admits runs against (what Ray reserved for it, capped by the host)."""

    node_id: str
    hostname: str
    ip: str
    pid: int
    cpus: float
    memory_bytes: int
    gpus: tuple[int, ...]


@attrs.frozen
class NodeOptions:
    """What a node actor is made with: the budgets Ray reserved for it, and the scheduler's other
    keyword arguments (see :data:`FORWARDED`)."""

    cpus: float
    memory_bytes: int
    scheduler: dict[str, Any] = attrs.field(factory=dict)


@attrs.frozen
class EnvSpec:
    """How a node makes an episode's env: the task by id, the folders to find it in (on the
    node), the GPU each run needs, and the env's keyword arguments."""

    task: str
    task_path: tuple[str, ...] = ()
    gpu: GpuNeed | None = None
    kwargs: dict[str, Any] = attrs.field(factory=dict)


def encode_action(action: Any, note: dict[str, Any] | None) -> str:
    """The action and the agent's note as JSON text.  The action stays what the agent gave (a
    dict, or JSON text of its own), so the node's trajectory records it as a local env would; one
    that JSON cannot hold goes as its ``repr``, which the env answers as an invalid action."""
    try:
        return json.dumps({"action": action, "note": note})
    except (TypeError, ValueError):
        return json.dumps({"action": repr(action), "note": None})


def decode_action(text: str) -> tuple[Any, dict[str, Any] | None]:
    """The action and the note that :func:`encode_action` wrote."""
    payload = json.loads(text)
    return payload["action"], payload["note"]


def _dumps(value: Any) -> str:
    # Observations, info and history records are JSON-able already; default=str (as the trajectory
    # writer does) keeps one odd value from failing a step that went well.
    return json.dumps(value, default=str)


def result_from_json(text: str) -> EpisodeResult:
    """An :class:`EpisodeResult` back from its ``to_dict()`` as JSON text."""
    data = json.loads(text)
    data["history"] = tuple(data["history"])
    return EpisodeResult(**data)


class NodeActor:
    """The controller of one node.  Ray runs it as an async actor (``ray.remote(NodeActor)``),
    pinned to its node, with the node's budgets reserved as Ray resources; every method runs on
    the actor's event loop, where its :class:`Scheduler` lives.

    The router calls :meth:`open` once, then per episode either :meth:`reset`, :meth:`step`
    (through Ray, or over the connection :meth:`endpoint` says where to open),
    :meth:`history` and :meth:`close_env` (the agent runs in the caller's process), or
    :meth:`run_episode` (the agent was shipped here); :meth:`stats` at any time, and
    :meth:`close` at the end.  Envs are held by a key the router chose.  A method raises what the
    env or the scheduler raised (a :class:`~dojo_lite.DojoError`); Ray hands it to the caller.
    """

    def __init__(self, options: NodeOptions) -> None:
        self._options = options
        self._scheduler: Scheduler | None = None
        self._envs: dict[str, DojoEnv] = {}
        self._steps = StepServer(self.step)
        self._endpoint: Endpoint | None = None

    async def open(self) -> NodeInfo:
        """Start this node's scheduler: budgets are Ray's reservation capped by the host (all of
        its memory at most, 80% by default as a local Scheduler); the GPUs are those Ray assigned
        to this actor.  Returns what the router needs to know of the node."""
        options = self._options
        cpus = min(options.cpus, float(os.cpu_count() or 1))
        memory = min(options.memory_bytes, int(psutil.virtual_memory().total))
        gpus = tuple(int(i) for i in ray.get_gpu_ids())
        self._scheduler = Scheduler(cpus=cpus, memory=memory, gpus=gpus, **options.scheduler)
        await self._scheduler.__aenter__()
        ip: str = ray.util.get_node_ip_address()  # type: ignore[no-untyped-call]
        self._endpoint = await self._steps.start(ip)
        return NodeInfo(node_id=ray.get_runtime_context().get_node_id(), hostname=socket.gethostname(), ip=ip,
                        pid=os.getpid(), cpus=cpus, memory_bytes=memory, gpus=gpus)

    async def endpoint(self) -> Endpoint:
        """Where this node takes steps over a connection of their own (see ``_channel``), and
        the secret that opens it: for the router, through Ray."""
        if self._endpoint is None:
            raise EnvClosed("this node's scheduler is not open")
        return self._endpoint

    def _sched(self) -> Scheduler:
        if self._scheduler is None:
            raise EnvClosed("this node's scheduler is not open")
        return self._scheduler

    def _env(self, key: str) -> DojoEnv:
        env = self._envs.get(key)
        if env is None:
            raise EnvClosed("this environment was closed")
        return env

    # ------------------------------------------------------------ an env driven from the caller

    async def reset(self, key: str, spec: EnvSpec | None, seed: int | None,
                    options: dict[str, Any] | None) -> str:
        """Start an episode of env ``key`` (made from ``spec`` on its first reset).  Returns JSON
        text: ``{obs, info, episode_id, workdir, trajectory}``, the last two host paths here."""
        env = self._envs.get(key)
        if env is None:
            if spec is None:
                raise EnvClosed("this environment was closed")
            env = self._envs[key] = self._sched().env(spec.task, task_path=spec.task_path, gpu=spec.gpu,
                                                       **spec.kwargs)
        obs, info = await env.areset(seed=seed, options=options)
        trajectory = env.trajectory_path
        return _dumps({"obs": obs, "info": info, "episode_id": env.episode_id, "workdir": str(env.workdir),
                       "trajectory": str(trajectory) if trajectory else None})

    async def step(self, key: str, action: str) -> str:
        """One step of env ``key``; ``action`` from :func:`encode_action`.  Returns JSON text:
        ``[obs, reward, terminated, truncated, info]``."""
        raw, note = decode_action(action)
        return _dumps(list(await self._env(key).astep(raw, note=note)))

    async def history(self, key: str) -> str:
        """Every step of env ``key``'s episode so far, as JSON text (a list of records)."""
        return _dumps(self._env(key).history)

    async def close_env(self, key: str) -> None:
        """End env ``key``'s episode and close it; nothing happens for an unknown key."""
        env = self._envs.pop(key, None)
        if env is not None:
            await env.aclose()

    # ------------------------------------------------------------ a whole episode here

    async def run_episode(self, spec: EnvSpec, agent: Agent, seed: int | None) -> str:
        """Drive ``agent`` (shipped here) through one episode on this node's scheduler.  Returns
        the :class:`EpisodeResult` as JSON text (its trajectory path is a path on this host)."""
        if not callable(agent) or inspect.isclass(agent):
            raise ConfigError(f"an agent is a callable agent(obs, info) -> action, got {agent!r}")
        result = await self._sched().run_episode(spec.task, agent, seed=seed, task_path=spec.task_path,
                                                 gpu=spec.gpu, **spec.kwargs)
        return _dumps(result.to_dict())

    # ------------------------------------------------------------ the node as a whole

    async def stats(self) -> tuple[SchedulerStats, Durations, Durations]:
        """This node's scheduler statistics, and the summaries of its waits and run times (bounded
        in size whatever the run count), from which the router merges percentiles across nodes."""
        sched = self._sched()
        waits, runs = sched.samples()
        return sched.stats(), waits, runs

    async def close(self) -> None:
        """Close every env (ending their episodes), then the scheduler and its pools; idempotent."""
        envs, self._envs = list(self._envs.values()), {}
        await self._steps.aclose()
        try:
            for env in envs:
                await env.aclose()
        finally:
            if self._scheduler is not None:
                await self._scheduler.aclose()
