"""A real OpenAI-compatible chat server for tests: ``POST /v1/chat/completions`` over HTTP on
127.0.0.1, answering from a script.

Each request takes the next :class:`Reply` of the script (or asks ``responder(body)`` for one):
a completion with text (a JSON block, or malformed text), a tool call, an error status with
headers (429 with ``Retry-After``, 500), or any of them late (``delay``, longer than a client's
timeout).  With ``reject_tools`` every request that offers ``tools`` gets the 400 a server
without tool support sends, and takes nothing of the script.  The server records every request
(path, headers, JSON body) and the most requests it ever had in flight at once.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import attrs


@attrs.frozen
class Reply:
    """What the server does with one request: ``status``, a JSON ``body``, ``headers``, after
    ``delay`` seconds."""

    status: int = 200
    body: dict[str, Any] = attrs.field(factory=dict)
    headers: dict[str, str] = attrs.field(factory=dict)
    delay: float = 0.0


@attrs.frozen
class Request:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.body.get("messages", []))


_ids = itertools.count(1)


def _completion(message: dict[str, Any], finish: str, usage: tuple[int, int]) -> dict[str, Any]:
    prompt, completion = usage
    return {"id": f"chatcmpl-{next(_ids)}", "object": "chat.completion", "created": int(time.time()),
            "model": "scripted", "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                      "total_tokens": prompt + completion}}


def text(content: str, *, usage: tuple[int, int] = (100, 20), delay: float = 0.0) -> Reply:
    """A completion whose message is ``content``."""
    return Reply(body=_completion({"role": "assistant", "content": content}, "stop", usage), delay=delay)


def json_block(action: dict[str, Any], *, usage: tuple[int, int] = (100, 20)) -> Reply:
    """A completion that thinks aloud, then ends with ``action`` in a fenced JSON block."""
    return text(f"Let me do this next.\n```json\n{json.dumps(action)}\n```", usage=usage)


def tool_call(name: str, arguments: dict[str, Any] | str, *, usage: tuple[int, int] = (100, 20),
              delay: float = 0.0) -> Reply:
    """A completion that calls tool ``name`` (``arguments`` a dict, or raw text: malformed JSON)."""
    raw = arguments if isinstance(arguments, str) else json.dumps(arguments)
    call = {"id": f"call_{next(_ids)}", "type": "function", "function": {"name": name, "arguments": raw}}
    return Reply(body=_completion({"role": "assistant", "content": None, "tool_calls": [call]}, "tool_calls",
                                  usage), delay=delay)


def error(status: int, message: str, *, retry_after: float | None = None) -> Reply:
    """An error response in OpenAI's shape (with ``Retry-After`` when given)."""
    headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
    return Reply(status, {"error": {"message": message, "type": "scripted_error", "code": status}}, headers)


NO_TOOLS = error(400, "This model does not support tools: 'tools' is not allowed")


@attrs.define(eq=False)
class OpenAIServer:
    """The server; start it with :func:`serve`.  ``url`` is its ``/v1`` base URL."""

    script: list[Reply] = attrs.field(factory=list)
    responder: Callable[[dict[str, Any]], Reply] | None = None
    reject_tools: bool = False
    requests: list[Request] = attrs.field(factory=list)
    max_in_flight: int = 0
    url: str = ""
    _in_flight: int = 0
    _lock: threading.Lock = attrs.field(factory=threading.Lock)
    _closing: threading.Event = attrs.field(factory=threading.Event)

    def answer(self, path: str, headers: dict[str, str], body: dict[str, Any]) -> Reply:
        with self._lock:
            self.requests.append(Request(path, headers, body))
            if path != "/v1/chat/completions":
                return error(404, f"no route {path}")
            if self.reject_tools and "tools" in body:
                return NO_TOOLS
            if self.responder is not None:
                return self.responder(body)
            return self.script.pop(0) if self.script else error(500, "the test's script is used up")

    @contextmanager
    def in_flight(self) -> Iterator[None]:
        with self._lock:
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
        try:
            yield
        finally:
            with self._lock:
                self._in_flight -= 1

    def wait(self, seconds: float) -> None:
        """Sleep (a slow answer), cut short when the server closes."""
        self._closing.wait(seconds)


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        state = self.server.state
        with state.in_flight():
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                body = json.loads(raw)
            except ValueError:
                body = {"unparsed": raw.decode("utf-8", "replace")}
            reply = state.answer(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            state.wait(reply.delay)
            self._send(reply)

    def _send(self, reply: Reply) -> None:
        data = json.dumps(reply.body).encode()
        try:
            self.send_response(reply.status)
            for name, value in {"Content-Type": "application/json", **reply.headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting (a timeout test)
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:  # quiet: pytest shows failures, not traffic
        pass


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    state: OpenAIServer


@contextmanager
def serve(server: OpenAIServer) -> Iterator[OpenAIServer]:
    """Run ``server`` on a free port of 127.0.0.1 in a thread until the block ends."""
    http = _HTTPServer(("127.0.0.1", 0), _Handler)
    http.state = server
    server.url = f"http://127.0.0.1:{http.server_address[1]}/v1"
    thread = threading.Thread(target=http.serve_forever, name="openai test server", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server._closing.set()
        http.shutdown()
        http.server_close()
        thread.join(timeout=5)
