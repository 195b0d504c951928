"""The pool: one warm zygote in one jail, serving runs for many episodes."""

from __future__ import annotations

import asyncio
import atexit
import collections
import contextlib
import functools
import json
import logging
import math
import multiprocessing.util
import os
import re
import secrets
import select
import signal
import socket
import tempfile
import threading
import time
from collections.abc import Coroutine, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import attrs
import psutil

from . import _gpu, _isolation
from ._cgroups import Cgroup, CgroupHost
from ._cleanup import RUNTIME_STAGE, pool_root, remove_tree
from ._demand import SpareDemand
from ._errors import ConfigError, GuaranteeUnavailable, PoolClosed, SandboxError
from ._isolation import Isolation
from ._jail import (
    EPISODES,
    JAIL_UID,
    WORK,
    JailSpec,
    Mount,
    Placement,
    Runtime,
    find_nsjail,
    hidden_path,
    stage_mount,
    stage_runtime,
)
from ._limits import Limits
from ._output import Channel, Message
from ._quota import DiskQuota, LoopDisk, detached_tree, quota_problem
from ._result import RunResult, RunStatus
from ._run import POOL_CLOSED, Run, RunContext, Spare, SpareLost
from ._seccomp import SeccompPolicy
from ._zygote import Command, Report

log = logging.getLogger("sandbox")

ZYGOTE_SOURCE = Path(__file__).with_name("_zygote.py")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS")
_DEFAULT: Any = object()  # "the pool's own setting", for per-work-dir options
_DEFAULT_QUOTA = DiskQuota()


def _kill_children(pid: int) -> None:
    """SIGKILL ``pid``'s children.  Blocks: psutil finds them by reading every process's
    ``stat`` (418 ms on the event loop once, in the soak, with a few hundred processes)."""
    with contextlib.suppress(psutil.Error):
        for child in psutil.Process(pid).children():
            child.kill()


def base_env(cpus: float) -> dict[str, str]:
    """The environment a run starts from: nothing of the controller's."""
    threads = str(max(1, math.ceil(cpus)))
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp", "TMPDIR": "/tmp", "LANG": "C.UTF-8",
           "MPLBACKEND": "Agg", "PYTHONUNBUFFERED": "1"}
    env.update({var: threads for var in _THREAD_VARS})
    return env


@attrs.define(eq=False)
class _Zygote:
    process: asyncio.subprocess.Process
    channel: Channel
    generation: int
    ready: dict[str, object]
    server: asyncio.Future[None] | None = None
    pid: int | None = None  # the zygote's own host pid (from its ``ready``), inside nsjail's tree
    _pidfd: int | None = None
    _exited: select.poll | None = None  # the pidfd's: readable once the zygote exited

    def follow(self, pid: int | None) -> None:
        """Watch the zygote's own process, ``pid``, through a pidfd: :meth:`alive` then costs one
        ``poll`` (it runs twice a run, on the event loop), and a reused pid cannot fool it."""
        self.pid = pid
        if pid is None:
            return
        with contextlib.suppress(OSError):  # before Linux 5.3, or gone already: /proc tells
            self._pidfd = os.pidfd_open(pid)
            self._exited = select.poll()
            self._exited.register(self._pidfd, select.POLLIN)

    def alive(self) -> bool:
        """False once nsjail exited or the zygote inside it is gone or a zombie.  The zygote dies
        before nsjail notices (and before its channel closes, which nsjail holds too): its spares
        are already lost then, so a run must not take them."""
        if self.process.returncode is not None:
            return False
        if self._exited is not None:
            return not self._exited.poll(0)
        if self.pid is None:
            return True
        try:
            return bool(psutil.Process(self.pid).status() != psutil.STATUS_ZOMBIE)
        except psutil.Error:
            return False

    def forget(self) -> None:
        """Close the pidfd (once the zygote is being killed)."""
        fd, self._pidfd, self._exited = self._pidfd, None, None
        if fd is not None:
            os.close(fd)


class Pool:
    """A warm interpreter in an nsjail jail that runs untrusted Python for many episodes.

    Use it as ``async with Pool(...) as pool`` (or ``await pool.start()`` and
    ``await pool.aclose()``).  :meth:`run` runs code in a forked child of the
    zygote and returns a :class:`RunResult`; it raises only for mistakes of the
    caller (:class:`ConfigError`) or a closed pool (:class:`PoolClosed`), never
    because of what the code did.

    ``preload`` modules are imported once in the zygote.  ``spares`` children
    are forked ahead of time so that a run does not wait for ``fork()``; with 0,
    each run forks its child on demand.  When runs come faster than one spare
    covers, the pool keeps more ready, up to ``max_spares`` (default: the number of
    CPUs, at most 4, and never below ``spares``; 0 spares means 0): as many as
    arrive, over the last 2 s, in the time a spare takes to make.  Spares above
    ``spares`` are not replaced once taken, so a quiet pool falls back to ``spares``.
    ``cpu_weight`` is the CPU weight of all agent code, as a fraction of a process's
    (the sandbox's parent cgroup, shared by every pool under it: the last pool started
    sets it).  The default, a quarter, makes agent code yield to the controller when CPUs are
    short, and to every other process of the host too; 1 shares evenly with them.
    ``warmup`` is code each spare runs before it takes a request (say, a tiny fit that touches the code paths
    runs will use): its cost is paid ahead of time, never in the zygote.  ``ro_mounts`` are
    host paths shown read-only inside (task data); ``hidden`` are absolute paths covered by
    an empty read-only directory inside (say, private files under a mounted prefix).  ``gpus`` are the host GPU
    indices this pool may hand to runs.

    Isolation fails closed.  With ``isolation="jail"`` (the default) every run
    is in the jail, under cgroup limits, with ``seccomp`` (the default policy:
    :meth:`SeccompPolicy.default`), no capabilities, and user, mount, pid,
    network and IPC namespaces of its own; each work dir has ``disk_quota``
    (overridable per work dir).  Where the host cannot give one of these,
    :meth:`start` raises :class:`GuaranteeUnavailable` naming the fix.  Weaker
    settings are explicit choices: ``isolation="none"`` (plain unprivileged
    processes), ``disk_quota=None``, ``seccomp=None``; :attr:`warnings` and every
    result then list what is not enforced.
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
        max_spares: int | None = None,
        cpu_weight: float = 0.25,
        isolation: Isolation | str = Isolation.JAIL,
        disk_quota: DiskQuota | None = _DEFAULT_QUOTA,
        seccomp: SeccompPolicy | None = _DEFAULT,
        cgroup_parent: str | None = None,
        env: Mapping[str, str] | None = None,
        warmup: str | None = None,
        name: str = "pool",
    ) -> None:
        if not _NAME.match(name):
            raise ConfigError(f"bad pool name {name!r}")
        try:
            self.isolation = Isolation(isolation)
        except ValueError:
            raise ConfigError(f"isolation must be 'jail' or 'none', got {isolation!r}") from None
        self.limits = limits or Limits()
        self.preload = tuple(preload)
        self.runtime = runtime or Runtime()
        self.ro_mounts = tuple(ro_mounts)
        self.hidden = tuple(map(hidden_path, hidden))
        self.gpus = tuple(gpus)
        self.gpu_inventory = _gpu.CachedInventory(gpu_inventory or _gpu.NvidiaInventory())
        self.spares = max(0, spares)
        if not 0 < cpu_weight <= 100:
            raise ConfigError(f"cpu_weight must be above 0 and at most 100, got {cpu_weight!r}")
        self.cpu_weight = cpu_weight
        default_max = min(4, os.cpu_count() or 1) if self.spares else 0
        self.max_spares = max(self.spares, default_max if max_spares is None else max_spares)
        self._demand = SpareDemand(self.spares, self.max_spares)
        self.disk_quota = disk_quota
        self.seccomp = SeccompPolicy.default() if seccomp is _DEFAULT else seccomp
        self._seccomp_program = self.seccomp.compile() if self.seccomp is not None else None
        self.env = dict(env or {})
        self.warmup = warmup
        self.name = name
        self.warnings: tuple[str, ...] = ()
        self._cgroup_parent = cgroup_parent
        self._dir: Path | None = None
        self._cgroups: Cgroup | None = None
        # run cgroups emptied and reset, for the next spares (a deque: threads take and give)
        self._free_cgroups: collections.deque[Cgroup] = collections.deque()
        self._disks: dict[str, LoopDisk] = {}
        self._making: dict[str, asyncio.Future[None]] = {}
        self._zygote: _Zygote | None = None
        self._generation = 0
        self._starting: asyncio.Lock | None = None
        self._spare_queue: asyncio.Queue[Spare] | None = None
        self._pending_spares = 0
        self._waiting = 0
        self._closed = False
        self._active: set[Spare] = set()
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
        return self.isolation is Isolation.JAIL

    def agent_path(self, inside: str) -> str:
        """Where run code finds ``inside`` (a path under one of ``ro_mounts``): the same
        path in a jail; without one (``isolation="none"``), the mount's host path."""
        if self.jailed:
            return inside
        for mount in self.ro_mounts:
            if inside == mount.inside or inside.startswith(mount.inside + "/"):
                return str(mount.host) + inside[len(mount.inside):]
        return inside

    async def start(self) -> None:
        """Start the jail and the zygote; returns once the preload list is imported.

        Raises :class:`GuaranteeUnavailable` (or :class:`NsjailNotFound`) when
        this host cannot give what the pool promises, naming the fix.
        """
        if self._closed:
            raise PoolClosed("the pool was closed")
        if self._dir is not None:
            return
        from ._cleanup import remove_stale

        self._starting = asyncio.Lock()
        self._spare_queue = asyncio.Queue()
        self._dir = _make_pool_dir(self.name)
        try:
            # Sweeps, probes and mkdirs touch the disk and run subprocesses: never on the event loop.
            await asyncio.to_thread(remove_stale)
            self.warnings = await asyncio.to_thread(self._check_host)
            await self._ensure_zygote()
        except BaseException:
            await self.aclose()
            raise

    def _check_host(self) -> tuple[str, ...]:
        """Refuse what cannot hold here; return the warnings of explicit opt-outs."""
        warnings = []
        host = CgroupHost.detect(self._cgroup_parent)
        problem = _isolation.cgroup_problem(host)
        if problem is None:
            assert self._dir is not None
            try:
                host.group().set_cpu_weight(self.cpu_weight)  # agent code, all pools together
            except OSError as exc:  # a delegated parent may not allow it: a priority, not a guarantee
                log.warning("sandbox: could not set the agent code's CPU weight (%s)", exc)
            self._cgroups = host.group(self._dir.name).create()
        elif self.jailed:
            raise GuaranteeUnavailable(_isolation.refusal(f"no usable cgroup ({problem})", _isolation.cgroup_fix(host)))
        else:
            warnings.append(f"{_isolation.NO_CGROUP} ({problem})")
        if self.disk_quota is not None and (problem := quota_problem()):
            raise GuaranteeUnavailable(f"{problem}. Fix: run the controller as root, or pass disk_quota=None "
                                       "(--no-disk-quota) to run without disk quotas")
        if not self.jailed:
            warnings.insert(0, _isolation.UNJAILED)
            self._check_unjailed_user()
        elif not _init_program():
            warnings.append(_isolation.NO_INIT)
        if self.disk_quota is None:
            warnings.append(_isolation.NO_DISK_QUOTA)
        if self.seccomp is None:
            warnings.append(_isolation.NO_SECCOMP)
        for warning in warnings:
            log.warning("sandbox: %s", warning)
        return tuple(warnings)

    def _check_unjailed_user(self) -> None:
        """Without a jail, root's runs drop to the jail's unprivileged user, which must
        be able to read the interpreter and the mounted data: else refuse, never run as root."""
        if os.geteuid() != 0:
            return
        unreadable = [d for d in self.runtime.mount_dirs() + [str(m.host) for m in self.ro_mounts]
                      if not _world_readable(d)]
        if unreadable:
            raise GuaranteeUnavailable(
                f"isolation='none' runs code as uid {JAIL_UID}, never as root, and uid {JAIL_UID} cannot read "
                f"{unreadable[0]} (a directory on the way is not world-readable). Fix: use a runtime and data "
                "outside root's home (or make the path traversable), or run in a jail")

    async def aclose(self) -> None:
        """Kill every run and the zygote; remove the pool's cgroups, disks and files."""
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
            await asyncio.to_thread(_remove_quietly, self._cgroups)
            self._cgroups = None
        disks, self._disks = list(self._disks.values()), {}
        directory, self._dir = self._dir, None
        await asyncio.to_thread(_remove_all, disks, directory)

    def workdir(self, name: str) -> Path:
        """The host path of episode ``name``'s work dir, made (with the pool's
        ``disk_quota``) if needed.

        Put input files there before a run; a run sees only its own work dir.
        Making one with a quota blocks for about 15 ms: in async code prefer
        :meth:`prepare_workdir`.
        """
        path = self._workdir_path(name)
        if not path.exists():
            self._make_workdir(name, path, self.disk_quota)
        return path

    async def prepare_workdir(self, name: str, *, disk_quota: DiskQuota | None = _DEFAULT) -> Path:
        """Make episode ``name``'s work dir (off the event loop) with its own ``disk_quota``
        (default: the pool's; None: no quota, listed in the pool's warnings only if the
        pool's own quota is None too).  An existing work dir is kept as it is."""
        path = self._workdir_path(name)
        quota = self.disk_quota if disk_quota is _DEFAULT else disk_quota
        if quota is not None and self.disk_quota is None and (problem := quota_problem()):
            raise GuaranteeUnavailable(f"{problem}: this work dir's disk quota cannot be enforced")
        making = self._making.get(name)
        if making is None and not path.exists():
            making = self._making[name] = asyncio.ensure_future(
                asyncio.to_thread(self._make_workdir, name, path, quota))
            making.add_done_callback(lambda _: self._making.pop(name, None))
        if making is not None:
            await asyncio.shield(making)  # one making per name, however many runs wait for it
        return path

    def _workdir_path(self, name: str) -> Path:
        if not _NAME.match(name):
            raise ConfigError(f"bad work dir name {name!r}: letters, digits, '.', '_', '-'")
        return self.directory / "episodes" / name

    def _make_workdir(self, name: str, path: Path, quota: DiskQuota | None) -> None:
        owner = JAIL_UID if os.geteuid() == 0 else None
        if quota is None:
            path.mkdir(mode=0o700, exist_ok=True)
            if owner is not None:
                os.chown(path, owner, owner)
            return
        self._disks[name] = LoopDisk.create(self.directory / "disks" / f"{name}.img", path, quota, owner=owner)

    async def clear_workdir(self, name: str) -> None:
        """Empty episode ``name``'s work dir, whatever tree its runs left (off the event loop)."""
        path = self._workdir_path(name)
        disk = self._disks.get(name)
        if disk is not None:
            await asyncio.to_thread(disk.wipe)
        elif path.exists():
            await asyncio.to_thread(remove_tree, path, keep_root=True)

    async def remove_workdir(self, name: str) -> None:
        """Delete episode ``name``'s work dir and everything in it (off the event loop)."""
        path = self._workdir_path(name)
        disk = self._disks.pop(name, None)
        if disk is not None:
            await asyncio.to_thread(disk.remove)
        else:
            await asyncio.to_thread(remove_tree, path)

    # ------------------------------------------------------------ the zygote

    async def _ensure_zygote(self) -> _Zygote:
        assert self._starting is not None
        async with self._starting:
            if self._closed:
                raise PoolClosed("the pool was closed")
            if self._zygote is not None and self._zygote.alive():
                return self._zygote
            await self._stop_zygote()
            self._zygote = await self._start_zygote()
            for _ in range(self.spares):
                self._request_spare()
            return self._zygote

    async def _start_zygote(self) -> _Zygote:
        self._generation += 1
        if self._generation == 1:
            return await self._launch()
        try:  # a restart: the jail worked before, so a failure now is transient (say, a kill mid-launch)
            return await self._launch()
        except SandboxError as exc:
            log.warning("sandbox: the zygote did not restart (%s); trying once more", str(exc).splitlines()[0])
            self._generation += 1
            return await self._launch()

    def _jail_env(self) -> dict[str, str]:
        return {**base_env(self.limits.cpus), **self.env, **self._runtime_env(), "PYTHONDONTWRITEBYTECODE": "1"}

    def _runtime_env(self) -> dict[str, str]:
        """LD_LIBRARY_PATH where the jail's interpreter needs it, for the zygote and for the
        interpreters runs start (``subprocess``, joblib's workers): see ``Placement.library_path``."""
        path = staged_runtime(self.runtime).library_path if self.jailed else None
        return {"LD_LIBRARY_PATH": path} if path else {}

    async def _launch(self) -> _Zygote:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        log_path = self.directory / ("nsjail.log" if self.jailed else "zygote.log")
        try:
            argv = await asyncio.to_thread(self._zygote_argv, theirs.fileno(), log_path)
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
        if message is None or message.op != Report.READY:
            await self._kill_zygote(zygote)
            told = _tail(log_path)
            if self.jailed:
                raise GuaranteeUnavailable(_isolation.refusal(
                    f"the jail does not start; nsjail's log says:\n{told}\n", _isolation.diagnose_jail(told)))
            raise SandboxError(f"the zygote did not start; its log says:\n{told}")
        zygote.ready = message.body
        zygote.follow(message.pid)
        log.debug("sandbox: zygote ready; %s MiB of its heap in huge pages after %.2f s",
                  message.body.get("huge_pages_mb"), message.body.get("collapse_s") or 0.0)
        errors = message.body.get("preload_errors") or {}
        if errors:
            log.warning("sandbox: preload failed for %s", errors)
        zygote.server = asyncio.ensure_future(self._serve_zygote(zygote))
        return zygote

    def _zygote_argv(self, fd: int, log_path: Path) -> list[str]:
        assert self._dir is not None
        jailed = self.jailed
        cfg: dict[str, Any] = {
            "fd": fd, "preload": list(self.preload), "namespaces": jailed, "work": WORK,
            "episodes": EPISODES if jailed else str(self._dir / "episodes"),
            "drop_to": JAIL_UID if not jailed and os.geteuid() == 0 else None, "warmup": self.warmup,
            "seccomp": self._seccomp_program.hex() if self._seccomp_program else None,
            "tmpfs": self.limits.tmpfs_options(), "init": _init_program()}
        if not jailed:
            return [self.runtime.python, "-I", "-s", "-B", str(ZYGOTE_SOURCE), json.dumps(cfg)]
        nsjail = find_nsjail()
        spec = JailSpec(
            runtime=self.runtime, placement=staged_runtime(self.runtime),
            episodes_dir=None if _detached_workdirs() else self._dir / "episodes",
            ro_mounts=tuple(stage_mount(m, self._dir / "stage" / str(i)) for i, m in enumerate(self.ro_mounts)),
            hidden=self.hidden,
            devices=_gpu.jail_nodes(self.gpu_inventory, self.gpus), env=self._jail_env(), log_file=log_path)
        config = self._dir / "nsjail.cfg"
        config.write_text(spec.render(zygote_args=[json.dumps(cfg)], pass_fd=fd,
                                      zygote_source=ZYGOTE_SOURCE.read_bytes()))
        return [str(nsjail), "--quiet", "--config", str(config)]

    async def _serve_zygote(self, zygote: _Zygote) -> None:
        """Turn each spare's ``hello`` into a :class:`Spare` in its own cgroup."""
        while True:
            message = await zygote.channel.queue.get()
            if message is None:
                break
            if message.op == Report.HELLO and len(message.fds) == 3 and message.pid:
                self._adopt(message, zygote.generation)
            else:
                for fd in message.fds:
                    os.close(fd)
        if self._zygote is zygote and not self._closed:
            log.warning("sandbox: the zygote exited; it restarts on the next run")
            self._zygote = None
            self._pending_spares = 0
            self._demand.lost()
            await self._kill_zygote(zygote)

    def _adopt(self, message: Message, generation: int) -> None:
        """Put a new spare (an agent waiting for its run) in its own cgroup, then let it go on there."""
        assert message.pid is not None
        channel_fd, out_fd, err_fd = message.fds
        spare = Spare(message.pid, Channel(socket.socket(fileno=channel_fd)), out_fd, err_fd, None, generation,
                      self._demand.answered())
        # a random name: a run's /proc/self/cgroup must not count the other episodes' runs
        self._in_background(self._place(spare, f"run-{secrets.token_hex(6)}"))

    async def _place(self, spare: Spare, name: str) -> None:
        assert self._spare_queue is not None
        try:
            if self._cgroups is not None:
                # Moving a process between cgroups can wait for an RCU grace
                # period (about 10 ms when idle): never on the event loop.
                spare.cgroup = await asyncio.to_thread(self._new_run_cgroup, name, spare.host_pid)
            spare.channel.send_json({"op": Command.GO})
        except OSError as exc:
            if not self._closed:
                log.warning("sandbox: could not prepare a spare: %s", exc)
            self._retire(spare)
            self._request_spare()
            return
        except BaseException:
            self._retire(spare)
            raise
        finally:
            # placed or not, it is no longer on its way (else a run could wait for it forever)
            self._pending_spares = max(0, self._pending_spares - 1)
        self._spare_queue.put_nowait(spare)

    def _new_run_cgroup(self, name: str, pid: int) -> Cgroup:
        """A run cgroup for ``pid``: a recycled one if there is one (no mkdir, no rmdir)."""
        assert self._cgroups is not None
        try:
            cgroup = self._free_cgroups.popleft()
        except IndexError:
            cgroup = self._cgroups.child(name).create()
        try:
            cgroup.set_limits(memory=self.limits.memory, pids=self.limits.pids, cpus=self.limits.cpus)
            cgroup.add(pid)
        except OSError:
            _remove_quietly(cgroup)
            raise
        return cgroup

    def _retire(self, spare: Spare, *, reaped: bool = False) -> None:
        """Kill what is left of a spare now; recycle or remove its cgroup in a thread."""
        cgroup = spare.discard(sweep=not (reaped and self.jailed))
        if cgroup is None:
            return
        self._in_background(asyncio.to_thread(self._recycle, cgroup))

    def _recycle(self, cgroup: Cgroup) -> None:
        """Keep an emptied run cgroup for the next spare, up to one per spare the pool may keep
        and one more; remove it otherwise, or when it cannot be reset (see :meth:`Cgroup.recycle`)."""
        if not self._closed and len(self._free_cgroups) <= self.max_spares and cgroup.recycle():
            self._free_cgroups.append(cgroup)
        else:
            _remove_quietly(cgroup)

    def _in_background(self, work: Coroutine[Any, Any, None]) -> None:
        """Start ``work`` without waiting for it; ``aclose`` waits for it."""
        future = asyncio.ensure_future(work)
        self._background.add(future)
        future.add_done_callback(self._background.discard)

    def _request_spare(self) -> bool:
        """Ask the zygote for one more spare; False if it cannot be asked."""
        if self._zygote is None:
            return False
        try:
            self._zygote.channel.send_json({"op": Command.SPAWN})
        except OSError:
            return False
        self._pending_spares += 1
        self._demand.requested(time.monotonic())
        return True

    def _top_up(self) -> None:
        """Ask for spares until those ready and on their way reach the demand's target.  Above
        it, none are killed: a spare taken is just not replaced."""
        assert self._spare_queue is not None
        target = self._demand.target(time.monotonic())
        while self._spare_queue.qsize() + self._pending_spares < target and self._request_spare():
            pass

    @property
    def spare_target(self) -> int:
        """How many spares the pool now wants ready or on their way (``spares`` when quiet)."""
        return self._demand.target(time.monotonic())

    async def _take_spare(self) -> Spare:
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
            if spare.generation == zygote.generation and zygote.alive():
                self._top_up()
                return spare
            self._retire(spare)

    async def _wait_for_spare(self, zygote: _Zygote) -> Spare | None:
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

    async def _settle(self, generation: int) -> None:
        """After a spare of zygote ``generation`` was lost: give that zygote a moment to be seen
        dead (it takes its spares with it, then dies itself), so that the next attempt restarts
        it rather than taking another of its lost spares.  A spare lost while its zygote lives
        on costs that moment once."""
        zygote = self._zygote
        if zygote is None or zygote.generation != generation:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(1.0):
                while zygote.alive():  # noqa: ASYNC110 (a zombie is not an event: it is polled)
                    await asyncio.sleep(0.01)

    async def _stop_zygote(self) -> None:
        zygote, self._zygote = self._zygote, None
        self._pending_spares = 0  # what it was asked for, it will never send
        self._demand.lost()
        if zygote is not None:
            with contextlib.suppress(OSError):
                zygote.channel.send_json({"op": Command.STOP})
            await self._kill_zygote(zygote)

    async def _kill_zygote(self, zygote: _Zygote) -> None:
        zygote.channel.close()
        zygote.forget()
        cgroup = self._cgroups.child(f"zygote-{zygote.generation}") if self._cgroups is not None else None
        # The jail's pid 1 first (nsjail's child; the zygote dies with it): nsjail reaps it and exits
        # by itself.  Killed together, nsjail may die first and leave the jail's pid 1 to the host's
        # init, a zombie till that reaps.
        await asyncio.to_thread(_kill_children, zygote.process.pid)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2.0):
                await zygote.process.wait()
        # The jail runs in its own session (start_new_session): its process
        # group holds the wrapper, nsjail and nothing of the host.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(zygote.process.pid, signal.SIGKILL)
        await zygote.process.wait()
        if cgroup is not None:
            await asyncio.to_thread(_remove_quietly, cgroup)

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
        status says how it ended; see :class:`RunStatus`.  ``limits`` override the
        pool's for this run.  Cancelling the call kills the run.
        """
        if self._closed:
            raise PoolClosed("the pool was closed")
        limits = limits or self.limits
        gpu_plan = _gpu.plan(self.gpu_inventory, gpu, self.gpus)
        host_workdir = await self.prepare_workdir(workdir)
        source = code.encode() if isinstance(code, str) else code
        request = {
            "op": Command.REQUEST,
            "workdir": workdir, "filename": filename, "argv": list(argv), "code_len": len(source),
            "rlimits": limits.rlimits(), "hide": list(gpu_plan.hidden), "tmpfs": limits.tmpfs_options(),
            "gpu_memory_fraction": gpu_plan.memory_fraction,
            "env": {**base_env(limits.cpus), **self.env, **self._runtime_env(), **(env or {}), **gpu_plan.env},
        }
        self._demand.arrived(time.monotonic())  # once per run, whatever its attempts
        for attempt in range(3):
            try:
                spare = await self._take_spare()
            except (PoolClosed, ConfigError):
                raise
            except SandboxError as exc:  # the zygote could not be restarted: this run cannot run
                return RunResult(status=RunStatus.SANDBOX_ERROR, message=f"the sandbox could not start a run: {exc}",
                                 warnings=self.warnings)
            self._active.add(spare)
            tree_fd = detached_tree(host_workdir) if self.jailed and _detached_workdirs() else None
            context = RunContext(self.warnings, lambda: self._closed, self._disks.get(workdir), tree_fd)
            run = Run(spare, limits, host_workdir, context)
            try:
                if spare.cgroup is not None and limits != self.limits:
                    spare.cgroup.set_limits(memory=limits.memory, pids=limits.pids, cpus=limits.cpus)
                return await run.execute(request, source)
            except SpareLost:
                # The spare died before it got the code (its zygote was killed):
                # nothing ran yet, so another spare may take the request.
                if self._closed:
                    return RunResult(status=RunStatus.KILLED, message=POOL_CLOSED, warnings=self.warnings)
                log.warning("sandbox: a spare was lost before the run started (attempt %d)", attempt + 1)
                await self._settle(spare.generation)
            finally:
                if tree_fd is not None:
                    os.close(tree_fd)
                if run.agent_ready_at is not None and spare.requested_at is not None:
                    # the spare's lead time: from its request until its agent said it waits
                    self._demand.lead(run.agent_ready_at - spare.requested_at)
                self._active.discard(spare)
                self._retire(spare, reaped=run.status is not None and run.killed_for is None)
        return RunResult(status=RunStatus.SANDBOX_ERROR, message="no spare could take the run",
                         warnings=self.warnings)


def _remove_quietly(cgroup: Cgroup) -> None:
    try:
        cgroup.remove()
    except OSError as exc:
        log.warning("sandbox: could not remove cgroup %s: %s", cgroup.paths, exc)


def _owned_dir(name: str) -> Path:
    """A private folder under the pool root, named at random: its path shows inside the jail (staged
    data and runtimes are bound from it), so it names neither the controller's pid nor the pool.
    ``owner`` holds the controller's pid and ``name``, for the sweep of a dead controller's leftovers."""
    path = Path(tempfile.mkdtemp(prefix="", dir=pool_root(create=True)))
    path.chmod(0o711)
    # written aside, then renamed: another controller's sweep never reads it half written
    (path / "owner.new").write_text(f"{os.getpid()}\n{name}\n")
    (path / "owner.new").rename(path / "owner")
    return path


def _make_pool_dir(name: str) -> Path:
    path = _owned_dir(name)
    (path / "episodes").mkdir(mode=0o711)
    (path / "disks").mkdir(mode=0o700)
    return path


_staged: dict[Runtime, Placement] = {}
_staging = threading.Lock()


def staged_runtime(runtime: Runtime) -> Placement:
    """``runtime``'s placement, bound from hard links staged once per process (thousands of files:
    a second or two) in a folder whose owner is :data:`RUNTIME_STAGE`; it is removed at exit, or by
    the sweep once this process is gone."""
    with _staging:
        if runtime not in _staged:
            folder = _owned_dir(RUNTIME_STAGE)
            # atexit for this process; multiprocessing's finalizers for a forked worker, which
            # ends with os._exit; either way only the process that staged it removes it
            atexit.register(_remove_own, folder, os.getpid())
            multiprocessing.util.Finalize(None, _remove_own, args=(folder, os.getpid()), exitpriority=0)
            _staged[runtime] = stage_runtime(runtime.placement, folder / "runtime")
        return _staged[runtime]


def _remove_own(folder: Path, owner: int) -> None:
    """Remove ``folder`` if this process is ``owner`` (a forked child inherits the hooks)."""
    if os.getpid() == owner:
        remove_tree(folder)


def _detached_workdirs() -> bool:
    """True when work dirs reach runs as detached mounts (``open_tree`` needs root), so
    that the jail never mounts the host's directory of work dirs."""
    return os.geteuid() == 0


@functools.cache
def _init_program() -> str | None:
    """A program that only waits, to be pid 1 of each run (see the zygote's ``_start_init``)."""
    for path in ("/usr/bin/sleep", "/bin/sleep"):
        if os.access(path, os.X_OK):
            return path
    return None


def _remove_all(disks: list[LoopDisk], directory: Path | None) -> None:
    for disk in disks:
        disk.remove()
    if directory is not None:
        remove_tree(directory)


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
