"""Helpers for the sandbox tests: drive a pool from sync code and look at it from the host."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import psutil

import sandbox

JAIL_UID = 65534
BARE_LIMITS = sandbox.Limits(timeout=10, memory="512M", cpus=1)
CGROUP_ROOT = Path("/sys/fs/cgroup")


class Driver:
    """A started :class:`sandbox.Pool` and the event loop it lives on."""

    def __init__(self, runner: asyncio.Runner, pool: sandbox.Pool) -> None:
        self.runner = runner
        self.pool = pool

    @classmethod
    def start(cls, runner: asyncio.Runner, **kwargs: Any) -> Driver:
        pool = sandbox.Pool(**kwargs)
        runner.run(pool.start())
        return cls(runner, pool)

    def close(self) -> None:
        self.runner.run(self.pool.aclose())

    def run(self, code: str, *, workdir: str = "w", **kwargs: Any) -> sandbox.RunResult:
        return self.runner.run(self.pool.run(code, workdir=workdir, **kwargs))

    def run_json(self, code: str, **kwargs: Any) -> Any:
        """Run code that prints one JSON document as its last stdout line; return it decoded."""
        result = self.run(code, **kwargs)
        assert result.status is sandbox.RunStatus.OK, describe(result)
        return json.loads(result.stdout.text.strip().splitlines()[-1])

    def assert_healthy(self) -> None:
        """A trivial run still works and nothing of earlier runs is left."""
        result = self.run("print('still alive')")
        assert result.status is sandbox.RunStatus.OK, describe(result)
        assert result.stdout.text == "still alive\n"
        assert_no_leftovers(self.pool)

    def nsjail(self) -> psutil.Process:
        return nsjail_process(self.pool)

    def zygote(self) -> psutil.Process:
        return zygote_process(self.pool)


def describe(result: sandbox.RunResult) -> str:
    """A short account of a result for assertion messages."""
    return (f"status={result.status} exit={result.exit_code} signal={result.signal} msg={result.message!r}\n"
            f"stdout={result.stdout.text[-2000:]!r}\nstderr={result.stderr.text[-2000:]!r}")


# Agent code that finds the sandbox's channel the way an attacker would: every socket or pipe it
# holds besides stdin, stdout and stderr.  ``tell`` sends one message on one: a line (a datagram
# on a socket: a JSON parser ignores the newline).
FIND_CHANNELS = """
import json, os, socket, stat, sys, time
def kinds():
    found = {"sockets": [], "pipes": []}
    for fd in range(3, 1 << 16):
        try:
            mode = os.fstat(fd).st_mode
        except OSError:
            continue
        if stat.S_ISSOCK(mode):
            found["sockets"].append(fd)
        elif stat.S_ISFIFO(mode):
            found["pipes"].append(fd)
    return found
held = kinds()
channels = held["sockets"] + held["pipes"]
def tell(fd, payload):
    os.write(fd, payload + b"\\n")
"""


def relay_process(zygote: psutil.Process) -> psutil.Process:
    """The zygote's relay: its first child, forked before the preload."""
    return min(zygote.children(), key=lambda p: p.create_time())


def nsjail_process(pool: sandbox.Pool) -> psutil.Process:
    """The nsjail process that holds this pool's jail (found by its config path)."""
    config = str(pool.directory / "nsjail.cfg")
    for proc in psutil.process_iter(["cmdline"]):
        if config in (proc.info["cmdline"] or []):
            return proc
    raise AssertionError(f"no nsjail process runs {config}")


def zygote_process(pool: sandbox.Pool) -> psutil.Process:
    """The zygote: in a jail, the one child of the jail's pid 1 (nsjail's one child), pid 1 of a
    pid namespace of its own; its pid comes with its ``ready``."""
    children = nsjail_process(pool).children()
    assert len(children) == 1, children
    zygote = pool._zygote  # the tests look inside on purpose
    assert zygote is not None and zygote.pid is not None
    assert zygote.pid in {p.pid for p in children[0].children()}, (zygote.pid, children[0].children())
    return psutil.Process(zygote.pid)


def _cgroup_text(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cgroup").read_text()
    except OSError:
        return ""


def pool_processes(pool: sandbox.Pool) -> list[psutil.Process]:
    """Live jail-user processes of this pool other than the zygote (and the jail's pid 1 that waits for it).

    A process belongs to the pool when it is in one of the pool's cgroups or
    descends from its nsjail process; zombies (already dead) do not count.
    """
    name = f"/{pool.directory.name}/"
    try:
        jail = nsjail_process(pool)
        tree = {p.pid for p in jail.children(recursive=True)}
        zygote = zygote_process(pool)
        keep = {jail.pid, *(p.pid for p in jail.children()), zygote.pid, relay_process(zygote).pid}
    except (AssertionError, psutil.Error):
        tree, keep = set(), set()
    found = []
    for proc in psutil.process_iter(["uids", "status"]):
        uids = proc.info["uids"]
        if proc.pid in keep or uids is None or JAIL_UID not in (uids.real, uids.effective):
            continue
        if proc.info["status"] == psutil.STATUS_ZOMBIE:
            continue
        if proc.pid in tree or name in _cgroup_text(proc.pid):
            found.append(proc)
    return found


def assert_no_leftovers(pool: sandbox.Pool, grace: float = 0.5) -> None:
    """Nothing but the zygote is left of the pool's runs (after ``grace`` seconds at most)."""
    deadline = time.monotonic() + grace
    while (left := pool_processes(pool)) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not left, [(p.pid, _safe_cmdline(p)) for p in left]


def _safe_cmdline(proc: psutil.Process) -> list[str]:
    try:
        return proc.cmdline()
    except psutil.Error:
        return ["?"]


def cgroup_dirs(name: str) -> list[Path]:
    """Every cgroup directory named ``name`` under any hierarchy's ``sandbox`` parent."""
    return [p for p in CGROUP_ROOT.glob(f"*/sandbox/{name}") if p.exists()]
