"""Reading what comes out of a jail, capped while it is read."""

from __future__ import annotations

import array
import asyncio
import contextlib
import json
import os
import socket
import struct
import time
from collections.abc import Callable
from typing import Any

from ._result import Output

_UCRED = struct.Struct("iII")
MAX_MESSAGE = 128 << 10  # the largest message from a spare (a 32 KiB traceback, rebuilt) with room to spare
_PER_CALLBACK = 16  # messages read per wake-up: the event loop gets its turn between batches


class CappedStream:
    """Drains a pipe into a bounded buffer: the first ``keep/2`` bytes and the last
    ``keep/2`` bytes are kept, the middle is counted and dropped.

    ``on_flood`` is called once when more than ``kill_after`` bytes have come.
    """

    def __init__(self, fd: int, *, keep: int, kill_after: int, on_flood: Callable[[], None]) -> None:
        self._fd = fd
        self._half = max(keep // 2, 1)
        self._head = bytearray()
        self._tail = bytearray()
        self._total = 0
        self._kill_after = kill_after
        self._on_flood: Callable[[], None] | None = on_flood
        self.closed = asyncio.get_running_loop().create_future()
        os.set_blocking(fd, False)
        asyncio.get_running_loop().add_reader(fd, self._readable)

    def drain_now(self) -> None:
        """Read what the pipe holds right now, then close it."""
        while self._fd >= 0 and self._readable():
            pass
        self.close()

    def _readable(self) -> bool:
        """Read one chunk; False when nothing more can be read now."""
        try:
            data = os.read(self._fd, 1 << 16)
        except BlockingIOError:
            return False
        except OSError:
            data = b""
        if not data:
            self.close()
            return False
        self._total += len(data)
        room = self._half - len(self._head)
        if room > 0:
            self._head += data[:room]
            data = data[room:]
        self._tail += data
        if len(self._tail) > 2 * self._half:
            del self._tail[: len(self._tail) - self._half]
        if self._total > self._kill_after and self._on_flood is not None:
            flood, self._on_flood = self._on_flood, None
            flood()
        return True

    def close(self) -> None:
        if self._fd >= 0:
            asyncio.get_running_loop().remove_reader(self._fd)
            os.close(self._fd)
            self._fd = -1
        if not self.closed.done():
            self.closed.set_result(None)

    def output(self) -> Output:
        tail = bytes(self._tail[-self._half:])
        dropped = self._total - len(self._head) - len(tail)
        text = bytes(self._head).decode(errors="replace")
        if dropped:
            text += f"\n[... {dropped} bytes dropped ...]\n"
        return Output(text + tail.decode(errors="replace"), dropped_bytes=dropped, total_bytes=self._total)


class Message:
    """One message from the jail: its sender's pid as the kernel tells it, the
    decoded JSON body, any file descriptors it carried, and when it was read
    (``time.monotonic()``)."""

    def __init__(self, pid: int | None, body: dict[str, Any], fds: list[int]) -> None:
        self.pid = pid
        self.body = body
        self.fds = fds
        self.at = time.monotonic()

    @property
    def op(self) -> str:
        """What kind of message: a value of ``_zygote.Report`` (compare with its members), or ""."""
        return str(self.body.get("op", ""))


class Channel:
    """A ``SOCK_SEQPACKET`` socket read from the event loop into a queue.

    A message that is not a JSON object is dropped: the jail cannot make the
    controller raise.  ``None`` in the queue means the peer hung up.
    """

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        sock.setblocking(False)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.queue: asyncio.Queue[Message | None] = asyncio.Queue()
        self._hung_up = False
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(sock, self._readable)

    def _readable(self) -> None:
        for _ in range(_PER_CALLBACK):  # the reader is level-triggered: the rest comes next turn
            try:
                data, ancdata, _, _ = self.sock.recvmsg(
                    MAX_MESSAGE, socket.CMSG_SPACE(_UCRED.size) + socket.CMSG_SPACE(16 * 4))
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                data, ancdata = b"", []
            if not data:
                self._hang_up()
                return
            pid, fds = _ancillary(ancdata)
            try:
                body = json.loads(data.decode())
            except Exception:  # ValueError, RecursionError, MemoryError: a bad message, dropped
                body = None
            if not isinstance(body, dict):
                _close_all(fds)
                continue
            self.queue.put_nowait(Message(pid, body, fds))

    def _hang_up(self) -> None:
        if self.sock.fileno() >= 0:
            self._loop.remove_reader(self.sock)
        if not self._hung_up:
            self._hung_up = True
            self.queue.put_nowait(None)

    async def send(self, payload: bytes) -> None:
        await self._loop.sock_sendall(self.sock, payload)

    def send_json(self, obj: dict[str, Any]) -> None:
        """Send a small control message now (it fits any socket buffer)."""
        self.sock.send(json.dumps(obj).encode())

    def close(self) -> None:
        """Close the socket; whoever waits on the queue sees a hang-up.  Descriptors carried by
        messages nobody took are closed."""
        self._hang_up()
        if self.sock.fileno() >= 0:
            self.sock.close()
        left = [self.queue.get_nowait() for _ in range(self.queue.qsize())]
        for message in left:
            if message is not None:
                _close_all(message.fds)
        if any(message is None for message in left):
            self.queue.put_nowait(None)


def _close_all(fds: list[int]) -> None:
    for fd in fds:
        with contextlib.suppress(OSError):
            os.close(fd)


def _ancillary(ancdata: list[tuple[int, int, bytes]]) -> tuple[int | None, list[int]]:
    pid: int | None = None
    fds: list[int] = []
    for level, kind, data in ancdata:
        if level != socket.SOL_SOCKET:
            continue
        if kind == socket.SCM_CREDENTIALS and len(data) >= _UCRED.size:
            pid = _UCRED.unpack(data[: _UCRED.size])[0]
        elif kind == socket.SCM_RIGHTS:
            fds.extend(array.array("i", data[: len(data) - len(data) % 4]))
    return pid, fds
