"""cgroup v1 and v2: detection, one cgroup per run, limits, counters, cleanup.

The sandbox manages its cgroups itself instead of through nsjail: it needs a
cgroup per *run* (many runs share one jail), exact OOM counters to tell an OOM
kill from a timeout, and a reliable way to kill everything a run left behind.
"""

from __future__ import annotations

import contextlib
import enum
import errno
import os
import secrets
import signal
import time
from pathlib import Path

import attrs

V1_CONTROLLERS = ("memory", "pids", "cpu", "cpuacct")
V2_CONTROLLERS = ("memory", "pids", "cpu")
CPU_PERIOD_US = 100_000
# A recycled run cgroup starts with at most this much page cache of earlier runs: the most a
# reported peak memory can count that is not the run's own.
RECYCLE_LEFTOVER_BYTES = 16 << 20
KILL_POLL_S = (0.001, 0.05)  # the first and the longest wait between two looks at an emptying cgroup


class CgroupVersion(enum.Enum):
    V1 = "v1"
    V2 = "v2"
    NONE = "none"


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None


def _write(path: Path, value: str) -> None:
    path.write_text(value)


def _mountinfo(text: str | None = None) -> list[tuple[Path, str, set[str]]]:
    """(mount point, fs type, super options) of every cgroup mount."""
    mounts = []
    if text is None:
        text = _read(Path("/proc/self/mountinfo")) or ""
    for line in text.splitlines():
        left, _, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if len(tail) >= 3 and tail[0] in ("cgroup", "cgroup2"):
            mounts.append((Path(fields[4]), tail[0], set(tail[2].split(","))))
    return mounts


@attrs.frozen
class CgroupHost:
    """Which cgroup version this host gives us, where, and with which controllers.

    ``base`` maps each controller to the directory under which this user's
    cgroups are made (for v2, every controller maps to the same directory).
    """

    version: CgroupVersion
    base: dict[str, Path] = attrs.field(factory=dict)
    reason: str = ""

    @property
    def controllers(self) -> frozenset[str]:
        return frozenset(self.base)

    @classmethod
    def detect(cls, parent: str | None = None, *, mountinfo: str | None = None) -> CgroupHost:
        """Find a writable place for our cgroups.

        ``parent`` (or ``$SANDBOX_CGROUP_PARENT``) names the parent cgroup
        relative to each hierarchy's root; the default is ``sandbox`` for root
        and ``sandbox-<uid>`` (a delegated, chowned cgroup) for other users.
        ``mountinfo`` replaces ``/proc/self/mountinfo`` (for tests).
        """
        parent = parent or os.environ.get("SANDBOX_CGROUP_PARENT")
        if not parent:
            parent = "sandbox" if os.geteuid() == 0 else f"sandbox-{os.geteuid()}"
        mounts = _mountinfo(mountinfo)
        v1 = {c: mp for mp, fs, opts in mounts if fs == "cgroup" for c in opts & set(V1_CONTROLLERS)}
        if "memory" in v1:
            return cls._writable(CgroupVersion.V1, {c: v1[c] / parent for c in v1})
        for mp, fs, _ in mounts:
            enabled = set((_read(mp / "cgroup.controllers") or "").split())
            if fs == "cgroup2" and "memory" in enabled:
                path = mp / parent
                return cls._writable(CgroupVersion.V2, {c: path for c in V2_CONTROLLERS if c in enabled})
        return cls(CgroupVersion.NONE, reason="no cgroup hierarchy with a memory controller")

    @classmethod
    def _writable(cls, version: CgroupVersion, base: dict[str, Path]) -> CgroupHost:
        for path in set(base.values()):
            try:
                if os.geteuid() == 0:
                    path.mkdir(exist_ok=True)
                if version is CgroupVersion.V2:
                    _enable_v2_controllers(path)
                if not os.access(path, os.W_OK):
                    raise PermissionError(errno.EACCES, "not writable", str(path))
            except OSError as exc:
                return cls(CgroupVersion.NONE, reason=f"cgroup {version.value} parent {path} unusable: {exc}")
        return cls(version, base)

    def group(self, *names: str) -> Cgroup:
        return Cgroup(self.version, {c: p.joinpath(*names) for c, p in self.base.items()})


def _enable_v2_controllers(path: Path) -> None:
    enabled = (_read(path / "cgroup.controllers") or "").split()
    wanted = " ".join(f"+{c}" for c in V2_CONTROLLERS if c in enabled)
    if wanted:
        _write(path / "cgroup.subtree_control", wanted)


@attrs.define(eq=False)
class Cgroup:
    """One cgroup node across every controller we use."""

    version: CgroupVersion
    paths: dict[str, Path]
    _oom_base: int = attrs.field(default=0, init=False)  # OOM kills before its current run (recycled)

    def create(self) -> Cgroup:
        for path in set(self.paths.values()):
            path.mkdir(exist_ok=True)
        if self.version is CgroupVersion.V2:
            _enable_v2_controllers(next(iter(self.paths.values())))
        return self

    def child(self, name: str) -> Cgroup:
        return Cgroup(self.version, {c: p / name for c, p in self.paths.items()})

    def _file(self, controller: str, name: str) -> Path | None:
        path = self.paths.get(controller)
        return None if path is None else path / name

    def _set(self, controller: str, name: str, value: str) -> None:
        path = self._file(controller, name)
        if path is not None and path.exists():
            _write(path, value)

    def set_limits(self, *, memory: int, pids: int, cpus: float) -> None:
        if self.version is CgroupVersion.V1:
            self._set_memory_v1(memory)
            self._set("cpu", "cpu.cfs_period_us", str(CPU_PERIOD_US))
            self._set("cpu", "cpu.cfs_quota_us", str(max(1000, int(cpus * CPU_PERIOD_US))))
        else:
            self._set("memory", "memory.max", str(memory))
            self._set("memory", "memory.swap.max", "0")
            self._set("cpu", "cpu.max", f"{max(1000, int(cpus * CPU_PERIOD_US))} {CPU_PERIOD_US}")
        self._set("pids", "pids.max", str(pids))

    def set_cpu_weight(self, fraction: float) -> None:
        """Set this cgroup's CPU weight to ``fraction`` of the default (v1 ``cpu.shares`` of 1024,
        v2 ``cpu.weight`` of 100).  Below 1, what runs inside yields to its siblings when CPUs
        are short (the controller and every other process, for the sandbox's parent cgroup)
        instead of sharing evenly.  Weights only matter under contention: idle CPUs are still
        used in full, and the quota still caps."""
        if self.version is CgroupVersion.V1:
            self._set("cpu", "cpu.shares", str(min(262144, max(2, round(1024 * fraction)))))
        else:
            self._set("cpu", "cpu.weight", str(min(10000, max(1, round(100 * fraction)))))

    def _set_memory_v1(self, memory: int) -> None:
        # memsw (RAM + swap) must never be below the RAM limit: the order of the
        # two writes depends on whether the limit goes up or down.
        writes = [("memory.limit_in_bytes", memory), ("memory.memsw.limit_in_bytes", memory)]
        try:
            for name, value in writes:
                self._set("memory", name, str(value))
        except OSError as exc:
            if exc.errno != errno.EINVAL:
                raise
            for name, value in reversed(writes):
                self._set("memory", name, str(value))

    def add(self, pid: int) -> None:
        for path in set(self.paths.values()):
            _write(path / "cgroup.procs", str(pid))

    def procs(self) -> list[int]:
        """Processes in the cgroup (every hierarchy holds the same ones: ``add`` writes them all)."""
        path = next(iter(self.paths.values()))
        return [int(p) for p in (_read(path / "cgroup.procs") or "").split()]

    def signal_all(self) -> None:
        """SIGKILL every process in the cgroup now, without waiting for them to go (never
        blocks: for the event loop; :meth:`kill` waits, in a thread)."""
        self._kill_at_once()
        for pid in self.procs():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def _kill_at_once(self) -> None:
        """Write v2's ``cgroup.kill``, where there is one (Linux 5.14 and later; v1 has none: not
        looking saves a ``stat`` on the event loop per run).  The callers then SIGKILL each
        process they find, so a write that fails loses nothing."""
        kill_file = self._file("memory", "cgroup.kill")
        if self.version is CgroupVersion.V2 and kill_file is not None:
            with contextlib.suppress(OSError):
                _write(kill_file, "1")

    def kill(self, timeout: float = 2.0) -> bool:
        """SIGKILL every process in the cgroup; True once it is empty."""
        self._kill_at_once()
        deadline = time.monotonic() + timeout
        wait, longest = KILL_POLL_S
        while True:
            pids = self.procs()
            if not pids:
                return True
            if time.monotonic() > deadline:
                return False
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            # A run with torch loaded takes tens of ms to leave after its exit: looking every
            # 2 ms cost the controller ~25 reads of cgroup.procs per run, in a thread beside the loop.
            time.sleep(min(wait, max(0.0, deadline - time.monotonic())))
            wait = min(2 * wait, longest)

    def _counters(self, controller: str, name: str) -> dict[str, str]:
        path = self._file(controller, name)
        text = (_read(path) if path else None) or ""
        return dict(line.split() for line in text.splitlines() if len(line.split()) == 2)

    def oom_kills(self) -> int:
        """How many processes the kernel's OOM killer killed in this cgroup (since it was recycled)."""
        return self._oom_total() - self._oom_base

    def _oom_total(self) -> int:
        name = "memory.oom_control" if self.version is CgroupVersion.V1 else "memory.events"
        return int(self._counters("memory", name).get("oom_kill", 0))

    def recycle(self) -> bool:
        """Make this emptied cgroup fit for another run, as if it were new: True when done.

        Kills what is left and resets the counters a run reads: the peak memory and the CPU
        time, and the OOM count (its zero moves to the count now).  The page cache the last run
        left stays charged here (evicting it would make the next runs read those files, shared
        libraries included, from disk again), so a cgroup that holds more than
        ``RECYCLE_LEFTOVER_BYTES`` is not recycled: removed, its cache goes to the parent and
        stays cached.  It gets a new random name, so that a run (which sees its cgroup's name)
        can neither tell a reused cgroup nor count the runs of other episodes.  Only v1 can
        reset a peak for every reader (v2's ``memory.peak`` resets per open file, on Linux 6.12
        and later): on v2, and whenever a step fails, it returns False and the cgroup must be
        removed instead.  Blocks (the kill waits): call it in a thread.
        """
        if self.version is not CgroupVersion.V1 or not self.kill():
            return False
        if (self.memory_usage() or 0) > RECYCLE_LEFTOVER_BYTES:
            return False
        try:
            self._rename(f"run-{secrets.token_hex(6)}")
            self._set("memory", "memory.max_usage_in_bytes", "0")
            self._set("cpuacct", "cpuacct.usage", "0")
            self._oom_base = self._oom_total()
        except OSError:
            return False
        return True

    def _rename(self, name: str) -> None:
        """Rename the cgroup in every hierarchy (v1 renames within the same parent).  The paths
        follow each rename as it is done: if one fails, removal still finds every directory."""
        for path in set(self.paths.values()):
            path.rename(path.with_name(name))
            self.paths = {c: path.with_name(name) if p == path else p for c, p in self.paths.items()}

    def memory_usage(self) -> int | None:
        """The memory charged to the cgroup now (page cache included)."""
        return self._number("memory.usage_in_bytes" if self.version is CgroupVersion.V1 else "memory.current")

    def peak_memory(self) -> int | None:
        return self._number("memory.max_usage_in_bytes" if self.version is CgroupVersion.V1 else "memory.peak")

    def _number(self, name: str) -> int | None:
        """The number a memory controller file holds, or None (no such file, or not a number)."""
        path = self._file("memory", name)
        text = _read(path) if path else None
        return int(text) if text and text.strip().isdigit() else None

    def cpu_seconds(self) -> float | None:
        if self.version is CgroupVersion.V1:
            path = self._file("cpuacct", "cpuacct.usage")
            text = _read(path) if path else None
            return int(text) / 1e9 if text and text.strip().isdigit() else None
        stats = self._counters("cpu", "cpu.stat")
        return int(stats["usage_usec"]) / 1e6 if "usage_usec" in stats else None

    def remove(self) -> None:
        """Kill what is left and remove the cgroup and everything below it."""
        for path in set(self.paths.values()):
            _remove_tree(self.version, path)


def _remove_tree(version: CgroupVersion, path: Path) -> None:
    try:
        subdirs = [Path(e.path) for e in os.scandir(path) if e.is_dir(follow_symlinks=False)]
    except FileNotFoundError:
        return
    for sub in subdirs:
        _remove_tree(version, sub)
    Cgroup(version, {"memory": path}).kill()
    _rmdir(path)


def _rmdir(path: Path) -> None:
    for _ in range(50):
        try:
            path.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError as exc:
            if exc.errno != errno.EBUSY:
                raise
            time.sleep(0.01)
