"""A controller that dies mid-run leaves nothing running, and the next start sweeps the rest."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest

from sandbox import remove_tree
from sandbox._cleanup import pool_root, remove_stale

ROOT = Path(__file__).resolve().parents[2]
CONTROLLER = """
import asyncio, sys
import sandbox

async def main():
    async with sandbox.Pool(name="crashtest") as pool:
        pool.workdir("ep")
        print(pool.directory, flush=True)
        await pool.run("import time\\nopen('started', 'w').close()\\ntime.sleep(300)", workdir="ep",
                       limits=sandbox.Limits(timeout=600))

asyncio.run(main())
"""

pytestmark = [pytest.mark.slow, pytest.mark.root]


def _jail_processes(since: float, pool: str) -> list[psutil.Process]:
    """The jail's processes: uid 65534, in one of the pool's cgroups (other pools may run meanwhile)."""
    found = []
    for proc in psutil.process_iter(["uids", "create_time", "cmdline"]):
        info = proc.info
        if info["uids"] and info["uids"].real == 65534 and info["create_time"] >= since - 1 and _in_pool(proc, pool):
            found.append(proc)
    return found


def _in_pool(proc: psutil.Process, pool: str) -> bool:
    try:
        return f"/{pool}/" in Path(f"/proc/{proc.pid}/cgroup").read_text()
    except OSError:
        return False


@pytest.mark.skipif(os.geteuid() != 0, reason="the jail runs as uid 65534 only when started by root")
def test_killing_the_controller_kills_the_jail_and_the_next_start_sweeps(tmp_path: Path) -> None:
    started = time.time()
    controller = subprocess.Popen([sys.executable, "-c", CONTROLLER], stdout=subprocess.PIPE, text=True,
                                  cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert controller.stdout is not None
    pool_dir = Path(controller.stdout.readline().strip())
    deadline = time.monotonic() + 30
    while not (pool_dir / "episodes" / "ep" / "started").exists():
        assert time.monotonic() < deadline, "the run never started"
        time.sleep(0.05)
    assert _jail_processes(started, pool_dir.name), "expected the jail's processes while the run goes on"

    controller.send_signal(signal.SIGKILL)
    controller.wait()
    deadline = time.monotonic() + 10
    while left := _jail_processes(started, pool_dir.name):
        assert time.monotonic() < deadline, f"jail processes outlived the controller: {left}"
        time.sleep(0.05)

    assert pool_dir.exists(), "a SIGKILLed controller cannot clean up: the next start must"
    cgroups = list(Path("/sys/fs/cgroup/memory/sandbox").glob(f"{pool_dir.name}"))
    assert cgroups, "the dead controller's pool cgroup should still be there"
    removed = remove_stale(force=True)
    assert str(pool_dir) in removed
    assert not pool_dir.exists()
    for cgroup in cgroups:
        assert not cgroup.exists()


@pytest.mark.parametrize("owner", ["", "12"], ids=["empty", "garbled"])
def test_the_sweep_spares_a_young_pool_whose_owner_file_is_not_whole_and_removes_an_old_one(owner: str) -> None:
    """Another controller's sweep may read a pool's ``owner`` file while it is being written (seen
    when Ray node actors on one host started pools at once: each swept the others' live pools).
    A young pool dir with an unreadable owner file is still starting; an old one is a dead one's."""
    young = Path(tempfile.mkdtemp(prefix="", dir=pool_root(create=True)))
    old = Path(tempfile.mkdtemp(prefix="", dir=pool_root()))
    try:
        for folder in (young, old):
            (folder / "owner").write_text("" if owner == "" else f"{owner}x\n")  # no pid to read
        long_ago = time.time() - 3600
        os.utime(old, (long_ago, long_ago))
        removed = remove_stale(force=True)
        assert young.exists() and str(young) not in removed, "a starting pool was swept"
        assert not old.exists() and str(old) in removed, "an old pool with no readable owner was kept"
    finally:
        remove_tree(young)
        remove_tree(old)
