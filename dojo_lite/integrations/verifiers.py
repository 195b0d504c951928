"""dojo_lite for verifiers (0.4, ``verifiers.v1``): a taskset, an environment and an in-process harness.

::

    from dojo_lite.integrations.verifiers import load_environment

    env = load_environment(["tabular/titanic-survival"], runtime={"variant": "micro"})
    # then as any verifiers env: `async with env.serving(): await env.run_episode(task, ctx)`

verifiers 0.4 composes an environment from a *taskset* (the rows), *agents* (a harness that runs
the model, on a runtime) and an ``Env.run(task, agents)`` that decides how an episode goes; the
model's calls go through verifiers' interception server, which records them on the episode's
trace; a task's ``@vf.reward`` methods score the finished trace (its rubric).  Here:

- :class:`DojoTaskset` yields one :class:`DojoTask` per task id (and seed) of its config;
- :class:`DojoVerifiersEnv` plays the environment host-side, in the verifiers process: it opens
  the episode on the process's :class:`~dojo_lite.integrations.DojoRuntime`, gives the model
  dojo_lite's system prompt and first turn, runs each action the model takes (a tool call, or a
  JSON block in a text reply) and answers with the observation (a tool message, or a user turn),
  until the model replies without an action or the episode's budget is spent;
- :class:`DojoHarness` (the taskset's default harness) runs the model in-process, one
  chat-completions request through the interception per turn, offering the five actions as
  tools (dojo_lite's ``ACTION_TOOLS``);
- the rubric: :meth:`DojoTask.position_score` (weight 1) is the episode's reward, the position
  score of its best graded execution (see :data:`~dojo_lite.integrations.REWARDS`), and
  :meth:`DojoTask.steps` a metric.

verifiers loads a taskset, its env and its harness by an id naming a top-level module: dojo_lite
installs ``dojo_lite_verifiers`` (:data:`TASKSET_ID`), which re-exports them, so a process that
knows the env by id alone (``vf-eval dojo-lite-verifiers``, served env workers) finds them.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pydantic import Field

from .._chat import ACTION_TOOLS, FIRST_TURN
from .._errors import ConfigError
from .._task import find_task
from ._runtime import (
    DojoRuntime,
    RuntimeConfig,
    Session,
    default_runtime,
    read_reply,
    read_tool_call,
)

try:
    import openai
    import verifiers.v1 as vf
    from verifiers.v1.dialects.chat import message_to_wire
    from verifiers.v1.errors import MODEL_TRANSPORT_ERROR_EXIT_CODE
    from verifiers.v1.types import AssistantMessage, ToolMessage, UserMessage
except ImportError as exc:
    raise ConfigError("dojo_lite.integrations.verifiers needs verifiers >= 0.4: "
                      "pip install 'dojo-lite[verifiers]'") from exc

__all__ = [
    "TASKSET_ID",
    "DojoEnvConfig",
    "DojoHarness",
    "DojoHarnessConfig",
    "DojoTask",
    "DojoTaskData",
    "DojoTaskset",
    "DojoTasksetConfig",
    "DojoVerifiersEnv",
    "load_environment",
]

TASKSET_ID = "dojo_lite_verifiers"
"""The id verifiers knows this taskset, its env and its harness by (``--env.taskset.id``)."""

_NOT_RUN = "Not run: one action a turn, and this turn's first call was the one."


# ------------------------------------------------------------------ the taskset and its tasks


class DojoTaskData(vf.TaskData):  # type: ignore[misc]
    """A row: the dojo_lite task id, and the episode's seed (None: a random one)."""

    dojo_task: str
    seed: int | None = None


class DojoTask(vf.Task[DojoTaskData]):  # type: ignore[misc]
    """One dojo_lite task; its rubric reads the episode's summary that the env leaves in
    ``trace.info["dojo"]`` before the trace is scored."""

    @vf.reward  # type: ignore[untyped-decorator]
    async def position_score(self, trace: vf.Trace) -> float:
        """The episode's reward: the position score of its best graded execution (0 if none)."""
        return float(trace.info.get("dojo", {}).get("reward") or 0.0)

    @vf.metric  # type: ignore[untyped-decorator]
    async def steps(self, trace: vf.Trace) -> float:
        """How many actions the episode ran."""
        return float(trace.info.get("dojo", {}).get("steps") or 0)


def _random_seed() -> list[int | None]:
    return [None]


class DojoTasksetConfig(vf.TasksetConfig):  # type: ignore[misc]
    """``tasks``: dojo_lite task ids; ``seeds``: one row per task and seed (None: random);
    ``runtime``: the fields of :class:`~dojo_lite.integrations.RuntimeConfig` for the process's
    runtime (``variant``, ``max_steps``, ``cpus``, ``task_path``, ...)."""

    tasks: list[str] = Field(default_factory=list)
    seeds: list[int | None] = Field(default_factory=lambda: _random_seed())
    runtime: dict[str, Any] = Field(default_factory=dict)


class DojoTaskset(vf.Taskset[DojoTask, DojoTasksetConfig]):  # type: ignore[misc]
    """One :class:`DojoTask` per task id and seed of the config (each id checked on load)."""

    def load(self) -> Iterator[DojoTask]:
        config = self.config
        if not config.tasks:
            raise ConfigError("the dojo_lite taskset needs tasks: --env.taskset.tasks '[\"tabular/...\"]'")
        path = RuntimeConfig.from_mapping(config.runtime, where="--env.taskset.runtime").task_path
        for task_id in config.tasks:
            task = find_task(task_id, path)  # TaskNotFound names the known ids
            for seed in config.seeds:
                yield DojoTask(DojoTaskData(id=f"{task.id}#{seed}", name=task.id, dojo_task=task.id, seed=seed,
                                            prompt=None), config.task)


# ------------------------------------------------------------------ the harness


class DojoHarnessConfig(vf.HarnessConfig):  # type: ignore[misc]
    """``tools``: offer the actions as tools (False: the model writes a JSON block, as the
    system prompt says to do where no tools are offered)."""

    id: str = TASKSET_ID
    tools: bool = True


class DojoHarness(vf.Harness[DojoHarnessConfig]):  # type: ignore[misc]
    """The model, in-process: each turn is one chat-completions request through the rollout's
    interception endpoint (which applies the run's model and sampling and records the turn),
    with dojo_lite's actions as tools.  Runs no code of the model's (the env runs the actions),
    so it needs no container."""

    APPENDS_SYSTEM_PROMPT = True
    SUPPORTS_RESUME = True
    EXECUTES_CODE = False
    NEEDS_CONTAINER = False

    async def launch(self, ctx: Any, trace: Any, runtime: Any, endpoint: str, secret: str,
                     mcp_urls: dict[str, str], data: Any, tool_interception_url: str | None = None) -> Any:
        system, prompt = self.resolve_prompt(data)
        messages = [{"role": "system", "content": system}] if system else []
        if isinstance(prompt, str):
            messages.append({"role": "user", "content": prompt})
        else:
            messages += [message_to_wire(message) for message in prompt or ()]
        request: dict[str, Any] = {"model": ctx.model, "messages": messages}
        if self.config.tools:
            request["tools"] = list(ACTION_TOOLS)
        client = openai.AsyncOpenAI(base_url=endpoint, api_key=secret, max_retries=0)
        try:
            response = await client.chat.completions.create(**request)
        except openai.APIConnectionError as exc:  # verifiers reads this exit code as a transport failure
            return vf.ProgramResult(MODEL_TRANSPORT_ERROR_EXIT_CODE, "", str(exc))
        finally:
            await client.close()
        choices = response.choices or []
        return vf.ProgramResult(0, (choices[0].message.content or "") if choices else "", "")


# ------------------------------------------------------------------ the environment


class DojoEnvConfig(vf.EnvConfig):  # type: ignore[misc]
    """The env's one seat, ``agent``: its harness runs in-process, so its runtime is a local one."""

    agent: vf.AgentConfig = vf.AgentConfig(runtime=vf.SubprocessConfig())


def _runtime(config: DojoTasksetConfig) -> DojoRuntime:
    options = dict(config.runtime)
    return default_runtime(RuntimeConfig.from_mapping(options, where="--env.taskset.runtime") if options else None)


class DojoVerifiersEnv(vf.Env[DojoEnvConfig]):  # type: ignore[misc]
    """One dojo_lite episode per verifiers episode, played host-side (see the module docstring)."""

    async def run(self, task: Any, agents: Any) -> None:
        data = task.data
        session = await _runtime(self.taskset.config).aopen_session(data.dojo_task, seed=data.seed)
        try:
            async with agents.agent.interaction(task.with_data(system_prompt=session.prompt)) as interaction:
                segment = await interaction.turn(FIRST_TURN)
                while not segment.terminated:
                    replies = [m for m in segment.messages if isinstance(m, AssistantMessage)]
                    answer = await _answer(session, replies[-1] if replies else None)
                    if answer is None or session.truncated:
                        break
                    segment = await interaction.turn(answer)
                interaction.trace.info["dojo"] = session.summary()  # before the close scores the trace
        finally:
            await session.aclose()


async def _answer(session: Session, reply: Any) -> list[Any] | None:
    """Run the action ``reply`` takes and return the messages that answer it, or None when it
    takes none (the model is done)."""
    if reply is None:
        return None
    if reply.tool_calls:
        first, *rest = reply.tool_calls
        _, text = await session.aanswer(*read_tool_call(first.name, first.arguments),
                                        {"action": first.name, "arguments": first.arguments})
        return [ToolMessage(tool_call_id=first.id, name=first.name, content=text),
                *(ToolMessage(tool_call_id=call.id, name=call.name, content=_NOT_RUN) for call in rest)]
    action, reason = read_reply(reply.content or "")
    if action is None and reason is None:
        return None
    _, text = await session.aanswer(action, reason, reply.content)
    return [UserMessage(content=text)]


def load_environment(tasks: str | Sequence[str], *, seeds: Sequence[int | None] = (None,),
                     runtime: Mapping[str, Any] | None = None, tools: bool = True, **env: Any) -> Any:
    """A verifiers ``Env`` of ``tasks`` (task ids), one row per task and seed; ``runtime``: the
    fields of :class:`~dojo_lite.integrations.RuntimeConfig` (``variant``, ``task_path``,
    ``cpus``, ...); ``tools``: offer the actions as tools (else JSON blocks in text); other
    keyword arguments are fields of the env's config (``max_concurrent_agents``, ``timeout``,
    ...).  Goes through verifiers' own ``resolve_env_config`` and ``load_environment``."""
    task_ids = [tasks] if isinstance(tasks, str) else list(tasks)
    RuntimeConfig.from_mapping(runtime, where="load_environment(runtime=...)")  # refused here, not mid-episode
    agent = dict(env.pop("agent", None) or {})
    agent.setdefault("harness", {"id": TASKSET_ID, "tools": tools})
    config = vf.resolve_env_config({
        "taskset": {"id": TASKSET_ID, "tasks": task_ids, "seeds": list(seeds), "runtime": dict(runtime or {})},
        "agent": agent, **env})
    return vf.load_environment(config)


# verifiers imports a taskset, env or harness by an id naming a top-level module: the installed
# dojo_lite_verifiers, or this module where dojo_lite runs from a source tree never installed
sys.modules.setdefault(TASKSET_ID, sys.modules[__name__])
