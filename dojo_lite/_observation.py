"""What an action gives back: a status, feedback text for an LLM, structured data for programs."""

from __future__ import annotations

import enum
import json
from typing import Any

import attrs
import gymnasium

from ._text import clean

__all__ = ["ACTIONS", "INFO_TOPICS", "Action", "ActionSpace", "Observation", "ObservationSpace", "Status"]


class Action(enum.StrEnum):
    """The name an observation answers to: the five actions an agent may take, then the
    pseudo-actions that name observations no action of the agent's produced as such."""

    REQUEST_INFO = "request_info"
    VALIDATE_CODE = "validate_code"
    EXECUTE_CODE = "execute_code"
    GET_HISTORY = "get_history"
    RESET = "reset"
    # pseudo-actions (trajectories and observations carry them; an agent cannot send them)
    INVALID = "invalid"            # the action could not be parsed or named no action
    NONE = "none"                  # the budget was spent: nothing ran
    CANCELLED = "cancelled"        # the step was cancelled by the caller (trajectories only)
    INTERNAL = "internal"          # dojo_lite or the task's own code failed on the step


ACTIONS = tuple(a.value for a in (Action.REQUEST_INFO, Action.VALIDATE_CODE, Action.EXECUTE_CODE,
                                   Action.GET_HISTORY, Action.RESET))
INFO_TOPICS = ("overview", "data", "submission", "metric", "limits")


class Status(enum.Enum):
    """How an action went. Only ``OK`` means the action did what was asked."""

    OK = "ok"
    CODE_ERROR = "code_error"                # syntax error, exception, non-zero exit, timeout, memory, output flood
    SUBMISSION_ERROR = "submission_error"    # the code ran; submission.csv is missing or malformed
    INVALID_ACTION = "invalid_action"        # not an action this environment knows, or a bad argument
    SANDBOX_ERROR = "sandbox_error"          # the sandbox failed (not the agent's fault); try again
    BUDGET_EXHAUSTED = "budget_exhausted"    # the episode's step or time budget is spent
    TASK_ERROR = "task_error"                # the task's own code (grade.py) failed: its author's bug
    INTERNAL_ERROR = "internal_error"        # dojo_lite itself failed: a bug, logged for the operator


MAX_TEXT = 16_000  # characters of any one text an observation carries (head and tail kept)


def clip_text(text: str, limit: int = MAX_TEXT) -> str:
    """``text``, or its head and tail with a note of what was cut, so that what an agent echoes
    (a huge column name, a megabyte-long line) cannot flood an LLM's context."""
    if len(text) <= limit:
        return text
    half = (limit - 40) // 2  # room for the note
    return f"{text[:half]}\n[... {len(text) - 2 * half} characters cut ...]\n{text[-half:]}"


def _clip(value: Any) -> Any:
    """Every string capped and made valid UTF-8 with control characters escaped."""
    if isinstance(value, str):
        return clean(clip_text(value))
    if isinstance(value, dict):
        return {clean(str(k)): _clip(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clip(v) for v in value]
    return value


def _clip_feedback(text: object) -> str:
    # Last line of defence: whatever the parts, the whole is valid UTF-8 with no terminal escapes.
    return clean(clip_text(str(text), 4 * MAX_TEXT))


def _jsonable(value: Any) -> Any:
    return _clip(json.loads(json.dumps(value, default=str)))


@attrs.frozen
class Observation:
    """One observation: ``action`` answered, ``status``, ``feedback`` (text for an agent to
    read: what happened, output tails, the traceback, what to fix) and ``data`` (the same facts
    as JSON-able values, for programs)."""

    action: Action = attrs.field(converter=Action)
    status: Status
    feedback: str = attrs.field(converter=_clip_feedback)
    data: dict[str, Any] = attrs.field(factory=dict, converter=_jsonable)

    def to_dict(self) -> dict[str, Any]:
        """The form Gymnasium's ``step``/``reset`` return: a fresh dict of plain values each call."""
        return {"action": self.action.value, "status": self.status.value, "feedback": self.feedback,
                "data": _jsonable(self.data)}


class _Text(gymnasium.spaces.Space[str]):
    """Any string up to ``max_length`` characters (Gymnasium's ``Text`` only takes a charset)."""

    def __init__(self, max_length: int = 1 << 20) -> None:
        super().__init__(dtype=None)
        self.max_length = max_length

    def contains(self, x: Any) -> bool:
        return isinstance(x, str) and len(x) <= self.max_length

    def sample(self, mask: Any = None, probability: Any = None) -> str:
        return ""


class _Mapping(gymnasium.spaces.Space[dict[str, Any]]):
    """Any JSON-able mapping (the structured part of an observation)."""

    def __init__(self) -> None:
        super().__init__(dtype=None)

    def contains(self, x: Any) -> bool:
        return isinstance(x, dict)

    def sample(self, mask: Any = None, probability: Any = None) -> dict[str, Any]:
        return {}


class ObservationSpace(gymnasium.spaces.Dict):
    """``{"action": str, "status": str, "feedback": str, "data": dict}``."""

    def __init__(self) -> None:
        super().__init__({"action": _Text(64), "status": _Text(64), "feedback": _Text(), "data": _Mapping()})


class ActionSpace(gymnasium.spaces.Space[dict[str, Any]]):
    """Actions are dicts, ``{"action": NAME, ...}``, or the same as a JSON string.

    ``contains`` accepts any dict or string: a malformed action is not refused here but answered
    with an ``invalid_action`` observation.  ``sample`` draws only actions that need no code
    (``request_info`` with a topic, ``get_history``): code comes from the agent.
    """

    def __init__(self, seed: int | None = None) -> None:
        super().__init__(dtype=None, seed=seed)

    def contains(self, x: Any) -> bool:
        return isinstance(x, dict | str)

    def sample(self, mask: Any = None, probability: Any = None) -> dict[str, Any]:
        choices: list[dict[str, Any]] = [{"action": "request_info", "topic": t} for t in INFO_TOPICS]
        choices.append({"action": "get_history"})
        return dict(choices[int(self.np_random.integers(len(choices)))])
