"""Built-in agents and the loop that drives an agent through an episode.

An agent is a callable ``agent(obs, info) -> action | None`` (or an ``async`` one): it gets the
last observation and info and returns the next action, or None to end the episode.
"""

from __future__ import annotations

import asyncio
import inspect
import os
from collections.abc import Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

import attrs

from ._chat import ChatAgent, ChatClient, ChatConfig
from ._env import DojoEnv
from ._errors import ConfigError
from ._task import Task
from ._trajectory import read_trajectory

__all__ = [
    "Agent",
    "EpisodeResult",
    "ScriptedAgent",
    "agent_note",
    "baseline_agent",
    "make_agent",
    "open_chat",
    "replay_agent",
    "run_episode",
    "script_agent",
]

Action = dict[str, Any]
Agent = Callable[[dict[str, Any], dict[str, Any]], Action | Awaitable[Action | None] | None]
"""``agent(obs, info) -> action | None`` (or an async one): the next action, or None to stop.

An agent may also have a ``step_note() -> dict | None`` method: what it says of the action it
just chose (a :class:`ChatAgent`: the model's message and the tokens it took), JSON-able.
:func:`run_episode` keeps it in the step's trajectory record, as ``"agent"``."""


def agent_note(agent: Agent) -> dict[str, Any] | None:
    """``agent.step_note()`` where the agent has one (see :data:`Agent`), else None."""
    note = getattr(agent, "step_note", None)
    return note() if callable(note) else None


@attrs.define
class ScriptedAgent:
    """Plays a fixed list of actions, then stops."""

    actions: list[Action]
    _next: Iterator[Action] = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self._next = iter(self.actions)

    def __call__(self, obs: dict[str, Any], info: dict[str, Any]) -> Action | None:
        return next(self._next, None)


def baseline_agent(task: Task) -> ScriptedAgent:
    """The scripted baseline: read the task, validate the task's simple solution, execute it,
    then execute its reference solution (so the score improves).  It plays the solutions shipped
    with the task (``solutions/simple.py`` and ``solutions/reference.py``), which agents never see."""
    simple, strong = task.solution("simple"), task.solution("reference")
    return ScriptedAgent([
        {"action": "request_info", "topic": "all"},
        {"action": "validate_code", "code": simple},
        {"action": "execute_code", "code": simple},
        {"action": "validate_code", "code": strong},
        {"action": "execute_code", "code": strong},
        {"action": "get_history"},
    ])


def script_agent(path: str | os.PathLike[str]) -> ScriptedAgent:
    """Validates, then executes the Python file at ``path``."""
    code = Path(path).read_text(encoding="utf-8")
    return ScriptedAgent([{"action": "request_info", "topic": "all"},
                          {"action": "validate_code", "code": code},
                          {"action": "execute_code", "code": code}])


def replay_agent(path: str | os.PathLike[str]) -> ScriptedAgent:
    """Plays the actions of a recorded trajectory again."""
    return ScriptedAgent(read_trajectory(path).actions)


def open_chat(spec: str, *, base_url: str | None = None, api_key_env: str = "OPENAI_API_KEY") -> ChatClient | None:
    """For an ``openai:MODEL`` agent, a :class:`ChatClient` for MODEL on ``base_url`` (see
    :meth:`ChatClient.connect`), to share between its episodes; None for any other agent."""
    kind, _, model = spec.partition(":")
    if kind != "openai" or not model:
        return None
    return ChatClient.connect(ChatConfig(model, base_url=base_url), api_key_env=api_key_env)


def make_agent(spec: str, task: Task, *, chat: ChatClient | None = None) -> Agent:
    """An agent from its name: ``baseline``, ``script:FILE``, ``replay:TRAJECTORY.jsonl`` or
    ``openai:MODEL`` (a :class:`ChatAgent` on ``chat``, or else on a client of its own from
    :func:`open_chat`: ``$OPENAI_BASE_URL``, ``$OPENAI_API_KEY``).  Raises :class:`ConfigError`
    for an unknown name, a missing file or a missing API key."""
    kind, _, arg = spec.partition(":")
    if kind == "baseline" and not arg:
        return baseline_agent(task)
    if kind in ("script", "replay") and arg:
        if not Path(arg).is_file():
            raise ConfigError(f"agent {spec!r}: no such file {arg!r}")
        return script_agent(arg) if kind == "script" else replay_agent(arg)
    if kind == "openai" and arg:
        return ChatAgent(chat if chat is not None else ChatClient.connect(ChatConfig(arg)))
    raise ConfigError(f"unknown agent {spec!r}: want baseline, script:FILE, replay:TRAJECTORY or openai:MODEL")


@attrs.frozen
class EpisodeResult:
    """An episode, driven to its end: how many steps it took, each step's record (``history``)
    and the best it reached."""

    task: str
    episode_id: str
    steps: int
    history: tuple[dict[str, Any], ...]
    best_score: float | None
    best_position_score: float | None
    medal: str
    truncated: bool
    trajectory: str | None

    @classmethod
    def of(cls, task: str, episode_id: str | None, history: Sequence[dict[str, Any]], info: dict[str, Any],
           truncated: bool, trajectory: str | None) -> EpisodeResult:
        """The result of an episode that ended with ``info`` (its last step's, or its reset's)."""
        return cls(task=task, episode_id=episode_id or "", steps=len(history), history=tuple(history),
                   best_score=info.get("best_score"), best_position_score=info.get("best_position_score"),
                   medal=info.get("best_medal") or "none", truncated=truncated, trajectory=trajectory)

    def to_dict(self) -> dict[str, Any]:
        data = attrs.asdict(self)
        data["history"] = list(self.history)
        return data


def _is_async(agent: Agent) -> bool:
    return inspect.iscoroutinefunction(agent) or inspect.iscoroutinefunction(type(agent).__call__)


StepHook = Callable[[dict[str, Any], float, dict[str, Any]], None]


class SteppedEnv(Protocol):
    """What :func:`play` drives: a DojoEnv, or an env whose steps run elsewhere (``dojo_lite.ray``)."""

    async def areset(self, *, seed: int | None = None) -> tuple[dict[str, Any], dict[str, Any]]: ...

    async def astep(self, action: Any, *, note: dict[str, Any] | None = None,
                    ) -> tuple[dict[str, Any], float, bool, bool, dict[str, Any]]: ...


async def play(env: SteppedEnv, agent: Agent, *, seed: int | None = None, on_step: StepHook | None = None,
               sync_in_thread: bool = False) -> tuple[dict[str, Any], bool]:
    """The loop of :func:`run_episode`: reset ``env``, then let ``agent`` act until it returns
    None or the budget is spent.  Returns the last ``info`` and whether the budget truncated."""
    obs, info = await env.areset(seed=seed)
    truncated = False
    threaded = sync_in_thread and not isinstance(agent, ScriptedAgent) and not _is_async(agent)
    while not truncated:
        action = await asyncio.to_thread(agent, obs, info) if threaded else agent(obs, info)
        if inspect.isawaitable(action):
            action = await action
        if action is None:
            break
        obs, reward, _, truncated, info = await env.astep(action, note=agent_note(agent))
        if on_step is not None:
            on_step(obs, reward, info)
    return info, truncated


async def run_episode(env: DojoEnv, agent: Agent, *, seed: int | None = None,
                      on_step: StepHook | None = None, sync_in_thread: bool = False) -> EpisodeResult:
    """Reset ``env`` and let ``agent`` act until it returns None or the budget is spent.

    ``on_step(obs, reward, info)`` is called after each step (for progress displays).  With
    ``sync_in_thread``, a synchronous agent (say, one that calls an LLM over HTTP) is called in a
    worker thread so that it does not block the event loop; the built-in scripted agents never are.
    """
    info, truncated = await play(env, agent, seed=seed, on_step=on_step, sync_in_thread=sync_in_thread)
    trajectory = env.trajectory_path
    return EpisodeResult.of(env.task.id, env.episode_id, env.history, info, truncated,
                            str(trajectory) if trajectory else None)
