"""The pool: one warm zygote in one jail, serving runs for many episodes."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import os
import re
import shutil
import signal
import socket
import tempfile
import time
from collections.abc import Coroutine, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import attrs
import psutil

from . import _gpu
from ._cgroups import Cgroup, CgroupHost, CgroupVersion
from ._errors import ConfigError, GuaranteeUnavailable, HostError, PoolClosed, SandboxError
from ._jail import EPISODES, JAIL_UID, WORK, JailSpec, Mount, Runtime, find_nsjail, hidden_path
from ._limits import Limits
from ._output import CappedStream, Channel, Message
from ._result import RunResult, Status
from ._workdir import Snapshot

log = logging.getLogger("sandbox")

ZYGOTE_SOURCE = Path(__file__).with_name("_zygote.py")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_CODE_CHUNK = 1 << 16
_WATCHDOG_PERIOD = 0.02
_THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS")
_UNENFORCED_NO_CGROUP = "no usable cgroup: memory enforced only by an RSS watchdog; pids and CPU not limited"
_UNENFORCED_NO_JAIL = ("no jail: filesystem, network, environment and episode isolation are NOT enforced; "
                       "only rlimits, a process group and an RSS watchdog apply")


def base_env(cpus: float) -> dict[str, str]:
    """The environment a run starts from: nothing of the controller's."""
    threads = str(max(1, math.ceil(cpus)))
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp", "TMPDIR": "/tmp", "LANG": "C.UTF-8",
           "MPLBACKEND": "Agg", "PYTHONUNBUFFERED": "1"}
    env.update({var: threads for var in _THREAD_VARS})
    return env


@attrs.define(eq=False)
class _Spare:
    """A forked child waiting for a request, already in its own cgroup."""

    host_pid: int
    channel: Channel
    stdout_fd: int
    stderr_fd: int
    cgroup: Cgroup | None
    generation: int

    def discard(self, *, sweep: bool = True) -> Cgroup | None:
        """Close our ends and kill whatever is left of the run.

        ``sweep=False`` skips killing the rest of the cgroup here: right when the
        spare reported that its agent, pid 1 of its own pid namespace, was
        reaped, nothing of the agent is left (the kernel kills a namespace with
        its init), so the cgroup is swept when it is removed, off the hot path.
        """
        self.channel.close()
        for fd in (self.stdout_fd, self.stderr_fd):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self.stdout_fd = self.stderr_fd = -1
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.host_pid, signal.SIGKILL)
        if sweep and self.cgroup is not None and self.cgroup.procs():
            self.cgroup.kill()
        return self.cgroup


@attrs.define(eq=False)
class _Zygote:
    process: asyncio.subprocess.Process
    channel: Channel
    generation: int
    ready: dict[str, object]
    server: asyncio.Future[None] | None = None


class Pool:
    """A warm interpreter in an nsjail jail that runs untrusted Python for many episodes.

    Use it as ``async with Pool(...) as pool`` (or ``await pool.start()`` and
    ``await pool.aclose()``).  :meth:`run` runs code in a forked child of the
    zygote and returns a :class:`RunResult`; it raises only for mistakes of the
    caller (:class:`ConfigError`) or a closed pool (:class:`PoolClosed`), never
    because of what the code did.

    ``preload`` modules are imported once in the zygote.  ``spares`` children
    are forked ahead of time so that a run does not wait for ``fork()``; with 0,
    each run forks its child on demand.  ``warmup`` is code each spare runs
    before it takes a request (say, a tiny fit that touches the code paths
    runs will use): its cost is paid ahead of time, never in the zygote.  ``ro_mounts`` are
    host paths shown read-only inside (task data); ``hidden`` are absolute paths covered by
    an empty read-only directory inside (say, private files under a mounted prefix).  ``gpus`` are the host GPU
    indices this pool may hand to runs.  ``strict=True`` refuses to run where a
    guarantee (jail, namespaces, cgroups) cannot be had; otherwise the pool
    degrades, logs a warning and lists what is not enforced in
    :attr:`warnings` and in every result.
    """

    def __init__(
        self,
        *,
        preload: Sequence[str] = (),
        limits: Limits | None = None,
        runtime: Runtime | None = None,
        ro_mounts: Sequence[Mount] = (),
        hidden: Sequence[str | os.PathLike[str]] = (),
        gpus: Sequence[int] = (),
        gpu_inventory: _gpu.GpuInventory | None = None,
        spares: int = 1,
        strict: bool = False,
        jail: bool = True,
        cgroup_parent: str | None = None,
        env: Mapping[str, str] | None = None,
        seccomp_policy: str | None = None,
        warmup: str | None = None,
        name: str = "pool",
    ) -> None:
        if not _NAME.match(name):
            raise ConfigError(f"bad pool name {name!r}")
        self.limits = limits or Limits()
        self.preload = tuple(preload)
        self.runtime = runtime or Runtime()
        self.ro_mounts = tuple(ro_mounts)
        self.hidden = tuple(map(hidden_path, hidden))
        self.gpus = tuple(gpus)
        self.gpu_inventory = _gpu.CachedInventory(gpu_inventory or _gpu.NvidiaInventory())
        self.spares = max(0, spares)
        self.strict = strict
        self.env = dict(env or {})
        self.seccomp_policy = seccomp_policy
        self.warmup = warmup
        self.name = name
        self.warnings: tuple[str, ...] = ()
        self._want_jail = jail
        self._cgroup_parent = cgroup_parent
        self._dir: Path | None = None
        self._cgroups: Cgroup | None = None
        self._zygote: _Zygote | None = None
        self._generation = 0
        self._starting: asyncio.Lock | None = None
        self._spare_queue: asyncio.Queue[_Spare] | None = None
        self._pending_spares = 0
        self._waiting = 0
        self._closed = False
        self._jailed = False
        self._runs = 0
        self._active: set[_Spare] = set()
        self._background: set[asyncio.Future[None]] = set()  # adoptions and removals, awaited on close

    # ------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> Pool:
        await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()

    @property
    def directory(self) -> Path:
        """The pool's private host directory (work dirs live under ``episodes/``)."""
        if self._dir is None:
            raise PoolClosed("the pool is not started")
        return self._dir

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def jailed(self) -> bool:
        """True when runs are in an nsjail jail with private namespaces."""
        return self._jailed

    async def start(self) -> None:
        """Start the jail and the zygote; returns once the preload list is imported."""
        if self._closed:
            raise PoolClosed("the pool was closed")
        if self._dir is not None:
            return
        from ._cleanup import remove_stale

        remove_stale()
        self._starting = asyncio.Lock()
        self._spare_queue = asyncio.Queue()
        self._dir = _make_pool_dir(self.name)
        self.warnings = ()
        host = CgroupHost.detect(self._cgroup_parent)
        if host.version is CgroupVersion.NONE:
            if self.strict:
                raise GuaranteeUnavailable(f"strict mode: {host.reason}")
            self._warn(f"{_UNENFORCED_NO_CGROUP} ({host.reason})")
        else:
            self._cgroups = host.group(self._dir.name).create()
        try:
            await self._ensure_zygote()
        except BaseException:
            await self.aclose()
            raise

    async def aclose(self) -> None:
        """Kill every run and the zygote; remove the pool's cgroups and files."""
        self._closed = True
        for spare in list(self._active):
            self._retire(spare)
        if self._spare_queue is not None:
            while not self._spare_queue.empty():
                self._retire(self._spare_queue.get_nowait())
        await self._stop_zygote()
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
        if self._cgroups is not None:
            with contextlib.suppress(OSError):
                self._cgroups.remove()
            self._cgroups = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def workdir(self, name: str) -> Path:
        """The host path of episode ``name``'s work dir, made if needed.

        Put input files there before a run; a run sees only its own work dir.
        """
        if not _NAME.match(name):
            raise ConfigError(f"bad work dir name {name!r}: letters, digits, '.', '_', '-'")
        path = self.directory / "episodes" / name
        if not path.exists():
            path.mkdir(mode=0o700)
            if os.geteuid() == 0:
                os.chown(path, JAIL_UID, JAIL_UID)
        return path

    def remove_workdir(self, name: str) -> None:
        """Delete episode ``name``'s work dir and everything in it."""
        shutil.rmtree(self.workdir(name), ignore_errors=True)

    # ------------------------------------------------------------ the zygote

    async def _ensure_zygote(self) -> _Zygote:
        assert self._starting is not None
        async with self._starting:
            if self._closed:
                raise PoolClosed("the pool was closed")
            if self._zygote is not None and self._zygote.process.returncode is None:
                return self._zygote
            await self._stop_zygote()
            self._zygote = await self._start_zygote()
            for _ in range(self.spares):
                self._request_spare()
            return self._zygote

    async def _start_zygote(self) -> _Zygote:
        self._generation += 1
        if self._want_jail:
            try:
                return await self._launch(jailed=True)
            except (HostError, SandboxError) as exc:
                if self.strict:
                    raise GuaranteeUnavailable(f"strict mode: the jail does not start: {exc}") from exc
                log.warning("sandbox: the jail does not start (%s); falling back to an unjailed zygote", exc)
        if self.strict:
            raise GuaranteeUnavailable("strict mode: a jail was not asked for")
        self._warn(_UNENFORCED_NO_JAIL)
        return await self._launch(jailed=False)

    def _jail_env(self) -> dict[str, str]:
        return {**base_env(self.limits.cpus), **self.env, "PYTHONDONTWRITEBYTECODE": "1"}

    async def _launch(self, *, jailed: bool) -> _Zygote:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        log_path = self.directory / ("nsjail.log" if jailed else "zygote.log")
        try:
            argv = self._zygote_argv(jailed, theirs.fileno(), log_path)
            wrapper = ['for f in $SANDBOX_CGROUP_PROCS; do echo $$ > "$f"; done; exec "$@"', "sh"]
            procs = ""
            if self._cgroups is not None:
                zygote_cg = self._cgroups.child(f"zygote-{self._generation}").create()
                procs = " ".join(str(p / "cgroup.procs") for p in set(zygote_cg.paths.values()))
            with open(log_path, "ab") as log_file:  # noqa: ASYNC230 (a local file, opened once per zygote)
                process = await asyncio.create_subprocess_exec(
                    "/bin/sh", "-c", *wrapper, *argv, pass_fds=(theirs.fileno(),),
                    stdin=asyncio.subprocess.DEVNULL, stdout=log_file, stderr=log_file,
                    env={**self._jail_env(), "SANDBOX_CGROUP_PROCS": procs},
                    start_new_session=True)
        finally:
            theirs.close()
        channel = Channel(ours)
        zygote = _Zygote(process, channel, self._generation, {})
        try:
            async with asyncio.timeout(300):
                message = await channel.queue.get()
        except TimeoutError:
            message = None
        if message is None or message.op != "ready":
            await self._kill_zygote(zygote)
            raise SandboxError(f"the zygote did not start; its log says:\n{_tail(log_path)}")
        zygote.ready = message.body
        errors = message.body.get("preload_errors") or {}
        if errors:
            log.warning("sandbox: preload failed for %s", errors)
        self._jailed = jailed
        zygote.server = asyncio.ensure_future(self._serve_zygote(zygote))
        return zygote

    def _zygote_argv(self, jailed: bool, fd: int, log_path: Path) -> list[str]:
        cfg = {"fd": fd, "preload": list(self.preload), "namespaces": jailed, "work": WORK,
               "episodes": EPISODES if jailed else str(self.directory / "episodes"),
               "drop_to": self._fallback_user(jailed), "warmup": self.warmup}
        if not jailed:
            return [self.runtime.python, "-I", "-s", "-B", str(ZYGOTE_SOURCE), json.dumps(cfg)]
        nsjail = find_nsjail()
        spec = JailSpec(
            runtime=self.runtime, episodes_dir=self.directory / "episodes", ro_mounts=self.ro_mounts,
            hidden=self.hidden,
            devices=_gpu.jail_nodes(self.gpu_inventory, self.gpus), env=self._jail_env(),
            log_file=log_path, seccomp_policy=self.seccomp_policy)
        cfg["keep"] = spec.kept()
        config = self.directory / "nsjail.cfg"
        config.write_text(spec.render(zygote_args=[json.dumps(cfg)], pass_fd=fd, zygote_source=ZYGOTE_SOURCE))
        return [str(nsjail), "--quiet", "--config", str(config)]

    def _fallback_user(self, jailed: bool) -> int | None:
        """Without a jail, root's runs drop to the jail's unprivileged user,
        if that user can read the interpreter (pyenv's, under 0700 /root, it cannot)."""
        if jailed or os.geteuid() != 0:
            return None
        if all(_world_readable(d) for d in self.runtime.mount_dirs()):
            return JAIL_UID
        self._warn("no jail and the runtime is unreadable to an unprivileged user: runs execute as ROOT")
        return None

    def _warn(self, warning: str) -> None:
        """Log a guarantee that does not hold, and list it in every result from now on."""
        self.warnings = tuple(dict.fromkeys((*self.warnings, warning)))
        log.warning("sandbox: %s", warning)

    async def _serve_zygote(self, zygote: _Zygote) -> None:
        """Turn each spare's ``hello`` into a :class:`_Spare` in its own cgroup."""
        while True:
            message = await zygote.channel.queue.get()
            if message is None:
                break
            if message.op == "hello" and len(message.fds) == 3 and message.pid:
                self._pending_spares -= 1
                self._adopt(message, zygote.generation)
            else:
                for fd in message.fds:
                    os.close(fd)
        if self._zygote is zygote and not self._closed:
            log.warning("sandbox: the zygote exited; it restarts on the next run")
            self._zygote = None
            self._pending_spares = 0
            await self._kill_zygote(zygote)

    def _adopt(self, message: Message, generation: int) -> None:
        """Put a new spare in its own cgroup, then let it fork its agent there."""
        assert message.pid is not None
        channel_fd, out_fd, err_fd = message.fds
        spare = _Spare(message.pid, Channel(socket.socket(fileno=channel_fd)), out_fd, err_fd, None, generation)
        self._runs += 1
        self._in_background(self._place(spare, f"run-{self._runs}"))

    async def _place(self, spare: _Spare, name: str) -> None:
        assert self._spare_queue is not None
        try:
            if self._cgroups is not None:
                # Moving a process between cgroups can wait for an RCU grace
                # period (about 10 ms when idle): never on the event loop.
                spare.cgroup = await asyncio.to_thread(self._new_run_cgroup, name, spare.host_pid)
            spare.channel.sock.send(b"go")
        except OSError as exc:
            if not self._closed:
                log.warning("sandbox: could not prepare a spare: %s", exc)
            self._retire(spare)
            self._request_spare()
            return
        self._spare_queue.put_nowait(spare)

    def _new_run_cgroup(self, name: str, pid: int) -> Cgroup:
        assert self._cgroups is not None
        cgroup = self._cgroups.child(name).create()
        try:
            cgroup.set_limits(memory=self.limits.memory, pids=self.limits.pids, cpus=self.limits.cpus)
            cgroup.add(pid)
        except OSError:
            _remove_quietly(cgroup)
            raise
        return cgroup

    def _retire(self, spare: _Spare, *, reaped: bool = False) -> None:
        """Kill what is left of a spare now; remove its cgroup in a thread."""
        cgroup = spare.discard(sweep=not (reaped and self._jailed))
        if cgroup is None:
            return
        self._in_background(asyncio.to_thread(_remove_quietly, cgroup))

    def _in_background(self, work: Coroutine[Any, Any, None]) -> None:
        """Start ``work`` without waiting for it; ``aclose`` waits for it."""
        future = asyncio.ensure_future(work)
        self._background.add(future)
        future.add_done_callback(self._background.discard)

    def _request_spare(self) -> None:
        if self._zygote is None:
            return
        try:
            self._zygote.channel.send_json({"op": "spawn"})
            self._pending_spares += 1
        except OSError:
            pass

    async def _take_spare(self) -> _Spare:
        assert self._spare_queue is not None
        while True:
            zygote = await self._ensure_zygote()
            if self._spare_queue.empty():
                # One spare on its way for every run that waits for one.
                self._waiting += 1
                if self._pending_spares < self._waiting:
                    self._request_spare()
                try:
                    spare = await self._wait_for_spare(zygote)
                finally:
                    self._waiting -= 1
                if spare is None:
                    continue
            else:
                spare = self._spare_queue.get_nowait()
            if spare.generation == zygote.generation and zygote.process.returncode is None:
                if self.spares:
                    self._request_spare()
                return spare
            self._retire(spare)

    async def _wait_for_spare(self, zygote: _Zygote) -> _Spare | None:
        """The next spare, or None if the zygote died while we waited."""
        assert self._spare_queue is not None
        get = asyncio.ensure_future(self._spare_queue.get())
        died = asyncio.ensure_future(zygote.process.wait())
        done, _ = await asyncio.wait({get, died}, return_when=asyncio.FIRST_COMPLETED)
        died.cancel()
        if get in done:
            return get.result()
        get.cancel()
        return None

    async def _stop_zygote(self) -> None:
        zygote, self._zygote = self._zygote, None
        if zygote is not None:
            with contextlib.suppress(OSError):
                zygote.channel.send_json({"op": "exit"})
            await self._kill_zygote(zygote)

    async def _kill_zygote(self, zygote: _Zygote) -> None:
        zygote.channel.close()
        # The jail runs in its own session (start_new_session): its process
        # group holds the wrapper, nsjail and nothing of the host.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(zygote.process.pid, signal.SIGKILL)
        await zygote.process.wait()
        if self._cgroups is not None:
            with contextlib.suppress(OSError):
                self._cgroups.child(f"zygote-{zygote.generation}").remove()

    # ------------------------------------------------------------ runs

    async def run(
        self,
        code: str | bytes,
        *,
        workdir: str,
        limits: Limits | None = None,
        env: Mapping[str, str] | None = None,
        argv: Sequence[str] = (),
        filename: str = "main.py",
        gpu: _gpu.GpuRequest | None = None,
    ) -> RunResult:
        """Run ``code`` as ``__main__`` in episode ``workdir``'s work dir.

        Returns when the code and everything it started are gone.  The result's
        status says how it ended; see :class:`Status`.  ``limits`` override the
        pool's for this run.  Cancelling the call kills the run.
        """
        if self._closed:
            raise PoolClosed("the pool was closed")
        limits = limits or self.limits
        gpu_plan = _gpu.plan(self.gpu_inventory, gpu, self.gpus)
        host_workdir = self.workdir(workdir)
        source = code.encode() if isinstance(code, str) else code
        request = {
            "workdir": workdir, "filename": filename, "argv": list(argv), "code_len": len(source),
            "rlimits": limits.rlimits(), "hide": list(gpu_plan.hidden), "tmp_size": limits.memory,
            "gpu_memory_fraction": gpu_plan.memory_fraction,
            "env": {**base_env(limits.cpus), **self.env, **(env or {}), **gpu_plan.env},
        }
        for attempt in range(3):
            spare = await self._take_spare()
            self._active.add(spare)
            run = _Run(self, spare, limits, host_workdir)
            try:
                if spare.cgroup is not None and limits != self.limits:
                    spare.cgroup.set_limits(memory=limits.memory, pids=limits.pids, cpus=limits.cpus)
                return await run.execute(request, source)
            except _SpareLost:
                # The spare died before it got the code (its zygote was killed):
                # nothing ran yet, so another spare may take the request.
                log.warning("sandbox: a spare was lost before the run started (attempt %d)", attempt + 1)
            finally:
                self._active.discard(spare)
                self._retire(spare, reaped=run.status is not None and run.killed_for is None)
        return RunResult(status=Status.SANDBOX_ERROR, message="no spare could take the run",
                         warnings=self.warnings)


class _SpareLost(Exception):
    """The spare hung up before it received the request."""


class _Run:
    """One run from request to result: timer, watchdog, output caps, verdict."""

    def __init__(self, pool: Pool, spare: _Spare, limits: Limits, workdir: Path) -> None:
        self.pool = pool
        self.spare = spare
        self.limits = limits
        self.workdir = workdir
        self.killed_for: Status | None = None
        self.message = ""
        self.agent_pid: int | None = None
        self.traceback: str | None = None
        self.status: dict[str, object] | None = None
        self.early_exit = False
        self.running = False  # agent code has started: no sandbox_error believed after this

    def kill(self, reason: Status, message: str) -> None:
        if self.killed_for is None:
            self.killed_for, self.message = reason, message
        if self.spare.cgroup is not None:
            self.spare.cgroup.kill()
        else:
            self._kill_without_cgroup()

    async def execute(self, request: dict[str, object], source: bytes) -> RunResult:
        before = Snapshot.take(self.workdir)
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
                raise _SpareLost from exc
            if self.spare.cgroup is None:
                watchdog = asyncio.ensure_future(self._watch_memory())
            try:
                async with asyncio.timeout(self.limits.timeout):
                    await self._wait_status()
            except TimeoutError:
                self.kill(Status.TIMEOUT, f"wall-clock limit of {self.limits.timeout:g} s exceeded")
            if self.status is None and self.agent_pid is None and self.killed_for is None:
                # It hung up before the agent started (its zygote was killed): nothing ran.
                raise _SpareLost
            wall = time.monotonic() - started
            if self.early_exit:
                for stream in streams:
                    stream.drain_now()
            else:
                await _drain(streams)
        except BaseException as exc:
            if not isinstance(exc, _SpareLost):
                self.kill(Status.KILLED, "cancelled")
            for stream in streams:
                stream.close()
            raise
        finally:
            if watchdog is not None:
                watchdog.cancel()
        return self._verdict(wall, streams, before)

    async def _send(self, request: dict[str, object], source: bytes) -> None:
        channel = self.spare.channel
        await channel.send(json.dumps(request).encode())
        for start in range(0, len(source), _CODE_CHUNK):
            await channel.send(source[start:start + _CODE_CHUNK])

    async def _wait_status(self) -> None:
        while True:
            message = await self.spare.channel.queue.get()
            if message is None:
                return
            for fd in message.fds:
                os.close(fd)
            if message.pid == self.spare.host_pid and message.op == "status":
                self.status = message.body
                return
            if message.op == "exit" and message.pid == self.agent_pid and isinstance(message.body.get("code"), int):
                self._exited_early(message.body["code"])
                return
            if message.op == "started" and self.agent_pid is None:
                self.agent_pid = message.pid
            elif message.op == "traceback" and isinstance(message.body.get("text"), str):
                self.traceback = message.body["text"][-32768:]
            elif message.op == "running" and message.pid == self.agent_pid:
                self.running = True
            elif message.op == "sandbox_error" and not self.running:
                self.killed_for = Status.SANDBOX_ERROR
                self.message = f"the sandbox failed to set up the run:\n{message.body.get('text', '')}"[-4096:]

    def _exited_early(self, code: int) -> None:
        """The agent says it is exiting: believe it, and SIGKILL all of the run now.

        If agent code forged the message, killing it makes the claim true: the
        code ends here, with the exit code it chose, as with ``os._exit``.
        """
        self.status = {"status": (code & 0xFF) << 8}
        self.early_exit = True
        if self.spare.cgroup is not None:
            self.spare.cgroup.signal_all()
        else:
            self._kill_without_cgroup()

    def _kill_without_cgroup(self) -> None:
        # The spare and the agent each lead a session: their process groups
        # hold whatever the agent started, unless that left the session itself.
        for group in (self.spare.host_pid, self.agent_pid):
            if group is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(group, signal.SIGKILL)
        for pid in (self.agent_pid, self.spare.host_pid):
            if pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)

    def _flooded(self) -> None:
        self.kill(Status.OUTPUT_LIMIT, f"output exceeded {self.limits.output_kill_bytes} bytes")

    async def _watch_memory(self) -> None:
        """Without a memory cgroup: kill the run when its processes' RSS passes the limit."""
        while True:
            await asyncio.sleep(_WATCHDOG_PERIOD)
            if _tree_rss(self.spare.host_pid) > self.limits.memory:
                self.kill(Status.MEMORY, f"memory limit of {self.limits.memory} bytes exceeded (RSS watchdog)")
                return

    def _verdict(self, wall: float, streams: list[CappedStream], before: Snapshot) -> RunResult:
        cgroup = self.spare.cgroup
        status, exit_code, signum, message = self._classify()
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
            files=Snapshot.take(self.workdir).changes_since(before), warnings=self.pool.warnings,
        )

    def _classify(self) -> tuple[Status, int | None, int | None, str]:
        raw = self.status.get("status") if self.status else None
        exit_code = signum = None
        if isinstance(raw, int):
            if os.WIFEXITED(raw):
                exit_code = os.WEXITSTATUS(raw)
            elif os.WIFSIGNALED(raw):
                signum = os.WTERMSIG(raw)
        if self.killed_for is not None:
            return self.killed_for, exit_code, signum, self.message
        if self.spare.cgroup is not None and self.spare.cgroup.oom_kills() > 0:
            return Status.MEMORY, exit_code, signum, f"memory limit of {self.limits.memory} bytes exceeded"
        if raw is None and self.pool.closed:
            return Status.KILLED, None, None, "the pool was closed during the run"
        if raw is None:
            return Status.SANDBOX_ERROR, None, None, "the sandbox lost the run (the zygote or its spare died)"
        if signum is not None:
            status = Status.KILLED if signum == signal.SIGKILL else Status.ERROR
            return status, None, signum, f"killed by signal {signal.Signals(signum).name}"
        if exit_code == 0:
            return Status.OK, 0, None, ""
        if self.traceback and self.traceback.rstrip().splitlines()[-1].startswith("MemoryError"):
            return Status.MEMORY, exit_code, None, "the code ran out of memory (MemoryError)"
        return Status.ERROR, exit_code, None, f"exit code {exit_code}"


async def _drain(streams: list[CappedStream], grace: float = 2.0) -> None:
    """Wait for both pipes to close: the agent's whole pid namespace is gone by then."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(grace):
            await asyncio.gather(*(s.closed for s in streams))
    for stream in streams:
        stream.close()


def _remove_quietly(cgroup: Cgroup) -> None:
    try:
        cgroup.remove()
    except OSError as exc:
        log.warning("sandbox: could not remove cgroup %s: %s", cgroup.paths, exc)


def _tree_rss(pid: int) -> int:
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


def _make_pool_dir(name: str) -> Path:
    root = Path(tempfile.gettempdir()) / f"sandbox-{os.geteuid()}"
    root.mkdir(mode=0o711, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-{name}-", dir=root))
    path.chmod(0o711)
    (path / "episodes").mkdir(mode=0o711)
    return path


def _world_readable(path: str) -> bool:
    """True when every directory on the way to ``path`` lets others in."""
    current = Path(path)
    for part in [current, *current.parents]:
        try:
            if not part.stat().st_mode & 0o005:
                return False
        except OSError:
            return False
    return True


def _tail(path: Path, size: int = 4000) -> str:
    try:
        return path.read_bytes()[-size:].decode(errors="replace")
    except OSError:
        return "(no log)"
