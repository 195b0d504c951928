"""cgroups: detection of v1 and v2, limits written, counters read, removal."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from pathlib import Path

import pytest
from jailtools import BARE_LIMITS

from sandbox import ConfigError, Pool
from sandbox._cgroups import RECYCLE_LEFTOVER_BYTES, Cgroup, CgroupHost, CgroupVersion

V2_CONTROLLERS = "cpuset cpu io memory hugetlb pids rdma misc"


def _mountinfo_v2(root: Path) -> str:
    return f"35 24 0:30 / {root} rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate\n"


def _fake_v2_tree(root: Path) -> None:
    root.mkdir(exist_ok=True)
    (root / "cgroup.controllers").write_text(V2_CONTROLLERS + "\n")
    (root / "cgroup.subtree_control").write_text("")


def test_v2_is_detected_with_its_controllers(tmp_path: Path) -> None:
    _fake_v2_tree(tmp_path)
    (tmp_path / "sandbox").mkdir()
    (tmp_path / "sandbox" / "cgroup.controllers").write_text(V2_CONTROLLERS)
    (tmp_path / "sandbox" / "cgroup.subtree_control").write_text("")
    host = CgroupHost.detect("sandbox", mountinfo=_mountinfo_v2(tmp_path))
    assert host.version is CgroupVersion.V2, host.reason
    assert host.controllers == {"memory", "pids", "cpu"}
    assert set(host.base.values()) == {tmp_path / "sandbox"}
    # the parent must hand its controllers down to our cgroups
    assert (tmp_path / "sandbox" / "cgroup.subtree_control").read_text() == "+memory +pids +cpu"


def test_v2_limits_are_written_in_v2_files(tmp_path: Path) -> None:
    _fake_v2_tree(tmp_path)
    group = CgroupHost(CgroupVersion.V2, {c: tmp_path for c in ("memory", "pids", "cpu")}).group("run-1")
    group.create()
    path = tmp_path / "run-1"
    for name in ("memory.max", "memory.swap.max", "cpu.max", "pids.max"):
        (path / name).write_text("max\n")
    group.set_limits(memory=512 << 20, pids=64, cpus=1.5)
    assert (path / "memory.max").read_text() == str(512 << 20)
    assert (path / "memory.swap.max").read_text() == "0"
    assert (path / "cpu.max").read_text() == "150000 100000"
    assert (path / "pids.max").read_text() == "64"
    (path / "memory.events").write_text("low 0\nhigh 0\nmax 7\noom 2\noom_kill 1\n")
    (path / "memory.peak").write_text("123456\n")
    (path / "cpu.stat").write_text("usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\n")
    assert group.oom_kills() == 1
    assert group.peak_memory() == 123456
    assert group.cpu_seconds() == pytest.approx(2.5)


def test_no_memory_controller_means_no_cgroups(tmp_path: Path) -> None:
    _fake_v2_tree(tmp_path)
    (tmp_path / "cgroup.controllers").write_text("cpu pids\n")
    host = CgroupHost.detect("sandbox", mountinfo=_mountinfo_v2(tmp_path))
    assert host.version is CgroupVersion.NONE
    assert "memory" in host.reason


def _v1_host() -> CgroupHost:
    host = CgroupHost.detect()
    if host.version is not CgroupVersion.V1 or os.geteuid() != 0:
        pytest.skip(f"needs root and cgroup v1 (this host: {host.version.value} {host.reason})")
    return host


def test_v1_group_limits_counters_and_removal() -> None:
    host = _v1_host()
    group = host.group(f"{os.getpid()}-cgtest").create()
    try:
        group.set_limits(memory=64 << 20, pids=16, cpus=0.5)
        memory = group.paths["memory"]
        assert int((memory / "memory.limit_in_bytes").read_text()) == 64 << 20
        assert int((group.paths["pids"] / "pids.max").read_text()) == 16
        assert int((group.paths["cpu"] / "cpu.cfs_quota_us").read_text()) == 50000
        hog = subprocess.Popen(["/bin/sh", "-c", "sleep 30"])
        group.add(hog.pid)
        assert hog.pid in group.procs()
        assert group.kill()
        hog.wait(timeout=5)
        assert group.procs() == []
        assert group.peak_memory() is not None and group.cpu_seconds() is not None
    finally:
        group.remove()
    assert not any(p.exists() for p in group.paths.values())


def _run_in(group: Cgroup, command: str) -> subprocess.Popen[bytes]:
    """Start ``command`` (a shell line) inside ``group``: it waits until it has been moved there."""
    proc = subprocess.Popen(["/bin/sh", "-c", f"read x; exec {command}"], stdin=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    group.add(proc.pid)
    assert proc.stdin is not None
    proc.stdin.write(b"go\n")
    proc.stdin.close()
    return proc


def test_v1_oom_is_counted() -> None:
    host = _v1_host()
    group = host.group(f"{os.getpid()}-oomtest").create()
    try:
        group.set_limits(memory=32 << 20, pids=16, cpus=1)
        hog = _run_in(group, "python3 -c 'b = bytearray(256 << 20)'")
        hog.wait(timeout=30)
        time.sleep(0.05)
        assert hog.returncode == -9
        assert group.oom_kills() >= 1
    finally:
        group.remove()


def test_v1_recycling_kills_the_rest_and_resets_the_counters() -> None:
    """Each reset on its own: the processes, the OOM count's zero, the peak, the CPU time."""
    host = _v1_host()
    group = host.group(f"{os.getpid()}-recycletest").create()
    try:
        group.set_limits(memory=32 << 20, pids=16, cpus=1)
        hog = _run_in(group, "python3 -c 'import time\nend = time.process_time() + 0.3\n"
                             "while time.process_time() < end: pass\nb = bytearray(256 << 20)'")
        hog.wait(timeout=30)
        time.sleep(0.05)
        assert group.oom_kills() >= 1
        assert (group.peak_memory() or 0) > 24 << 20
        assert (group.cpu_seconds() or 0) >= 0.3
        sleeper = subprocess.Popen(["sleep", "30"])
        group.add(sleeper.pid)
        old = set(group.paths.values())
        assert group.recycle()
        assert sleeper.wait(timeout=5) == -9
        assert not any(p.exists() for p in old), "not renamed"
        assert all(p.exists() and p.name.startswith("run-") for p in group.paths.values())
        assert group.procs() == []
        assert group.oom_kills() == 0
        assert (group.peak_memory() or 0) <= RECYCLE_LEFTOVER_BYTES
        assert (group.cpu_seconds() or 0) < 0.05
    finally:
        group.remove()


def test_v1_a_cgroup_holding_much_page_cache_is_removed_not_recycled(tmp_path: Path) -> None:
    """Its page cache is not evicted (the next runs would read those files again): the cgroup is
    not recycled, and its removal leaves the cache to the parent."""
    host = _v1_host()
    group = host.group(f"{os.getpid()}-cachetest").create()
    data = tmp_path / "cached"
    try:
        group.set_limits(memory=256 << 20, pids=16, cpus=1)
        writer = _run_in(group, f"dd if=/dev/zero of={data} bs=1M count=48")
        assert writer.wait(timeout=30) == 0
        assert (group.memory_usage() or 0) > RECYCLE_LEFTOVER_BYTES
        assert not group.recycle()
        assert (group.memory_usage() or 0) > RECYCLE_LEFTOVER_BYTES  # nothing was evicted
    finally:
        group.remove()


def test_v2_cgroups_are_never_recycled(tmp_path: Path) -> None:
    """v2's peak cannot be reset for every reader: a v2 run cgroup is removed, not reused."""
    _fake_v2_tree(tmp_path)
    group = CgroupHost(CgroupVersion.V2, {c: tmp_path for c in ("memory", "pids", "cpu")}).group("run-1")
    group.create()
    assert not group.recycle()


def test_v2_cpu_weight_is_a_fraction_of_the_default(tmp_path: Path) -> None:
    _fake_v2_tree(tmp_path)
    (tmp_path / "cpu.weight").write_text("100\n")
    group = CgroupHost(CgroupVersion.V2, {c: tmp_path for c in ("memory", "pids", "cpu")}).group()
    group.set_cpu_weight(0.25)
    assert (tmp_path / "cpu.weight").read_text() == "25"
    group.set_cpu_weight(1e-6)
    assert (tmp_path / "cpu.weight").read_text() == "1"
    group.set_cpu_weight(1000)
    assert (tmp_path / "cpu.weight").read_text() == "10000"


def test_agent_code_yields_the_cpu_to_the_controller(runner: asyncio.Runner) -> None:
    """A started pool leaves the sandbox's parent cgroup at a quarter of the controller's weight:
    under contention the controller's event loop gets the CPU first (benchmarks/soak.py measures it)."""
    host = _v1_host()
    shares = host.base["cpu"] / "cpu.shares"
    shares.write_text("1024")

    async def start() -> None:
        async with Pool(limits=BARE_LIMITS, name="weight") as pool:
            await pool.run("pass", workdir="w")

    runner.run(start())
    assert int(shares.read_text()) == 256


def test_an_even_cpu_weight_is_a_choice(runner: asyncio.Runner) -> None:
    """``cpu_weight=1`` leaves agent code the weight of any process; a bad weight is refused."""
    host = _v1_host()
    shares = host.base["cpu"] / "cpu.shares"
    before = shares.read_text()

    async def start() -> None:
        async with Pool(limits=BARE_LIMITS, name="weight", cpu_weight=1) as pool:
            await pool.run("pass", workdir="w")

    try:
        runner.run(start())
        assert int(shares.read_text()) == 1024
    finally:
        shares.write_text(before)
    for bad in (0, -1, 101):
        with pytest.raises(ConfigError, match="cpu_weight"):
            Pool(cpu_weight=bad)
