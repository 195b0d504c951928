"""Trajectories as chat conversations, for supervised fine-tuning (TRL's ``SFTTrainer``).

One trajectory, whatever agent played it, becomes one example in TRL's conversational format
with tools: ``{"messages": [...], "tools": [...]}``.  The messages are the ones a
:class:`ChatAgent` holds: the system prompt of :func:`system_prompt`, the opening user turn, then
per step an assistant message with one tool call (OpenAI's shape: ``id``, ``type: function``,
the function's ``name`` and its ``arguments`` as JSON text) and the ``tool`` message that answers
it with the observation.  The assistant's text is what the model wrote beside its call, where
the trajectory kept it (a :class:`ChatAgent`'s note); other agents' steps have none.  A step
whose action was not a valid action is the assistant's text (the action as JSON), answered by a
user message.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable, Sequence
from typing import Any

from ._actions import parse_action
from ._chat import ACTION_TOOLS, FIRST_TURN, observation_message, system_prompt
from ._errors import ConfigError, DojoError
from ._observation import Action, Observation, Status
from ._task import find_task
from ._trajectory import Trajectory, read_trajectory

__all__ = ["chat_example", "export_chat"]

Message = dict[str, Any]


def _read(path: str | os.PathLike[str]) -> Trajectory:
    try:
        trajectory = read_trajectory(path)
    except FileNotFoundError as exc:
        raise ConfigError(f"{os.fspath(path)}: no such trajectory file") from exc
    # AttributeError: a line that is JSON but not an object (read_trajectory expects records)
    except (OSError, UnicodeDecodeError, AttributeError) as exc:
        raise ConfigError(f"{os.fspath(path)}: not a readable trajectory ({type(exc).__name__}: {exc})") from exc
    if not isinstance(trajectory.header.get("task"), str):
        raise ConfigError(f"{os.fspath(path)}: not a trajectory (no episode header line naming its task)")
    return trajectory


def _overview(task_id: str, task_path: Sequence[str | os.PathLike[str]]) -> str:
    """The feedback of the observation ``reset`` gives on the task (the system prompt holds it)."""
    try:
        task = find_task(task_id, task_path)
    except DojoError as exc:  # a task of another host: the conversation still stands without it
        return f"## overview\n(task {task_id}: its description is not on this host's task path: {exc})"
    # the env's own wording and cleaning: Observation applies them to any feedback
    return Observation(Action.REQUEST_INFO, Status.OK, f"## overview\n{task.description}").feedback


def _step_messages(step: dict[str, Any], where: str) -> list[Message]:
    obs, info = step.get("observation"), step.get("info")
    if not isinstance(obs, dict) or not isinstance(info, dict):
        raise ConfigError(f"{where}: a step without its observation and info")
    reply = observation_message(obs, info)
    note = step.get("agent")
    said = note.get("message") if isinstance(note, dict) else None
    text = said if isinstance(said, str) else ""
    action, _ = parse_action(step.get("action"))
    if action is None:  # what the agent sent, as text; the env's answer, as the user's
        return [{"role": "assistant", "content": json.dumps(step.get("action"), default=str)},
                {"role": "user", "content": reply}]
    name = action.pop("action")
    call_id = f"call_{step.get('step', 0)}"
    call = {"id": call_id, "type": "function",
            "function": {"name": name, "arguments": json.dumps(action, default=str)}}
    return [{"role": "assistant", "content": text, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": call_id, "name": name, "content": reply}]


def chat_example(path: str | os.PathLike[str], *,
                 task_path: Sequence[str | os.PathLike[str]] = ()) -> dict[str, Any]:
    """The trajectory at ``path`` as ``{"messages": [...], "tools": [...]}`` (see the module's
    docstring); the task's description comes from ``task_path`` and the built-in tasks.  Raises
    :class:`ConfigError` when the file is missing, unreadable or not a trajectory."""
    return _example(path, lambda task_id: _overview(task_id, task_path))


def _example(path: str | os.PathLike[str], overview: Callable[[str], str]) -> dict[str, Any]:
    trajectory = _read(path)
    messages: list[Message] = [
        {"role": "system", "content": system_prompt(overview(trajectory.header["task"]))},
        {"role": "user", "content": FIRST_TURN}]
    for number, step in enumerate(trajectory.steps, 1):
        messages += _step_messages(step, f"{os.fspath(path)}: step {number}")
    return {"messages": messages, "tools": list(ACTION_TOOLS)}


def export_chat(paths: Sequence[str | os.PathLike[str]], *,
                task_path: Sequence[str | os.PathLike[str]] = ()) -> list[str]:
    """One JSON line (without its newline) per trajectory of ``paths``, in order; every file is
    read before any line is returned, so a bad one (:class:`ConfigError`) leaves no partial output."""
    # each task is found and its description read once, whatever the number of its trajectories
    overview = functools.cache(lambda task_id: _overview(task_id, task_path))
    return [json.dumps(_example(path, overview)) for path in paths]
