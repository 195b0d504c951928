"""One run, from request to verdict: the spare that takes it, its timer, watchdog and output caps."""

from __future__ import annotations

import array
import asyncio
import contextlib
import json
import os
import re
import signal
import socket
import time
from collections.abc import Callable
from pathlib import Path

import attrs
import psutil

from ._cgroups import Cgroup
from ._limits import Limits
from ._output import CappedStream, Channel
from ._quota import LoopDisk
from ._result import RunResult, RunStatus
from ._workdir import Snapshot
from ._zygote import Report

_CODE_CHUNK = 1 << 16
_WATCHDOG_PERIOD = 0.02
_NO_SPACE = re.compile(r"No space left on device|Disk quota exceeded|File too large|\[Errno (28|122|27)\]")


@attrs.define(eq=False)
class Spare:
    """An agent forked ahead of its run, waiting for a request, already in its own cgroup
    (``host_pid`` is the agent's)."""

    host_pid: int
    channel: Channel
    stdout_fd: int
    stderr_fd: int
    cgroup: Cgroup | None
    generation: int
    requested_at: float | None = None  # when the pool asked for it (``time.monotonic()``)

    def discard(self, *, sweep: bool = True) -> Cgroup | None:
        """Close our ends and kill whatever is left of the run.

        ``sweep=False`` skips killing the rest of the cgroup here: right when the
        relay reported that the agent was reaped, nothing of the run is left
        (the zygote killed the init of its pid namespace first, and the kernel
        kills a namespace with its init), so the cgroup is swept when it is
        removed, off the hot path.
        """
        self.channel.close()
        for fd in (self.stdout_fd, self.stderr_fd):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self.stdout_fd = self.stderr_fd = -1
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.host_pid, signal.SIGKILL)
        if sweep and self.cgroup is not None:
            self.cgroup.signal_all()  # the wait for them to go is the cgroup removal's, in a thread
        return self.cgroup



@attrs.frozen
class RunContext:
    """What a run needs from its pool: the guarantees that do not hold (listed in
    every result), whether the pool is closing, the work dir's disk, and the
    work dir's detached mount for the jail (root only)."""

    warnings: tuple[str, ...]
    pool_closed: Callable[[], bool]
    disk: LoopDisk | None = None
    tree_fd: int | None = None


POOL_CLOSED = "the pool was closed during the run"


class SpareLost(Exception):
    """The spare hung up before it received the request."""


class Run:
    """One run from request to result: timer, watchdog, output caps, verdict."""

    def __init__(self, spare: Spare, limits: Limits, workdir: Path, context: RunContext) -> None:
        self.spare = spare
        self.limits = limits
        self.workdir = workdir
        self.context = context
        self.killed_for: RunStatus | None = None
        self.message = ""
        self.agent_pid: int | None = None
        self.started = False  # the agent took the request
        self._stderr_tail = ""
        self.traceback: str | None = None
        self.status: dict[str, object] | None = None
        self.early_exit = False
        self.running = False  # agent code has started: no sandbox_error believed after this
        self.agent_ready_at: float | None = None  # when the agent said it waits for the request

    def kill(self, reason: RunStatus, message: str) -> None:
        if self.killed_for is None:
            self.killed_for, self.message = reason, message
        if self.spare.cgroup is not None:
            self.spare.cgroup.signal_all()  # never waits on the event loop; the run's end is awaited
        else:
            self._kill_without_cgroup()

    async def execute(self, request: dict[str, object], source: bytes) -> RunResult:
        before = await asyncio.to_thread(Snapshot.take, self.workdir)
        started = time.monotonic()
        streams = [
            CappedStream(fd, keep=self.limits.output_bytes, kill_after=self.limits.output_kill_bytes,
                         on_flood=self._flooded)
            for fd in (self.spare.stdout_fd, self.spare.stderr_fd)
        ]
        self.spare.stdout_fd = self.spare.stderr_fd = -1
        watchdog = None
        try:
            try:
                await self._send(request, source)
            except OSError as exc:
                raise SpareLost from exc
            if self.spare.cgroup is None:
                watchdog = asyncio.ensure_future(self._watch_memory())
            try:
                async with asyncio.timeout(self.limits.timeout):
                    await self._wait_status()
            except TimeoutError:
                self.kill(RunStatus.TIMEOUT, f"wall-clock limit of {self.limits.timeout:g} s exceeded")
            if (self.status is None and not self.started and self.killed_for is None
                    and not self.context.pool_closed()):
                # It hung up before the agent started (its zygote was killed): nothing ran.  When
                # the pool is closing, the hang-up is the close's: the run ends as killed, even
                # if the close came before the spare's word that the agent started was read.
                raise SpareLost
            wall = time.monotonic() - started
            if self.early_exit:
                for stream in streams:
                    stream.drain_now()
            else:
                await drain(streams)
        except BaseException as exc:
            if not isinstance(exc, SpareLost):
                self.kill(RunStatus.KILLED, "cancelled")
            for stream in streams:
                stream.close()
            raise
        finally:
            if watchdog is not None:
                watchdog.cancel()
        after = await asyncio.to_thread(Snapshot.take, self.workdir)
        return self._verdict(wall, streams, before, after)

    async def _send(self, request: dict[str, object], source: bytes) -> None:
        channel = self.spare.channel
        header = json.dumps(request).encode()
        if self.context.tree_fd is None:
            await channel.send(header)
        else:  # a fresh spare's socket buffer has room for this small message
            channel.sock.sendmsg([header], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                             array.array("i", [self.context.tree_fd]))])
        for start in range(0, len(source), _CODE_CHUNK):
            await channel.send(source[start:start + _CODE_CHUNK])

    async def _wait_status(self) -> None:
        """Read the spare's channel until the run is over.  Only the zygote's relay holds that
        socket (the agent talks to the relay, which passes on a few capped, rebuilt reports):
        every message here is the sandbox's own."""
        while True:
            message = await self.spare.channel.queue.get()
            if message is None:
                return
            for fd in message.fds:
                os.close(fd)
            body = message.body
            if message.op == Report.STATUS:
                self.status = body
                return
            if message.op == Report.EXIT and isinstance(body.get("code"), int):
                self._exited_early(body["code"], body.get("scratch_full") is True)
                return
            if message.op == Report.STARTED:
                self.started = True
                pid = body.get("agent_pid")  # only without a jail: then it is a host pid
                self.agent_pid = pid if isinstance(pid, int) and not isinstance(pid, bool) and pid > 1 else None
            elif message.op == Report.TRACEBACK and isinstance(body.get("text"), str):
                self.traceback = body["text"][-32768:]
            elif message.op == Report.RUNNING:
                self.running = True
            elif message.op == Report.WAITING and not self.started:  # after, agent code may have sent it
                self.agent_ready_at = message.at
            elif message.op == Report.SANDBOX_ERROR and not self.running:
                self.killed_for = RunStatus.SANDBOX_ERROR
                self.message = f"the sandbox failed to set up the run:\n{message.body.get('text', '')}"[-4096:]

    def _exited_early(self, code: int, scratch_full: bool) -> None:
        """The agent says it is exiting: believe it, and SIGKILL all of the run now.

        If agent code forged the message, killing it makes the claim true: the
        code ends here, with the exit code it chose, as with ``os._exit`` (and a
        forged ``scratch_full`` changes only the label of its own failure).
        """
        self.status = {"status": (code & 0xFF) << 8, "scratch_full": scratch_full}
        self.early_exit = True
        if self.spare.cgroup is not None:
            self.spare.cgroup.signal_all()
        else:
            self._kill_without_cgroup()

    def _kill_without_cgroup(self) -> None:
        # The agent leads a session (the spare is the agent; ``agent_pid``, from its
        # report, is the same pid): its process group holds whatever it started,
        # unless that left the session itself.
        for group in (self.spare.host_pid, self.agent_pid):
            if group is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(group, signal.SIGKILL)
        for pid in (self.agent_pid, self.spare.host_pid):
            if pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)

    def _flooded(self) -> None:
        self.kill(RunStatus.OUTPUT_LIMIT, f"output exceeded {self.limits.output_kill_bytes} bytes")

    async def _watch_memory(self) -> None:
        """Without a memory cgroup: kill the run when its processes' RSS passes the limit."""
        while True:
            await asyncio.sleep(_WATCHDOG_PERIOD)
            if tree_rss(self.spare.host_pid) > self.limits.memory:
                self.kill(RunStatus.MEMORY, f"memory limit of {self.limits.memory} bytes exceeded (RSS watchdog)")
                return

    def _verdict(self, wall: float, streams: list[CappedStream], before: Snapshot, after: Snapshot) -> RunResult:
        cgroup = self.spare.cgroup
        self._stderr_tail = streams[1].output().text[-4096:]
        status, exit_code, signum, message = self._classify()
        files, complete = after.changes_since(before)
        cpu = cgroup.cpu_seconds() if cgroup else None
        peak = cgroup.peak_memory() if cgroup else None
        reported = self.status or {}
        if cpu is None and isinstance(reported.get("cpu_s"), float):
            cpu = float(reported["cpu_s"])  # type: ignore[arg-type]
        if peak is None and isinstance(reported.get("maxrss_kb"), int):
            peak = int(reported["maxrss_kb"]) * 1024  # type: ignore[call-overload]
        return RunResult(
            status=status, exit_code=exit_code, signal=signum,
            stdout=streams[0].output(), stderr=streams[1].output(), traceback=self.traceback,
            message=message, wall_s=wall, cpu_s=cpu, peak_memory_bytes=peak,
            files=files, files_complete=complete, warnings=self.context.warnings,
        )

    def _classify(self) -> tuple[RunStatus, int | None, int | None, str]:
        raw = self.status.get("status") if self.status else None
        exit_code = signum = None
        if isinstance(raw, int):
            if os.WIFEXITED(raw):
                exit_code = os.WEXITSTATUS(raw)
            elif os.WIFSIGNALED(raw):
                signum = os.WTERMSIG(raw)
        if self.killed_for is not None:
            return self.killed_for, exit_code, signum, self.message
        if self.status and self.status.get("flooded") is True:
            return (RunStatus.OUTPUT_LIMIT, exit_code, signum,
                    "the run flooded the sandbox's control channel (too many or too large messages)")
        if self.spare.cgroup is not None and self.spare.cgroup.oom_kills() > 0:
            return RunStatus.MEMORY, exit_code, signum, f"memory limit of {self.limits.memory} bytes exceeded"
        if raw is None and self.context.pool_closed():
            return RunStatus.KILLED, None, None, POOL_CLOSED
        if raw is None:
            return RunStatus.SANDBOX_ERROR, None, None, "the sandbox lost the run (the zygote or its relay died)"
        if signum is None and exit_code != 0 and (full := self._disk_full()):
            return RunStatus.DISK_LIMIT, exit_code, None, full
        if signum is not None:
            status = RunStatus.KILLED if signum == signal.SIGKILL else RunStatus.ERROR
            return status, None, signum, f"killed by signal {signal.Signals(signum).name}"
        if exit_code == 0:
            return RunStatus.OK, 0, None, ""
        if self.traceback and self.traceback.rstrip().splitlines()[-1].startswith("MemoryError"):
            return RunStatus.MEMORY, exit_code, None, "the code ran out of memory (MemoryError)"
        return RunStatus.ERROR, exit_code, None, f"exit code {exit_code}"

    def _disk_full(self) -> str:
        """Why the run failed for want of disk, or "": its work dir or its /tmp is full now, and
        what it wrote last says so (ENOSPC, EDQUOT, EFBIG).  A full disk alone is no reason: an
        episode may keep its quota nearly full and fail for other reasons."""
        if not _NO_SPACE.search(f"{self.traceback or ''}\n{self._stderr_tail}"):
            return ""
        disk = self.context.disk
        if disk is not None and disk.full():
            return (f"the work dir's disk quota is full ({disk.quota.bytes} bytes, {disk.quota.files} files): "
                    "remove files or write less")
        if self.status and self.status.get("scratch_full") is True:
            return (f"/tmp or /dev/shm is full ({self.limits.tmp_bytes} bytes, {self.limits.tmp_files} files "
                    "each): write less there, or into the work dir")
        return ""


async def drain(streams: list[CappedStream], grace: float = 2.0) -> None:
    """Wait for both pipes to close: the agent's whole pid namespace is gone by then."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(grace):
            await asyncio.gather(*(s.closed for s in streams))
    for stream in streams:
        stream.close()



def tree_rss(pid: int) -> int:
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            total += proc.memory_info().rss
    return total


