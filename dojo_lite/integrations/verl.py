"""dojo_lite for verl: the actions as ``BaseTool``\\ s, and an agent loop that makes one trajectory one episode.

verl's tools (``verl/tools/base_tool.py``) have a lifecycle per *instance*: ``create(instance_id,
**kwargs) -> (instance_id, ToolResponse)``, ``execute(instance_id, parameters) -> (ToolResponse,
step reward, metrics)``, ``calc_reward(instance_id) -> float`` and ``release(instance_id)``, all
coroutines on verl's event loop.  :class:`DojoTool` is one action (its ``action`` config picks
which, its schema is dojo_lite's own); the tools created with one instance id share one episode,
which the last ``release`` ends.  ``execute`` answers with what a model reads of the step and
the step's reward; ``calc_reward`` gives the episode's reward (the position score of its best
graded execution; see :data:`~dojo_lite.integrations.REWARDS`).

verl 0.9's ``ToolAgentLoop`` (``tool_agent``) creates and releases a tool *per call*, so with it
each call would be an episode of its own.  :class:`DojoAgentLoop` (registered as ``dojo_agent``
when this module is imported, which loading the tool config does) is the fit: it opens the
trajectory's episode before the first generation, gives the model dojo_lite's system prompt,
lets ``ToolAgentLoop`` generate and parse tool calls with every call joining that episode, ends
the trajectory when the episode's budget is spent, and sets the trajectory's ``reward_score`` to
the episode's reward (so verl's reward function is not needed for it).

A dataset row names its task in ``tools_kwargs`` (verl's ``extra_info.tools_kwargs``):
``{"execute_code": {"create_kwargs": {"task": "tabular/titanic-survival", "seed": 0}}}``, or the
tool config gives a default ``task``.  :func:`write_tool_config` writes the tool config.
"""

from __future__ import annotations

import json
import os
import uuid
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
import yaml

from .._chat import ACTION_TOOLS
from .._errors import ConfigError, UsageError
from ._runtime import (
    DojoRuntime,
    RuntimeConfig,
    Session,
    default_runtime,
    messages_with_prompt,
    read_tool_call,
    task_and_seed,
)

try:
    from verl.experimental.agent_loop.agent_loop import AgentLoopOutput, register
    from verl.experimental.agent_loop.tool_agent_loop import AgentData, AgentState, ToolAgentLoop
    from verl.tools.base_tool import BaseTool
    from verl.tools.schemas import OpenAIFunctionToolSchema, ToolResponse
except ImportError as exc:
    raise ConfigError("dojo_lite.integrations.verl needs verl (with its agent loop, verl >= 0.6): "
                      "pip install 'dojo-lite[verl]'") from exc

__all__ = ["AGENT_NAME", "DojoAgentLoop", "DojoTool", "write_tool_config"]

AGENT_NAME = "dojo_agent"
"""The name :class:`DojoAgentLoop` is registered under (a dataset row's ``agent_name``)."""

_SCHEMAS = {tool["function"]["name"]: tool for tool in ACTION_TOOLS}
_TOOL_KEYS = ("type", "action", "task")  # a tool's own config keys; the rest configure the runtime


@attrs.define(eq=False)
class _Shared:
    """An episode shared by the tools created with one instance id, and how many hold it."""

    session: Session
    users: int = 1


# Per runtime: written only on that runtime's loop, read anywhere (a dict lookup): no lock needed.
_shared: weakref.WeakKeyDictionary[DojoRuntime, dict[str, _Shared]] = weakref.WeakKeyDictionary()


def _table(runtime: DojoRuntime) -> dict[str, _Shared]:
    return _shared.setdefault(runtime, {})


class DojoTool(BaseTool):  # type: ignore[misc]
    """One dojo_lite action as a verl tool; see the module docstring.

    ``config`` (the tool config's ``config:`` section): ``type: native``; ``action``: one of
    ``request_info``, ``validate_code``, ``execute_code``, ``get_history``, ``reset`` (by default
    the schema's name); ``task``: the task of rows that name none; any other key is a field of
    :class:`~dojo_lite.integrations.RuntimeConfig` for the process's runtime (``variant: micro``,
    ``cpus: 16``, ...; every tool of a process must agree).  ``tool_schema``: by default the
    action's schema from dojo_lite (the one its chat agent offers).
    """

    def __init__(self, config: Mapping[str, Any], tool_schema: OpenAIFunctionToolSchema | None = None) -> None:
        config = dict(config or {})
        action = config.get("action") or (tool_schema.function.name if tool_schema is not None else None)
        if action not in _SCHEMAS:
            raise ConfigError(f"a DojoTool's config needs an action, one of {sorted(_SCHEMAS)}; got {action!r}")
        if tool_schema is None:
            tool_schema = OpenAIFunctionToolSchema.model_validate(_SCHEMAS[action])
        super().__init__(config, tool_schema)
        self.action = str(action)
        self.default_task: str | None = config.get("task")
        options = {key: value for key, value in config.items() if key not in _TOOL_KEYS}
        where = f"the config of the verl tool {self.name!r}"
        self.runtime = default_runtime(RuntimeConfig.from_mapping(options, where=where) if options else None)
        _table(self.runtime)  # made here, once: later only read (verl's loop) and written (the runtime's)

    def get_openai_tool_schema(self) -> OpenAIFunctionToolSchema:
        return self.tool_schema

    async def create(self, instance_id: str | None = None, **kwargs: Any) -> tuple[str, ToolResponse]:
        """Join the episode of ``instance_id``, or start it: ``create_kwargs`` (verl's agent loops
        pass them so; older rollouts passed them as keyword arguments) may hold ``task`` and
        ``seed`` for a new episode, or the ``instance_id`` to join.  Returns the instance id and
        the episode's system prompt."""
        options = dict(kwargs["create_kwargs"] or {}) if "create_kwargs" in kwargs else dict(kwargs)
        instance_id = instance_id or options.pop("instance_id", None) or uuid.uuid4().hex
        session = await self.runtime.acall(self._join(instance_id, options), name=f"{self.name}.create")
        return instance_id, ToolResponse(text=session.prompt)

    async def execute(self, instance_id: str, parameters: dict[str, Any], **kwargs: Any,
                      ) -> tuple[ToolResponse, float, dict[str, Any]]:
        """Run the action with ``parameters`` (the tool call's arguments) in the instance's episode;
        returns what the model reads of the step, the step's reward (an execution's position
        score, else 0) and ``{"step": n}``.  Malformed arguments are an invalid action: answered
        and counted."""
        action, problem = read_tool_call(self.action, parameters)
        raw = {**parameters} if isinstance(parameters, Mapping) else {"arguments": parameters}
        outcome, text = await self.session(instance_id).aanswer(action, problem, {**raw, "action": self.action})
        return ToolResponse(text=text), outcome.reward, {"step": outcome.info.get("step", 0)}

    async def calc_reward(self, instance_id: str, **kwargs: Any) -> float:
        """The episode's reward so far (see :data:`~dojo_lite.integrations.REWARDS`)."""
        return self.session(instance_id).reward

    async def release(self, instance_id: str, **kwargs: Any) -> None:
        """Leave the episode; the last tool to leave ends it.  Idempotent once it has ended."""
        await self.runtime.acall(self._leave(instance_id), name=f"{self.name}.release")

    def session(self, instance_id: str) -> Session:
        """The episode of ``instance_id``; :class:`~dojo_lite.UsageError` if none was created."""
        shared = _table(self.runtime).get(instance_id)
        if shared is None:
            raise UsageError(f"no dojo_lite episode for the tool instance {instance_id!r}: create() it first")
        return shared.session

    # ------------------------------------------------------------ on the runtime's loop

    async def _join(self, instance_id: str, options: dict[str, Any]) -> Session:
        table = _table(self.runtime)
        shared = table.get(instance_id)
        if shared is not None:
            shared.users += 1
            return shared.session
        task, seed = task_and_seed(options, self.default_task, where=f"{self.name}.create (create_kwargs)")
        session = await self.runtime._open(task, seed)
        if instance_id in table:  # another create of this id won the race while this one opened
            await session._close()
            table[instance_id].users += 1
            return table[instance_id].session
        table[instance_id] = _Shared(session)
        return session

    async def _leave(self, instance_id: str) -> None:
        table = _table(self.runtime)
        shared = table.get(instance_id)
        if shared is None:
            return
        shared.users -= 1
        if shared.users <= 0:
            del table[instance_id]
            await shared.session._close()


@register(AGENT_NAME)
class DojoAgentLoop(ToolAgentLoop):  # type: ignore[misc]
    """verl's ``ToolAgentLoop`` with one dojo_lite episode per trajectory; see the module docstring.

    The tool config must declare :class:`DojoTool`\\ s (any other tools keep their per-call
    lifecycle).  The episode's task comes from the row's ``tools_kwargs`` (the ``create_kwargs``
    of any of its dojo tools) or from the tools' default ``task``; the model starts from dojo_lite's
    system prompt and the row's user turns (the first turn when it has none).  Returns
    ``ToolAgentLoop``'s output with ``reward_score`` set to the episode's reward and the episode's
    summary in ``extra_fields["dojo"]``.
    """

    _dojo_session: Session | None = None

    async def run(self, sampling_params: dict[str, Any], **kwargs: Any) -> AgentLoopOutput:
        tools = [tool for tool in self.tools.values() if isinstance(tool, DojoTool)]
        if not tools:
            raise ConfigError(f"the {AGENT_NAME} agent loop needs DojoTools in the tool config "
                              "(see dojo_lite.integrations.verl.write_tool_config)")
        tools_kwargs = dict(kwargs.get("tools_kwargs") or {})
        options = next((dict(tools_kwargs[tool.name].get("create_kwargs") or {}) for tool in tools
                        if tool.name in tools_kwargs), {})
        instance_id, _ = await tools[0].create(create_kwargs=options)
        try:
            session = self._dojo_session = tools[0].session(instance_id)
            joined = {**tools_kwargs, **{tool.name: {"create_kwargs": {"instance_id": instance_id}} for tool in tools}}
            messages = messages_with_prompt(session, list(kwargs.get("raw_prompt") or ()))
            output: AgentLoopOutput = await super().run(
                sampling_params, **{**kwargs, "raw_prompt": messages, "tools_kwargs": joined})
            output.reward_score = await tools[0].calc_reward(instance_id)
            output.extra_fields["dojo"] = json.dumps(session.summary())
            return output
        finally:
            await tools[0].release(instance_id)

    async def _handle_processing_tools_state(self, agent_data: AgentData) -> AgentState:
        state = await super()._handle_processing_tools_state(agent_data)
        session = self._dojo_session
        if session is not None and session.truncated:  # the budget is spent: every later call would be refused
            return AgentState.TERMINATED
        return state


def write_tool_config(path: str | os.PathLike[str], *, task: str | None = None,
                      actions: tuple[str, ...] = tuple(_SCHEMAS), **runtime_options: Any) -> Path:
    """Write a verl tool config declaring one :class:`DojoTool` per action in ``actions`` (all
    five by default) to ``path`` (for ``actor_rollout_ref.rollout.multi_turn.tool_config_path``),
    each with the default ``task`` and ``runtime_options`` (fields of
    :class:`~dojo_lite.integrations.RuntimeConfig`); returns the path."""
    if wrong := sorted(set(actions) - set(_SCHEMAS)):
        raise ConfigError(f"unknown actions {wrong}; the actions are {sorted(_SCHEMAS)}")
    RuntimeConfig.from_mapping(runtime_options, where="write_tool_config")  # refuse what the tools would
    base = {"type": "native", **({"task": task} if task else {}), **runtime_options}
    tools = [{"class_name": f"{__name__}.DojoTool", "config": {**base, "action": action}} for action in actions]
    path = Path(path)
    path.write_text(yaml.safe_dump({"tools": tools}, sort_keys=False), encoding="utf-8")
    return path
