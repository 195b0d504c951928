"""What an action gives back: a status, feedback text for an LLM, structured data for programs;
the Gymnasium spaces of actions and observations, and their vector utilities."""

from __future__ import annotations

import collections.abc
import copy
import enum
import json
import multiprocessing
import queue as queue_module
import string
import typing
from collections.abc import Sequence
from typing import Any, TypeVar

import attrs
import gymnasium
import numpy as np
from gymnasium.spaces.utils import is_space_dtype_shape_equiv
from gymnasium.vector.utils import (
    batch_differing_spaces,
    create_empty_array,
    create_shared_memory,
    read_from_shared_memory,
    write_to_shared_memory,
)

from ._errors import ConfigError, EnvClosed
from ._text import clean

__all__ = ["ACTIONS", "INFO_TOPICS", "Action", "ActionSpace", "JsonDict", "Mailbox", "MailboxView", "Observation",
           "ObservationSpace", "Status", "UnicodeText", "parse_action"]

T = TypeVar("T")


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



def parse_action(action: Any) -> tuple[dict[str, Any] | None, str]:
    """The action as a dict, or None and what is wrong with it (the env answers the latter with an
    ``invalid_action`` observation; :meth:`ActionSpace.contains` refuses it)."""
    if isinstance(action, (str, bytes)):
        try:
            action = json.loads(action)
        except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError, huge ints, deep nesting
            return None, f"the action is not valid JSON ({clip_text(str(exc), 300)})"
    if not isinstance(action, dict):
        return None, f"an action must be a dict or a JSON object, got {type(action).__name__}"
    name = action.get("action")
    if name not in ACTIONS:
        return None, f"unknown action {name!r}; the actions are {', '.join(ACTIONS)}"
    if name in (Action.VALIDATE_CODE, Action.EXECUTE_CODE) and not isinstance(action.get("code"), str):
        return None, f"{name} needs a 'code' string holding a Python script"
    topic = action.get("topic", "all")
    if name == Action.REQUEST_INFO and topic not in (*INFO_TOPICS, "all"):
        return None, f"unknown topic {topic!r}; the topics are {', '.join(INFO_TOPICS)} (or all)"
    return action, ""


# ------------------------------------------------------------------ spaces
#
# No space of Gymnasium's holds what an observation or an action is: any text (Gymnasium's Text
# takes a fixed charset), any JSON object (Gymnasium's Dict has fixed keys), a dict or its JSON
# text (a OneOf's elements are (index, value) pairs).  So the leaves are dojo_lite's own, kept
# inside Gymnasium's Dict, and registered with Gymnasium's singledispatch vector utilities below.

_SAMPLE_LENGTH = 64  # the longest text sample() draws: a space of 1M characters need not sample 1M
_SAMPLE_ALPHABET = tuple(string.ascii_letters + string.digits + string.punctuation + " \néü→中")
_MAILBOX_WAIT_S = 60.0  # how long a vector env's reader waits for a value a worker said it sent


class _FreeformSpace(gymnasium.spaces.Space[T]):
    """What dojo_lite's leaf spaces share: equality and ``repr`` from their parameters, an empty
    value, and no masks.  Batched, n of them are Gymnasium's ``Tuple`` of n copies (as for
    Gymnasium's ``Text``), whose elements are tuples of n values."""

    def __init__(self, *, seed: int | np.random.Generator | None = None) -> None:
        super().__init__(dtype=None, seed=seed)

    def params(self) -> dict[str, Any]:
        """The parameters that tell two spaces of this class apart (none by default)."""
        return {}

    def empty(self) -> T:
        """The value ``create_empty_array`` fills a batch with (a member of the space)."""
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and isinstance(other, _FreeformSpace) and other.params() == self.params()

    __hash__ = None  # type: ignore[assignment]  # equal spaces must not hash apart: as Gymnasium's

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.params().items())})"

    def _refuse_masks(self, mask: Any, probability: Any) -> None:
        if mask is not None or probability is not None:
            raise ConfigError(f"{type(self).__name__}.sample takes no mask or probability")


class UnicodeText(_FreeformSpace[str]):
    """Any string of at most ``max_length`` characters, from any alphabet (Gymnasium's ``Text``
    takes only the characters of a fixed charset).

    ``sample()`` gives a random string of printable characters (some non-ASCII), at most 64 long.
    """

    def __init__(self, max_length: int = 1 << 20, *, seed: int | np.random.Generator | None = None) -> None:
        if max_length < 0:
            raise ConfigError(f"max_length must be >= 0, got {max_length!r}")
        super().__init__(seed=seed)
        self.max_length = max_length

    def params(self) -> dict[str, Any]:
        """``{"max_length": ...}``."""
        return {"max_length": self.max_length}

    def empty(self) -> str:
        """``""``."""
        return ""

    def contains(self, x: Any) -> bool:
        """True for a ``str`` of at most ``max_length`` characters."""
        return isinstance(x, str) and len(x) <= self.max_length

    def sample(self, mask: Any = None, probability: Any = None) -> str:
        """A random string (masks are not supported: they raise :class:`ConfigError`)."""
        self._refuse_masks(mask, probability)
        length = int(self.np_random.integers(0, min(self.max_length, _SAMPLE_LENGTH) + 1))
        return "".join(_SAMPLE_ALPHABET[i] for i in self.np_random.integers(0, len(_SAMPLE_ALPHABET), size=length))


class JsonDict(_FreeformSpace[dict[str, Any]]):
    """Any JSON object as Python values: a ``dict`` with ``str`` keys whose values are None, bools,
    numbers, strings, lists and such dicts (an observation's ``data``).

    ``sample()`` gives a small random dict of scalars.
    """

    def empty(self) -> dict[str, Any]:
        """``{}``."""
        return {}

    def contains(self, x: Any) -> bool:
        """True for a dict of JSON values (checked all the way down)."""
        try:
            return isinstance(x, dict) and _is_json(x)
        except RecursionError:  # deeper than anything json.loads gives back
            return False

    def sample(self, mask: Any = None, probability: Any = None) -> dict[str, Any]:
        """A random dict of up to three scalar values (masks raise :class:`ConfigError`)."""
        self._refuse_masks(mask, probability)
        rng = self.np_random
        scalars: list[Any] = [None, bool(rng.integers(2)), int(rng.integers(-1000, 1000)),
                              float(rng.standard_normal()), f"text-{int(rng.integers(1000))}"]
        return {f"key{i}": scalars[int(rng.integers(len(scalars)))] for i in range(int(rng.integers(4)))}


def _is_json(value: Any) -> bool:
    if value is None or isinstance(value, bool | int | float | str):
        return True
    if isinstance(value, list):
        return all(_is_json(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_json(v) for k, v in value.items())
    return False


class ActionSpace(_FreeformSpace[dict[str, Any] | str]):
    """Actions: dicts, ``{"action": NAME, ...}``, or the same as a JSON string.

    ``contains`` is True for exactly the actions the env takes as well formed (a known action, a
    ``code`` string where one is needed, a known topic); a malformed one is not refused by the env
    but answered with an ``invalid_action`` observation.  ``sample`` draws only actions that need
    no code (``request_info`` with a topic, ``get_history``): code comes from the agent.
    Batched for a vector env, a batch of actions is a tuple of actions, one per env.
    """

    def empty(self) -> dict[str, Any]:
        """``{"action": "get_history"}``: an action that only reads."""
        return {"action": Action.GET_HISTORY.value}

    def contains(self, x: Any) -> bool:
        """True for an action (a dict, or JSON text of one) that the env takes as well formed."""
        return parse_action(x)[0] is not None

    def sample(self, mask: Any = None, probability: Any = None) -> dict[str, Any]:
        """A random ``request_info`` or ``get_history`` action (masks raise :class:`ConfigError`)."""
        self._refuse_masks(mask, probability)
        choices: list[dict[str, Any]] = [{"action": "request_info", "topic": t} for t in INFO_TOPICS]
        choices.append({"action": "get_history"})
        return dict(choices[int(self.np_random.integers(len(choices)))])


class ObservationSpace(gymnasium.spaces.Dict):
    """``{"action": str, "status": str, "feedback": str, "data": dict}``: a Gymnasium ``Dict`` of
    :class:`UnicodeText` and :class:`JsonDict` (batched for a vector env: a ``Dict`` of ``Tuple``
    spaces, and a batch of observations is a dict of tuples, one value per env)."""

    def __init__(self, *, seed: int | np.random.Generator | None = None) -> None:
        super().__init__({"action": UnicodeText(64), "status": UnicodeText(64), "feedback": UnicodeText(),
                          "data": JsonDict()}, seed=seed)

    def __repr__(self) -> str:
        return f"ObservationSpace({', '.join(f'{k!r}: {s}' for k, s in self.spaces.items())})"


# ------------------------------------------------------------------ Gymnasium's vector utilities
#
# Gymnasium's defaults for a custom space already batch it as a Tuple of copies and concatenate
# values into tuples; registered here is what they lack.  ``iterate`` is left alone on purpose:
# Gymnasium iterates a Tuple of unregistered spaces as a plain sequence of values, which is what
# a batch of ours is (registering it would make a batched Tuple read as a tuple of batches).


@create_empty_array.register(_FreeformSpace)
def _create_empty_array(space: _FreeformSpace[Any], n: int = 1, fn: Any = None) -> tuple[Any, ...]:
    return tuple(space.empty() for _ in range(n))


def _batch_differing_spaces(spaces: Sequence[_FreeformSpace[Any]]) -> gymnasium.spaces.Tuple[Any]:
    # as Gymnasium's Text: spaces that differ only in their parameters batch as a Tuple of them
    return gymnasium.spaces.Tuple([copy.deepcopy(s) for s in spaces], seed=copy.deepcopy(spaces[0].np_random))


# batch_differing_spaces looks the exact type up in its registry: neither a base class nor the
# Dict that ObservationSpace is would do
for _space_type in (UnicodeText, JsonDict, ActionSpace):
    batch_differing_spaces.register(_space_type, _batch_differing_spaces)
batch_differing_spaces.register(ObservationSpace, batch_differing_spaces.dispatch(gymnasium.spaces.Dict))


@is_space_dtype_shape_equiv.register(_FreeformSpace)
def _is_space_dtype_shape_equiv(space_1: _FreeformSpace[Any], space_2: Any) -> bool:
    return bool(space_1 == space_2)


@attrs.frozen
class Mailbox:
    """The "shared memory" of one of dojo_lite's spaces in Gymnasium's ``AsyncVectorEnv``.

    Values of these spaces have no size bound (a ``data`` dict, a long feedback), so no buffer
    fixed before the workers start can hold them, and Gymnasium's own fixed-size buffers would
    cut them or refuse ``shared_memory=True``.  Instead each env has a queue: a worker puts its
    value (``write_to_shared_memory``) and counts it in ``sent`` before it answers the step, and
    the reader (``read_from_shared_memory``'s :class:`MailboxView`, in the main process) takes
    what was counted when it is read.  No faster than ``shared_memory=False``; it exists so that
    the default ``AsyncVectorEnv(..., shared_memory=True)`` works.
    """

    queues: tuple[Any, ...]  # one multiprocessing queue per env
    sent: Any  # multiprocessing Array("q", n): values put per env

    @classmethod
    def create(cls, n: int, ctx: Any = multiprocessing) -> Mailbox:
        """A mailbox for ``n`` envs, made with the multiprocessing context ``ctx``."""
        return cls(tuple(ctx.Queue() for _ in range(n)), ctx.Array("q", n))

    def post(self, index: int, value: Any) -> None:
        """Leave ``value`` for env ``index`` (in the worker; returns once it is counted)."""
        queue = self.queues[index]
        # A worker may exit with a value the reader never took (after close, or with copy=False):
        # it must not wait at exit for the queue to be drained.
        queue.cancel_join_thread()
        queue.put(value)
        with self.sent.get_lock():
            self.sent[index] += 1


class MailboxView(collections.abc.Sequence[Any]):
    """The values last posted to a :class:`Mailbox`, one per env, read when indexed (the reader
    of an ``AsyncVectorEnv`` reads its shared memory once and keeps the view).  A deep copy (what
    the vector env returns with ``copy=True``) is a plain tuple.  One view per mailbox."""

    def __init__(self, mailbox: Mailbox, empty: Any) -> None:
        self._mailbox = mailbox
        self._taken = [0] * len(mailbox.queues)
        self._values = [copy.deepcopy(empty) for _ in mailbox.queues]

    def __len__(self) -> int:
        return len(self._values)

    @typing.overload
    def __getitem__(self, index: int) -> Any: ...
    @typing.overload
    def __getitem__(self, index: slice) -> tuple[Any, ...]: ...

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return tuple(self[i] for i in range(len(self))[index])
        index = range(len(self))[index]  # IndexError past the end: what ends iteration
        queue, sent = self._mailbox.queues[index], self._mailbox.sent[index]
        while self._taken[index] < sent:
            try:
                self._values[index] = queue.get(timeout=_MAILBOX_WAIT_S)
            except queue_module.Empty:
                raise EnvClosed(f"env {index} of the vector env sent an observation that never came: "
                                "its worker process is gone") from None
            self._taken[index] += 1
        return self._values[index]

    def __deepcopy__(self, memo: dict[int, Any]) -> tuple[Any, ...]:
        return tuple(copy.deepcopy(value, memo) for value in self)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, collections.abc.Sequence) and not isinstance(other, str | bytes):
            return tuple(self) == tuple(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"MailboxView{tuple(self)!r}"


@create_shared_memory.register(_FreeformSpace)
def _create_shared_memory(space: _FreeformSpace[Any], n: int = 1, ctx: Any = multiprocessing) -> Mailbox:
    return Mailbox.create(n, ctx)


@read_from_shared_memory.register(_FreeformSpace)
def _read_from_shared_memory(space: _FreeformSpace[Any], shared_memory: Mailbox, n: int = 1) -> MailboxView:
    return MailboxView(shared_memory, space.empty())


@write_to_shared_memory.register(_FreeformSpace)
def _write_to_shared_memory(space: _FreeformSpace[Any], index: int, value: Any, shared_memory: Mailbox) -> None:
    shared_memory.post(index, value)
