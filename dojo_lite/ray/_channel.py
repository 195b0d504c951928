"""The step path between the router and a node actor: one TCP connection per node.

Ray carries everything else: placement, the actors' lives, configuration, statistics, a shipped
agent, and the sync twins' steps.  But a step through Ray is a task submission and a reply
through the object store, about 2 ms on a small VM however small the step; on an open
connection it is one frame each way.  So the node actor also listens on its node's address, and
the router's async steps go there.

A frame is a 4-byte length and that many bytes of JSON.  The router's first frame must be the
node's secret, which it got from the actor through Ray; until then the node reads at most that
many bytes, and hangs up on anything else or after :data:`AUTH_TIMEOUT_S` (and at once past
:data:`MAX_UNAUTHENTICATED` such connections).  Then each request is
``{"id", "key", "action"}`` (what :meth:`NodeActor.step` takes) or ``{"id", "cancel": true}``,
and each answer ``{"id", "ok": text}`` or ``{"id", "error": {"type", "message"}}``.  What crosses
is what crossed through Ray: the action in, the observation out; nothing from a jail is
unpickled here either.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hmac
import itertools
import json
import secrets
import socket
import struct
from collections.abc import Awaitable, Callable
from typing import Any

import attrs

from .. import _errors
from .._errors import DojoError, UsageError

__all__ = ["AUTH_TIMEOUT_S", "MAX_UNAUTHENTICATED", "ChannelBroken", "Endpoint", "StepClient", "StepServer"]

AUTH_TIMEOUT_S = 5.0
MAX_UNAUTHENTICATED = 64  # connections still to send the secret; more are closed at once
_HEADER = struct.Struct("!I")
_TOKEN_BYTES = 32
_MAX_FRAME = 256 << 20  # far above any observation (their text is capped): only a bound on a bad peer
# A node whose host vanished without closing the connection is noticed in ~20-30 s: by keepalive
# when the connection is idle, by the user timeout when a frame sent is never acknowledged.
_TCP_OPTIONS = tuple((option, value) for name, value in (("TCP_KEEPIDLE", 5), ("TCP_KEEPINTVL", 5), ("TCP_KEEPCNT", 3),
                                                         ("TCP_USER_TIMEOUT", 30_000))
                     if (option := getattr(socket, name, None)) is not None)
# What a bad frame raises while it is read and taken apart: the connection then ends.
_BAD_PEER = (OSError, EOFError, ValueError, KeyError, TypeError, AttributeError, RecursionError)


class ChannelBroken(ConnectionError):
    """The connection to the node ended (or never opened); a step under way has an unknown outcome."""


@attrs.frozen
class Endpoint:
    """Where a node actor listens for steps, and the secret it wants first."""

    host: str
    port: int
    token: bytes = attrs.field(repr=False)


def _frame(payload: bytes) -> bytes:
    return _HEADER.pack(len(payload)) + payload


async def _read_frame(reader: asyncio.StreamReader, limit: int = _MAX_FRAME) -> bytes:
    (size,) = _HEADER.unpack(await reader.readexactly(_HEADER.size))
    if size > limit:
        raise ChannelBroken(f"a frame of {size} bytes (at most {limit})")
    return await reader.readexactly(size)


def _keepalive(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        for option, value in _TCP_OPTIONS:
            sock.setsockopt(socket.IPPROTO_TCP, option, value)


def error_to_json(exc: BaseException) -> dict[str, str]:
    return {"type": type(exc).__name__, "message": str(exc)}


def error_from_json(error: dict[str, Any]) -> DojoError:
    """The node's DojoError as the same class here (any other error of the node's: a UsageError
    that names it)."""
    name = str(error.get("type") or "")
    kind = getattr(_errors, name, None)
    message = str(error.get("message", ""))
    if isinstance(kind, type) and issubclass(kind, DojoError) and kind is not _errors.SubmissionError:
        return kind(message)
    return UsageError(f"the node failed the step: {name or 'an error'}: {message}")


def _forget(running: dict[int, asyncio.Task[None]], ident: int, _: object) -> None:
    running.pop(ident, None)


class StepServer:
    """On the node: answers steps (``handle(key, action) -> text``) to whoever holds the token."""

    def __init__(self, handle: Callable[[str, str], Awaitable[str]]) -> None:
        self._handle = handle
        self._token = secrets.token_bytes(_TOKEN_BYTES)
        self._server: asyncio.Server | None = None
        self._clients: set[asyncio.Task[None]] = set()
        self._unauthenticated = 0
        self._closing = False

    async def start(self, host: str) -> Endpoint:
        self._server = await asyncio.start_server(self._client, host, 0)
        port = self._server.sockets[0].getsockname()[1]
        return Endpoint(host, port, self._token)

    async def aclose(self) -> None:
        self._closing = True
        if self._server is not None:
            self._server.close()
        for client in list(self._clients):
            client.cancel()
        await asyncio.gather(*self._clients, return_exceptions=True)

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        me = asyncio.current_task()
        if me is None or self._closing or self._unauthenticated >= MAX_UNAUTHENTICATED:
            writer.close()
            return
        self._clients.add(me)
        running: dict[int, asyncio.Task[None]] = {}
        try:
            self._unauthenticated += 1
            try:
                async with asyncio.timeout(AUTH_TIMEOUT_S):
                    token = await _read_frame(reader, limit=_TOKEN_BYTES)
            finally:
                self._unauthenticated -= 1
            if not hmac.compare_digest(token, self._token):
                return
            _keepalive(writer)
            while True:
                request = json.loads(await _read_frame(reader))
                ident = request["id"]
                if request.get("cancel"):
                    if (task := running.get(ident)) is not None:
                        task.cancel()
                    continue
                task = running[ident] = asyncio.ensure_future(
                    self._answer(writer, ident, request["key"], request["action"]))
                task.add_done_callback(functools.partial(_forget, running, ident))
        except (*_BAD_PEER, TimeoutError):
            pass  # a peer that hung up, or spoke out of turn: the connection ends
        finally:
            for task in list(running.values()):
                task.cancel()
            await asyncio.gather(*running.values(), return_exceptions=True)
            writer.close()
            self._clients.discard(me)

    async def _answer(self, writer: asyncio.StreamWriter, ident: int, key: str, action: str) -> None:
        try:
            reply: dict[str, Any] = {"id": ident, "ok": await self._handle(key, action)}
        except Exception as exc:  # the env's or the scheduler's error: the caller's to see
            reply = {"id": ident, "error": error_to_json(exc)}
        if not writer.is_closing():
            writer.write(_frame(json.dumps(reply).encode()))


class StepClient:
    """In the router: steps sent to one node over one connection, answered in any order.

    :meth:`run` reads the answers until the connection ends (its owner runs it as a task);
    :meth:`step` sends one and waits for its answer.  Cancelling a step cancels it on the node.
    When the connection ends, every step waiting gets :class:`ChannelBroken`.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader, self._writer = reader, writer
        self._pending: dict[int, asyncio.Future[str]] = {}
        self._ids = itertools.count()
        self.broken: ChannelBroken | None = None

    @classmethod
    async def connect(cls, endpoint: Endpoint, timeout_s: float) -> StepClient:
        try:
            async with asyncio.timeout(timeout_s):
                reader, writer = await asyncio.open_connection(endpoint.host, endpoint.port)
        except (OSError, TimeoutError) as exc:
            raise ChannelBroken(f"cannot connect to {endpoint.host}:{endpoint.port}: {exc}") from exc
        _keepalive(writer)
        writer.write(_frame(endpoint.token))
        return cls(reader, writer)

    async def run(self) -> None:
        try:
            while True:
                answer = json.loads(await _read_frame(self._reader))
                future = self._pending.get(answer["id"])
                if future is None or future.done():
                    continue
                if "ok" in answer:
                    future.set_result(answer["ok"])
                else:
                    future.set_exception(error_from_json(answer.get("error") or {}))
        except _BAD_PEER as exc:
            self._break(ChannelBroken(f"the connection ended: {exc or type(exc).__name__}"))
        finally:
            self._break(ChannelBroken("the connection was closed"))

    async def step(self, key: str, action: str) -> str:
        if self.broken is not None:
            raise ChannelBroken(str(self.broken))  # a new one each time: no traceback piles up
        ident = next(self._ids)
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._pending[ident] = future
        try:
            self._writer.write(_frame(json.dumps({"id": ident, "key": key, "action": action}).encode()))
            return await future
        except asyncio.CancelledError:
            if self.broken is None and not self._writer.is_closing():
                self._writer.write(_frame(json.dumps({"id": ident, "cancel": True}).encode()))
            raise
        finally:
            self._pending.pop(ident, None)

    def close(self) -> None:
        self._break(ChannelBroken("the connection was closed"))

    def _break(self, reason: ChannelBroken) -> None:
        if self.broken is None:
            self.broken = reason
        with contextlib.suppress(RuntimeError):  # the loop may be closing
            self._writer.close()
        for future in self._pending.values():
            if not future.done():
                future.set_exception(ChannelBroken(str(self.broken)))
