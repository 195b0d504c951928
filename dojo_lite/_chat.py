"""An LLM agent on any OpenAI-compatible chat server (vLLM, SGLang, llama.cpp, Ollama, OpenAI).

A :class:`ChatClient` is one endpoint: one ``openai.AsyncOpenAI`` and a cap on the requests in
flight, shared by every episode that uses it.  A :class:`ChatAgent` is one episode's
conversation on a client.  The API key lives in the client, in the controller: nothing of it is
written into prompts, trajectories, logs or reprs, and agent code (in the jail) never sees it.

``openai`` is imported only when a client is made, so that ``import dojo_lite`` does not need it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import random
import re
import time
import urllib.parse
from collections.abc import Sequence
from typing import Any

import attrs

from ._actions import parse_action
from ._errors import ConfigError
from ._observation import INFO_TOPICS

__all__ = [
    "ACTION_TOOLS",
    "FIRST_TURN",
    "ChatAgent",
    "ChatClient",
    "ChatConfig",
    "ChatStep",
    "ChatUsage",
    "clip_history",
    "estimate_tokens",
    "observation_message",
    "system_prompt",
]

_log = logging.getLogger("dojo_lite")

OPENAI_URL = "https://api.openai.com/v1"
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0"})
_TRANSIENT_STATUS = frozenset({408, 409, 429})  # and every 5xx
Message = dict[str, Any]


# ------------------------------------------------------------------ the actions as tools, the prompt


def _tool(name: str, description: str, properties: dict[str, Any], required: Sequence[str]) -> dict[str, Any]:
    parameters = {"type": "object", "properties": properties, "required": list(required),
                  "additionalProperties": False}
    return {"type": "function", "function": {"name": name, "description": description, "parameters": parameters}}


_CODE = {"type": "string", "description": "a whole Python script (it runs as solution.py in the work dir)"}
ACTION_TOOLS: tuple[dict[str, Any], ...] = (
    _tool("request_info", "Read part of the task: its overview, data files, submission format, metric, "
          "or the limits and the budget left.",
          {"topic": {"type": "string", "enum": [*INFO_TOPICS, "all"], "description": "which part (default: all)"}},
          ()),
    _tool("validate_code", "Run a script on the small micro data under the validation limits and check the "
          "format of the submission.csv it writes. Not scored.", {"code": _CODE}, ("code",)),
    _tool("execute_code", "Run a script on the full data under the task's limits and grade the "
          "submission.csv it writes: the score is your reward.", {"code": _CODE}, ("code",)),
    _tool("get_history", "List every step so far with its status and score.", {}, ()),
    _tool("reset", "Empty the work dir (what earlier runs wrote there); budgets and history go on.", {}, ()),
)
"""The five actions as OpenAI function tools (JSON-schema parameters)."""

FIRST_TURN = "Begin: take your first action."
"""The user turn that opens every conversation (chat templates want one before the first answer)."""


def _signature(tool: dict[str, Any]) -> str:
    function = tool["function"]
    params = function["parameters"]
    args = ", ".join(name if name in params["required"] else f"{name}?" for name in params["properties"])
    return f"- {function['name']}({args}): {function['description']}"


def system_prompt(overview: str) -> str:
    """The system prompt of a conversation on a task whose overview (the feedback of the
    observation ``reset`` gives) is ``overview``; :class:`ChatAgent` and the chat export both
    use it, so that exported conversations are the ones an agent holds."""
    actions = "\n".join(map(_signature, ACTION_TOOLS))
    return f"""You are a machine-learning engineer solving a Kaggle-style task in a sandbox.

# The task
{overview}

# How to act
Each reply takes exactly one action, and you see its result before the next. The actions:
{actions}

Call the tool of that name. Where no tools are offered, end your reply with one JSON block holding
the action's name and its arguments, for example:
```json
{{"action": "validate_code", "code": "import pandas as pd\\n..."}}
```
Your code runs as a Python script in a fresh process with the task's data under ./input/ and must
write ./submission.csv. It has no network. Validate code before you execute it; execute as often
as the budget allows to improve your score."""


def observation_message(obs: dict[str, Any], info: dict[str, Any]) -> str:
    """What the model reads of a step: the observation's status and feedback, then the scores and
    the budget left from ``info`` (missing keys are left out)."""
    facts = [f"{label} {info[key]}" for key, label in (
        ("step", "step"), ("score", "score"), ("position_score", "position score"), ("best_score", "best score"),
        ("steps_left", "steps left"), ("seconds_left", "seconds left")) if info.get(key) is not None]
    return f"[{obs.get('status', '?')}] {', '.join(facts)}\n\n{obs.get('feedback', '')}"


# ------------------------------------------------------------------ the history and its budget


def estimate_tokens(message: Message) -> int:
    """About how many tokens ``message`` takes: 4 characters a token, plus a few for its frame."""
    chars = len(str(message.get("content") or ""))
    for call in message.get("tool_calls") or ():
        function = call.get("function", {})
        chars += len(str(function.get("name", ""))) + len(str(function.get("arguments", "")))
    return chars // 4 + 4


def _turns(messages: Sequence[Message]) -> list[list[Message]]:
    """``messages`` in turns: each assistant message with the tool and user messages after it (so
    a tool call is never parted from its reply)."""
    turns: list[list[Message]] = []
    for message in messages:
        if message.get("role") == "assistant" or not turns:
            turns.append([])
        turns[-1].append(message)
    return turns


def clip_history(messages: Sequence[Message], budget: int, *, keep_head: int = 2) -> list[Message]:
    """``messages``, or, when their estimate passes ``budget`` tokens, the first ``keep_head`` (the
    system prompt and the opening turn), a note of what was left out, and the latest whole turns
    that fit; the latest turn is always kept, even alone over the budget."""
    head, turns = list(messages[:keep_head]), _turns(messages[keep_head:])
    sizes = [sum(map(estimate_tokens, turn)) for turn in turns]
    room = budget - sum(map(estimate_tokens, head)) - 32  # 32: the note
    if sum(sizes) <= room + 32:
        return list(messages)
    kept = 1
    while kept < len(turns) and sum(sizes[-kept - 1:]) <= room:
        kept += 1
    note = {"role": "user", "content": f"[{len(turns) - kept} earlier turns are left out to fit the context; "
                                       "get_history lists every step.]"}
    return [*head, note, *(m for turn in turns[-kept:] for m in turn)]


# ------------------------------------------------------------------ usage records


@attrs.frozen
class ChatStep:
    """What choosing one action cost: the ``requests`` sent, how many of them were ``retries``
    of a failed request (429, 5xx, timeouts) and how many answered a malformed reply
    (``corrections``), the tokens the server counted, and the seconds it took.  ``action`` is the
    action chosen, or None when the agent gave up on the step."""

    step: int
    action: str | None
    requests: int
    retries: int
    corrections: int
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    seconds: float


@attrs.frozen
class ChatUsage:
    """Totals over an agent's steps (see :class:`ChatStep`)."""

    steps: int = 0
    requests: int = 0
    retries: int = 0
    corrections: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0

    @classmethod
    def of(cls, steps: Sequence[ChatStep]) -> ChatUsage:
        fields = [f.name for f in attrs.fields(cls) if f.name != "steps"]
        return cls(len(steps), **{name: sum(getattr(s, name) for s in steps) for name in fields})

    def to_dict(self) -> dict[str, int]:
        return attrs.asdict(self)


@attrs.define
class _Tally:
    """The counts of the step being chosen."""

    started: float = attrs.field(factory=time.monotonic)
    requests: int = 0
    retries: int = 0
    corrections: int = 0
    tokens: list[int] = attrs.field(factory=lambda: [0, 0, 0])

    def add_usage(self, usage: Any) -> None:
        if usage is None:  # some servers send none
            return
        for i, name in enumerate(("prompt_tokens", "completion_tokens", "total_tokens")):
            self.tokens[i] += int(getattr(usage, name, 0) or 0)

    def done(self, step: int, action: str | None) -> ChatStep:
        prompt, completion, total = self.tokens
        return ChatStep(step, action, self.requests, self.retries, self.corrections, prompt, completion, total,
                        round(time.monotonic() - self.started, 3))


# ------------------------------------------------------------------ the client


def _positive(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not (value > 0 and math.isfinite(value)):
        raise ConfigError(f"{attribute.name} must be a positive number, got {value!r}")


def _not_negative(instance: object, attribute: attrs.Attribute[Any], value: int) -> None:
    if value < 0:
        raise ConfigError(f"{attribute.name} must be 0 or more, got {value!r}")


@attrs.frozen
class ChatConfig:
    """How to talk to a chat server.

    - ``model``: the model name the server serves; ``base_url``: its ``/v1`` URL (None: from
      ``$OPENAI_BASE_URL``, else OpenAI's).
    - ``max_concurrency``: requests in flight at once over every agent of one client.
    - ``request_timeout``: seconds one request may take; ``max_attempts``: tries of a request that
      fails with 408, 409, 429, a 5xx, a connection error or a timeout, waiting ``backoff_s``,
      then twice that, and so on up to ``max_backoff_s`` (with jitter), or what ``Retry-After`` says.
    - ``max_retries``: corrective turns after malformed replies, per step; then the agent stops.
    - ``context_tokens``: the budget of the history sent (older turns are dropped whole).
    - ``tools``: offer the actions as tools (False: ask for a JSON block in the text only).
    - ``max_tokens``, ``temperature``: passed on when set.
    """

    model: str
    base_url: str | None = None
    max_concurrency: int = attrs.field(default=4, validator=_positive)
    request_timeout: float = attrs.field(default=300.0, validator=_positive)
    max_attempts: int = attrs.field(default=5, validator=_positive)
    backoff_s: float = attrs.field(default=1.0, validator=_positive)
    max_backoff_s: float = attrs.field(default=60.0, validator=_positive)
    max_retries: int = attrs.field(default=3, validator=_not_negative)
    context_tokens: int = attrs.field(default=32_000, validator=_positive)
    tools: bool = True
    max_tokens: int | None = None
    temperature: float | None = None


def _is_local(url: str) -> bool:
    return (urllib.parse.urlsplit(url).hostname or "") in _LOCAL_HOSTS


def _retry_after(exc: Exception) -> float | None:
    """The seconds a ``Retry-After`` (or ``retry-after-ms``) header of the failed response asks for."""
    headers = getattr(getattr(exc, "response", None), "headers", None) or {}
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        try:
            seconds = float(headers.get(name, "")) / scale
        except ValueError:  # absent, or an HTTP date: fall back on the backoff
            continue
        if math.isfinite(seconds) and seconds >= 0:
            return seconds
    return None


def _transient(exc: Exception) -> bool:
    import openai  # the client exists, so openai is there

    if isinstance(exc, TimeoutError | openai.APIConnectionError):  # APITimeoutError is one
        return True
    return isinstance(exc, openai.APIStatusError) and (exc.status_code in _TRANSIENT_STATUS or exc.status_code >= 500)


def _rejects_tools(exc: Exception) -> bool:
    import openai

    return isinstance(exc, openai.BadRequestError) and "tool" in str(exc).lower()


class _NoTools(Exception):
    """The server refused ``tools`` (a 400 that names them)."""


@attrs.define(eq=False)
class ChatClient:
    """One chat endpoint, shared by the :class:`ChatAgent` of every episode that uses it: one
    ``openai.AsyncOpenAI`` (its own retries off: this client does them) and a semaphore of
    ``config.max_concurrency`` slots.  ``tools_supported`` is None until a request tells: then
    True, or False after the server refused tools (every later request goes without them).

    Make one with :meth:`connect`; close it with ``await client.aclose()`` or ``async with``.
    """

    config: ChatConfig
    _openai: Any = attrs.field(repr=False)
    tools_supported: bool | None = attrs.field(default=None, init=False)
    _slots: asyncio.Semaphore = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        self._slots = asyncio.Semaphore(self.config.max_concurrency)

    @classmethod
    def connect(cls, config: ChatConfig, *, api_key: str | None = None,
                api_key_env: str = "OPENAI_API_KEY") -> ChatClient:
        """A client of ``config``'s server, its key ``api_key`` or else ``$api_key_env``.  Raises
        :class:`ConfigError` when there is no key for a server that is not on this host (local
        servers get a placeholder: they take any key), or when ``openai`` is not installed."""
        base_url = config.base_url or os.environ.get("OPENAI_BASE_URL") or OPENAI_URL
        key = api_key if api_key is not None else os.environ.get(api_key_env)
        if not key:
            if not _is_local(base_url):
                raise ConfigError(f"no API key for {base_url}: set ${api_key_env} (or name the variable that "
                                  "holds it with --api-key-env)")
            key = "no-key"
        try:
            import openai
        except ImportError as exc:
            raise ConfigError("the chat agent needs the openai package: pip install 'openai>=1.40'") from exc
        # the request timeout is ours (asyncio.timeout); the client's is a backstop a little later
        client = openai.AsyncOpenAI(api_key=key, base_url=base_url, max_retries=0,
                                    timeout=config.request_timeout + 5)
        return cls(attrs.evolve(config, base_url=base_url), client)

    async def aclose(self) -> None:
        """Close the HTTP connections; idempotent."""
        await self._openai.close()

    async def __aenter__(self) -> ChatClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def _complete(self, messages: list[Message], tally: _Tally) -> Any:
        """The server's completion of ``messages`` (tools offered unless they are known to be
        refused), transient failures retried.  Raises the last failure when every attempt failed,
        or one that is not transient (the caller stops on it)."""
        while True:
            tools = self.config.tools and self.tools_supported is not False
            try:
                response = await self._attempts(self._request(messages, tools), tally)
            except _NoTools:
                self.tools_supported = False
                continue
            if tools:
                self.tools_supported = True
            tally.add_usage(getattr(response, "usage", None))
            return response

    def _request(self, messages: list[Message], tools: bool) -> dict[str, Any]:
        config = self.config
        request: dict[str, Any] = {"model": config.model, "messages": messages}
        if tools:
            request["tools"] = list(ACTION_TOOLS)
        if config.max_tokens is not None:
            request["max_tokens"] = config.max_tokens
        if config.temperature is not None:
            request["temperature"] = config.temperature
        return request

    async def _attempts(self, request: dict[str, Any], tally: _Tally) -> Any:
        config, attempt = self.config, 0
        while True:
            tally.requests += 1
            try:
                async with self._slots:  # the cap counts time on the wire, not backoff sleeps
                    async with asyncio.timeout(config.request_timeout):
                        return await self._openai.chat.completions.create(**request)
            except Exception as exc:
                if "tools" in request and _rejects_tools(exc):
                    raise _NoTools() from exc
                if not _transient(exc) or attempt + 1 >= config.max_attempts:
                    raise
                delay = self._delay(exc, attempt)
            await asyncio.sleep(delay)
            attempt += 1
            tally.retries += 1

    def _delay(self, exc: Exception, attempt: int) -> float:
        config = self.config
        asked = _retry_after(exc)
        if asked is not None:
            return min(asked, config.max_backoff_s)
        # full jitter keeps the episodes that a 429 hit together from coming back together
        backoff = min(config.backoff_s * 2.0 ** attempt, config.max_backoff_s)
        return backoff * (0.5 + random.random() / 2)


# ------------------------------------------------------------------ the agent

_BLOCK = re.compile(r"```(?:json)?\s*\n?(.*?)```", re.DOTALL | re.IGNORECASE)


def _action_from_text(text: str) -> tuple[dict[str, Any] | None, str]:
    """The action of the last fenced JSON block of ``text`` (or of ``text`` itself, when it is one
    JSON object), or None and what is wrong."""
    blocks = _BLOCK.findall(text)
    source = blocks[-1] if blocks else text.strip()
    if not source.startswith("{"):
        return None, "the reply takes no action: call one of the tools, or end the reply with a ```json block"
    return parse_action(source)


def _action_from_call(name: str, raw: str) -> tuple[dict[str, Any] | None, str]:
    try:
        args = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        return None, f"the arguments of {name!r} are not valid JSON ({str(exc)[:200]})"
    if not isinstance(args, dict):
        return None, f"the arguments of {name!r} must be a JSON object"
    return parse_action({**args, "action": name})


@attrs.define(eq=False)
class ChatAgent:
    """An async agent (``await agent(obs, info) -> action | None``) that asks the model on
    ``client`` for each action of one episode; make one per episode (it holds the conversation).

    The first call (on the observation of ``reset``) opens the conversation with
    :func:`system_prompt`; each later one adds the observation as the reply to the action it
    answers.  A malformed reply (no action, bad JSON, an unknown action, a missing argument) is
    answered with what is wrong, up to ``config.max_retries`` times a step.  Returns the action,
    or None to end the episode: after too many malformed replies, or when the server failed
    (``stop_reason`` says why, and the ``dojo_lite`` logger has it as a warning); every call after
    that returns None too.  Never raises on the server's or the model's account.

    ``messages`` is the whole conversation (the server gets it clipped to
    ``config.context_tokens``), ``records`` one :class:`ChatStep` per call, ``usage`` their totals.
    :meth:`step_note` gives :func:`~dojo_lite.run_episode` the model's message and the step's
    usage, for the trajectory (and so for ``dojo-lite export``).
    """

    client: ChatClient
    messages: list[Message] = attrs.field(factory=list, init=False)
    records: list[ChatStep] = attrs.field(factory=list, init=False)
    stop_reason: str | None = attrs.field(default=None, init=False)
    _call_id: str | None = attrs.field(default=None, init=False)  # the tool call the next observation answers

    @property
    def usage(self) -> ChatUsage:
        """The totals of every step so far."""
        return ChatUsage.of(self.records)

    async def __call__(self, obs: dict[str, Any], info: dict[str, Any]) -> dict[str, Any] | None:
        if self.stop_reason is not None:
            return None
        if not self.messages:
            self.messages += [{"role": "system", "content": system_prompt(str(obs.get("feedback", "")))},
                              {"role": "user", "content": FIRST_TURN}]
        else:
            self._reply(observation_message(obs, info))
        return await self._choose()

    def step_note(self) -> dict[str, Any] | None:
        """What the last call chose its action from: ``{"message": the text of the model's
        accepted reply, "usage": its ChatStep as a dict}``; None before the first call."""
        if not self.records:
            return None
        last = next((m for m in reversed(self.messages) if m.get("role") == "assistant"), {})
        return {"message": str(last.get("content") or ""), "usage": attrs.asdict(self.records[-1])}

    def _reply(self, content: str) -> None:
        """Answer the last reply: as the tool result of its call, or as the user."""
        if self._call_id is not None:
            self.messages.append({"role": "tool", "tool_call_id": self._call_id, "content": content})
        else:
            self.messages.append({"role": "user", "content": content})
        self._call_id = None

    async def _choose(self) -> dict[str, Any] | None:
        config, tally = self.client.config, _Tally()
        for _ in range(config.max_retries + 1):
            try:
                response = await self.client._complete(clip_history(self.messages, config.context_tokens), tally)
            except Exception as exc:  # the server's failure ends the episode, not the controller
                self._stop(tally, f"the chat server failed: {type(exc).__name__}: {str(exc)[:500]}")
                return None
            action, problem = self._read(response)
            if action is not None:
                self.records.append(tally.done(len(self.records) + 1, action["action"]))
                return action
            tally.corrections += 1
            self._reply(f"Invalid action: {problem}. Reply again with exactly one valid action.")
        self._stop(tally, f"{config.max_retries + 1} malformed replies in a row (the last: {problem})")
        return None

    def _read(self, response: Any) -> tuple[dict[str, Any] | None, str]:
        """The action of ``response``'s first choice (its message joins the conversation)."""
        choices = getattr(response, "choices", None) or []
        if not choices or getattr(choices[0], "message", None) is None:
            self.messages.append({"role": "assistant", "content": ""})
            return None, "the server sent no message"
        message = choices[0].message
        text, calls = message.content or "", message.tool_calls or []
        if not calls:
            self.messages.append({"role": "assistant", "content": text})
            return _action_from_text(text)
        call = calls[0]  # one action a turn: later calls are dropped, so none waits for a reply
        function = getattr(call, "function", None)  # None: a custom (non-function) tool call
        name, raw = str(getattr(function, "name", "") or ""), str(getattr(function, "arguments", "") or "{}")
        self._call_id = getattr(call, "id", None) or f"call_{len(self.messages)}"
        self.messages.append({"role": "assistant", "content": text, "tool_calls": [
            {"id": self._call_id, "type": "function", "function": {"name": name, "arguments": raw}}]})
        return _action_from_call(name, raw)

    def _stop(self, tally: _Tally, reason: str) -> None:
        self.records.append(tally.done(len(self.records) + 1, None))
        self.stop_reason = reason
        _log.warning("dojo_lite: the chat agent ends its episode: %s", reason)
