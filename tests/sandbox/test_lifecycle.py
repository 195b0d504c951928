"""The pool's life: closing, losing its zygote, strict mode, concurrent runs."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from pathlib import Path

import attrs
import psutil
import pytest
from jailtools import (
    BARE_LIMITS,
    Driver,
    assert_no_leftovers,
    cgroup_dirs,
    describe,
    pool_processes,
    relay_process,
)

import sandbox
from sandbox import RunStatus
from sandbox._cgroups import Cgroup, CgroupHost, CgroupVersion

LONG_RUN = "import time\nopen('started', 'w').close()\ntime.sleep(60)\n"


async def _wait_for_file(driver: Driver, workdir: str, name: str, limit: float = 10.0) -> None:
    deadline = time.monotonic() + limit
    while not (driver.pool.workdir(workdir) / name).exists():
        assert time.monotonic() < deadline, f"{name} never appeared"
        await asyncio.sleep(0.01)


def _alive(pids: list[int]) -> list[int]:
    alive = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                alive.append(pid)
        except psutil.NoSuchProcess:
            pass
    return alive


def test_closing_leaves_nothing_behind(fresh_pool: Callable[..., Driver]) -> None:
    driver = fresh_pool(spares=2)
    assert driver.run("open('kept', 'w').write('x')").status is RunStatus.OK
    directory, name = driver.pool.directory, driver.pool.directory.name

    async def close_during_a_run() -> list[int]:
        running = asyncio.ensure_future(driver.pool.run(LONG_RUN, workdir="w", limits=BARE_LIMITS))
        await _wait_for_file(driver, "w", "started")
        jail = driver.nsjail()
        pids = [jail.pid, *(p.pid for p in jail.children(recursive=True))]
        pids += [p.pid for p in pool_processes(driver.pool)]
        await driver.pool.aclose()
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        return pids

    pids = driver.runner.run(close_during_a_run())
    assert len(pids) >= 4, "expected nsjail, the zygote, the run and spares"
    assert _alive(pids) == []
    assert cgroup_dirs(name) == []
    assert not directory.exists()
    with pytest.raises(sandbox.PoolClosed):
        driver.run("print(1)")


@pytest.mark.slow
def test_closing_ends_a_run_in_flight_promptly(fresh_pool: Callable[..., Driver]) -> None:
    driver = fresh_pool()
    limits = sandbox.Limits(timeout=3, memory="512M")

    async def close_during_a_run() -> tuple[sandbox.RunResult, float]:
        running = asyncio.ensure_future(driver.pool.run(LONG_RUN, workdir="w", limits=limits))
        await _wait_for_file(driver, "w", "started")
        closed = time.monotonic()
        await driver.pool.aclose()
        result = await running
        return result, time.monotonic() - closed

    result, waited = driver.runner.run(close_during_a_run())
    assert waited < 1.0, f"run() returned {waited:.2f} s after the pool closed"
    assert result.status in (RunStatus.KILLED, RunStatus.SANDBOX_ERROR), describe(result)


@pytest.mark.slow
def test_closing_before_the_start_is_heard_ends_the_run_as_killed(
    fresh_pool: Callable[..., Driver], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The close lands after the request went out but before the spare's word that the agent
    started was read: the hang-up is the close's, not a lost spare's, so run() neither retries
    on the closed pool (PoolClosed) nor reports a sandbox error."""
    driver = fresh_pool()
    send = sandbox._run.Run._send

    async def send_then_close(self: sandbox._run.Run, request: dict[str, object], source: bytes) -> None:
        await send(self, request, source)
        await driver.pool.aclose()

    monkeypatch.setattr(sandbox._run.Run, "_send", send_then_close)
    result = driver.runner.run(driver.pool.run(LONG_RUN, workdir="w"))
    assert result.status is RunStatus.KILLED, describe(result)
    assert "closed" in result.message


def test_closing_leaves_no_task_behind(runner: asyncio.Runner) -> None:
    async def open_and_close() -> list[str]:
        before = asyncio.all_tasks()
        async with sandbox.Pool(limits=BARE_LIMITS, name="tasks") as pool:
            await pool.run("print(1)", workdir="w")
        await asyncio.sleep(0.05)
        left = asyncio.all_tasks() - before - {asyncio.current_task()}
        return [getattr(task.get_coro(), "__qualname__", "?") for task in left if not task.done()]

    assert runner.run(open_and_close()) == []


def _victims(driver: Driver, victim: str) -> list[psutil.Process]:
    """What to kill: the whole jail, or one process the runs depend on, by itself."""
    if victim == "jail":
        jail = driver.nsjail()
        return [jail, *jail.children(recursive=True)]
    zygote = driver.zygote()
    target = zygote if victim == "zygote" else relay_process(zygote)
    assert target.cmdline() == zygote.cmdline()  # a process of the jail's own, not the run's init
    return [target]


@pytest.mark.slow
@pytest.mark.parametrize("victim", ["jail", "zygote", "relay"])
def test_killing_the_jail_the_zygote_or_its_relay_fails_the_run_and_the_pool_recovers(
        fresh_pool: Callable[..., Driver], victim: str) -> None:
    """The run in flight ends as a sandbox error at once, nothing of it is left, and the next
    run gets a new jail."""
    driver = fresh_pool(spares=0)

    async def kill_during_a_run() -> tuple[sandbox.RunResult, float]:
        running = asyncio.ensure_future(driver.pool.run(LONG_RUN, workdir="w"))
        await _wait_for_file(driver, "w", "started")
        victims = _victims(driver, victim)
        killed = time.monotonic()
        for proc in victims:
            with contextlib.suppress(psutil.NoSuchProcess):  # killing the jail may reap them first
                proc.kill()
        result = await running
        return result, time.monotonic() - killed

    old_jail = driver.nsjail().pid
    result, waited = driver.runner.run(kill_during_a_run())
    assert result.status is RunStatus.SANDBOX_ERROR, describe(result)
    assert waited < 2.0
    after = driver.run("print('recovered')")
    assert after.status is RunStatus.OK and after.stdout.text == "recovered\n", describe(after)
    assert driver.nsjail().pid != old_jail
    assert _alive([old_jail]) == []
    assert_no_leftovers(driver.pool)


def test_a_zygote_that_dies_alone_is_seen_dead_before_nsjail_exits_and_replaced(
        fresh_pool: Callable[..., Driver]) -> None:
    """The pool follows the zygote's own process (a pidfd), not only nsjail: with nsjail stopped,
    so that it can neither reap nor exit, a zygote killed while idle is seen dead at once (its
    spare is lost with it and must not be handed out).  Then the next run gets a new jail."""
    driver = fresh_pool(spares=1)
    assert driver.run("pass").status is RunStatus.OK
    time.sleep(0.5)  # the spare is made
    zygote, old, jail = driver.pool._zygote, driver.zygote(), driver.nsjail()
    assert zygote is not None and zygote.alive()
    jail.suspend()
    try:
        old.kill()
        deadline = time.monotonic() + 2.0
        while zygote.alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not zygote.alive() and zygote.process.returncode is None
    finally:
        jail.resume()
    result = driver.run("print('fresh')")
    assert result.status is RunStatus.OK and result.stdout.text == "fresh\n", describe(result)
    assert driver.zygote().pid != old.pid and _alive([jail.pid, old.pid]) == []


def test_stopping_a_zygote_looks_for_its_processes_off_the_event_loop(
        fresh_pool: Callable[..., Driver], monkeypatch: pytest.MonkeyPatch) -> None:
    """psutil finds a process's children by reading every process's ``stat``: on a busy host, a
    pause (here made 0.5 s long) that must not stop the loop while a zygote is stopped."""
    driver = fresh_pool(spares=0)
    assert driver.run("pass").status is RunStatus.OK
    children = psutil.Process.children

    def slow_children(self: psutil.Process, recursive: bool = False) -> list[psutil.Process]:
        time.sleep(0.5)
        return children(self, recursive)

    monkeypatch.setattr(psutil.Process, "children", slow_children)
    lags: list[float] = []

    async def close_while_ticking() -> None:
        closing = asyncio.ensure_future(driver.pool.aclose())
        while not closing.done():
            start = time.monotonic()
            await asyncio.sleep(0.01)
            lags.append(time.monotonic() - start - 0.01)
        await closing

    driver.runner.run(close_while_ticking())
    assert driver.pool.closed
    assert max(lags) < 0.3, f"the loop stopped for {max(lags) * 1000:.0f} ms"


def test_runs_in_sequence_share_one_zygote(bare: Driver) -> None:
    zygote = bare.zygote().pid
    results = [bare.run(f"print({i})") for i in range(5)]
    assert [r.stdout.text for r in results] == [f"{i}\n" for i in range(5)]
    assert bare.zygote().pid == zygote
    assert_no_leftovers(bare.pool)


def _run_cgroups(name: str) -> list[Path]:
    return [child for base in cgroup_dirs(name) for child in base.iterdir()
            if child.is_dir() and not child.name.startswith("zygote-")]


def _procs(cgroup: Path) -> str | None:
    """The cgroup's processes, or None if it went while we looked (renamed for reuse, or removed)."""
    try:
        return (cgroup / "cgroup.procs").read_text()
    except FileNotFoundError:
        return None


def test_run_cgroups_are_emptied_after_runs_and_kept_only_for_reuse(bare: Driver) -> None:
    """After each run, its cgroup is emptied: kept (empty) for the next run, at most one more than
    the pool's ``max_spares``, or removed."""
    for code in ("print(1)", "import sys\nsys.exit(2)", "while True:\n    pass\n"):
        bare.run(code, limits=attrs.evolve(BARE_LIMITS, timeout=0.3))
    name = bare.pool.directory.name
    assert cgroup_dirs(name), "the pool has no cgroup"
    kept = bare.pool.max_spares + 1

    def look() -> tuple[list[Path], list[str | None]]:
        left = _run_cgroups(name)
        return left, [_procs(c) for c in left]

    # a cgroup may still be in its recycling or removal (a thread): look until that is over
    deadline = time.monotonic() + 5.0
    left, procs = look()
    while (len({c.name for c in left}) > kept or procs != [""] * len(left)) and time.monotonic() < deadline:
        time.sleep(0.02)
        left, procs = look()
    assert procs == [""] * len(left), procs
    assert len({c.name for c in left}) <= kept, left


_OWN_CGROUP = "print([line.rsplit('/', 1)[-1] for line in open('/proc/self/cgroup') if ':memory:' in line][0])\n"


def _wait_for_a_free_cgroup(pool: sandbox.Pool) -> list[Cgroup]:
    deadline = time.monotonic() + 5.0
    while not pool._free_cgroups and time.monotonic() < deadline:
        time.sleep(0.02)
    return list(pool._free_cgroups)


def test_a_recycled_cgroup_starts_its_next_run_from_zero(fresh_pool: Callable[..., Driver]) -> None:
    """A run that burned CPU and was OOM-killed leaves its cgroup to the next run, which is not
    blamed for that OOM, reports its own CPU time and peak memory, not the last run's, and sees
    its cgroup under a new name (a run cannot tell a reused cgroup, or count other runs)."""
    if CgroupHost.detect().version is not CgroupVersion.V1:
        pytest.skip("run cgroups are recycled on cgroup v1 only")
    driver = fresh_pool(spares=0)
    pool = driver.pool
    hog = ("import time\nend = time.process_time() + 1.0\nwhile time.process_time() < end:\n    pass\n"
           + _OWN_CGROUP + "blocks = []\nwhile True:\n    blocks.append(bytearray(64 << 20))\n")
    first = driver.run(hog)
    assert first.status is RunStatus.MEMORY, describe(first)
    assert first.cpu_s is not None and first.cpu_s >= 1.0, describe(first)
    assert first.peak_memory_bytes is not None and first.peak_memory_bytes > 400 << 20, describe(first)
    recycled = _wait_for_a_free_cgroup(pool)
    assert len(recycled) == 1, "the OOM run's cgroup was not kept for reuse"
    second = driver.run("x = bytearray(8 << 20)\n" + _OWN_CGROUP)
    assert second.status is RunStatus.OK, describe(second)
    assert second.cpu_s is not None and second.cpu_s < 0.5, describe(second)
    assert second.peak_memory_bytes is not None and second.peak_memory_bytes < 200 << 20, describe(second)
    names = [first.stdout.text.strip(), second.stdout.text.strip()]
    assert all(name.startswith("run-") for name in names) and names[0] != names[1], names
    assert _wait_for_a_free_cgroup(pool)[0] is recycled[0], "the second run did not reuse the cgroup"


def test_concurrent_runs_with_spares(fresh_pool: Callable[..., Driver]) -> None:
    driver = fresh_pool(spares=1)
    code = "import os, time\ntime.sleep(0.3)\nprint(sorted(os.listdir('.')))\nopen('mine', 'w').close()\n"

    async def many() -> list[sandbox.RunResult]:
        return await asyncio.gather(*(driver.pool.run(code, workdir=f"e{i}") for i in range(4)))

    results = driver.runner.run(many())
    assert [r.status for r in results] == [RunStatus.OK] * 4, [describe(r) for r in results]
    assert [r.stdout.text for r in results] == ["[]\n"] * 4


@pytest.mark.slow
def test_concurrent_runs_without_spares(fresh_pool: Callable[..., Driver]) -> None:
    driver = fresh_pool(spares=0)

    async def many() -> list[sandbox.RunResult]:
        runs = [driver.pool.run("print('hi')", workdir=f"e{i}") for i in range(3)]
        return await asyncio.wait_for(asyncio.gather(*runs), timeout=3)

    results = driver.runner.run(many())
    assert [r.status for r in results] == [RunStatus.OK] * 3


def test_bursts_of_runs_raise_the_spares_and_a_quiet_pool_lets_them_go(
        fresh_pool: Callable[..., Driver]) -> None:
    """Bursts of concurrent runs come faster than one spare is made: the pool keeps more ready, up
    to ``max_spares``; once the bursts are two seconds old, the target is the floor again."""
    # a warm-up makes each spare take at least 0.1 s: more than a burst's runs are apart
    driver = fresh_pool(spares=1, max_spares=3, warmup="import time\ntime.sleep(0.1)\n")
    pool = driver.pool

    async def bursts() -> tuple[int, int]:
        most_ready = top_target = 0
        for _ in range(5):
            results = await asyncio.gather(*(pool.run("pass", workdir=f"e{i}") for i in range(8)))
            assert [r.status for r in results] == [RunStatus.OK] * 8, [describe(r) for r in results]
            top_target = max(top_target, pool.spare_target)
            await asyncio.sleep(0.3)  # the spares asked for meanwhile get ready
            assert pool._spare_queue is not None
            most_ready = max(most_ready, pool._spare_queue.qsize())
        return most_ready, top_target

    most_ready, target = driver.runner.run(bursts())
    assert target >= 2, target
    assert 2 <= most_ready <= pool.max_spares, most_ready
    time.sleep(2.5)
    assert pool.spare_target == 1


def test_a_spares_lead_time_runs_until_its_agent_waits_for_the_request(
        fresh_pool: Callable[..., Driver]) -> None:
    """The time a spare takes includes its warm-up (the agent's ``waiting`` report ends it), and
    not the time it then sat ready."""
    driver = fresh_pool(spares=1, warmup="import time\ntime.sleep(0.3)\n")

    async def paced() -> None:
        for _ in range(3):
            await asyncio.sleep(1.0)  # the spare is long ready when the run takes it
            result = await driver.pool.run("pass", workdir="w")
            assert result.status is RunStatus.OK, describe(result)

    driver.runner.run(paced())
    lead = driver.pool._demand.lead_s
    assert lead is not None and 0.3 <= lead <= 0.8, lead
