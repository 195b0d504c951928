"""Resource limits: memory, wall clock, processes and threads, output."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import attrs
import psutil
import pytest
from jailtools import BARE_LIMITS, Driver, assert_no_leftovers, describe

from sandbox import RunStatus

MEMORY_BOMB = """
chunks = []
while True:
    chunks.append(b"\\x01" * (16 << 20))
"""

BUSY_LOOP = "while True:\n    pass\n"
SLEEP = "import time\ntime.sleep(60)\n"
IGNORES_SIGTERM = """
import os, signal, time
for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(sig, signal.SIG_IGN)
os.fork()  # the child ignores them too
while True:
    try:
        time.sleep(1)
    except BaseException:
        pass
"""

FORK_BOMB = """
import os, time
print("bomb", flush=True)
while True:
    try:
        os.fork()
    except OSError:
        time.sleep(0.001)
"""

COUNT_FORKS = """
import errno, json, os, time
children = 0
try:
    while children < 10000:
        if os.fork() == 0:
            time.sleep(30)
            os._exit(0)
        children += 1
except OSError as exc:
    print(json.dumps({"children": children, "eagain": exc.errno == errno.EAGAIN}))
"""

THREAD_BOMB = """
import json, threading, time
threads = 0
try:
    while threads < 10000:
        threading.Thread(target=time.sleep, args=(30,), daemon=True).start()
        threads += 1
except RuntimeError as exc:
    print(json.dumps({"threads": threads, "error": str(exc)}))
"""


def flood(stream: str, megabytes: int) -> str:
    return (f"import sys\nout = sys.{stream}\nout.write('HEAD')\nblock = 'x' * (1 << 20)\n"
            f"for _ in range({megabytes}):\n    out.write(block)\nout.write('TAIL\\n')\n")


# ------------------------------------------------------------ memory


@pytest.mark.slow
def test_memory_bomb_is_killed_and_zygote_survives(bare: Driver) -> None:
    zygote = bare.zygote()
    limit = 256 << 20
    result = bare.run(MEMORY_BOMB, limits=attrs.evolve(BARE_LIMITS, memory=limit))
    assert result.status is RunStatus.MEMORY, describe(result)
    assert result.peak_memory_bytes is not None and result.peak_memory_bytes <= limit * 1.05
    assert result.wall_s < BARE_LIMITS.timeout
    assert bare.zygote().pid == zygote.pid, "the zygote was restarted: it did not survive the OOM kill"
    bare.assert_healthy()


# ------------------------------------------------------------ wall clock


@pytest.mark.slow
@pytest.mark.parametrize("code", [BUSY_LOOP, SLEEP, IGNORES_SIGTERM], ids=["busy-loop", "sleep", "ignores-sigterm"])
def test_timeout_kills_within_half_a_second(bare: Driver, code: str) -> None:
    limit = 1.0
    started = time.monotonic()
    result = bare.run(code, limits=attrs.evolve(BARE_LIMITS, timeout=limit))
    elapsed = time.monotonic() - started
    assert result.status is RunStatus.TIMEOUT, describe(result)
    assert limit <= result.wall_s <= limit + 0.5, result.wall_s
    assert elapsed <= limit + 1.0, f"run() returned only after {elapsed:.2f} s"
    assert "wall-clock" in result.message
    bare.assert_healthy()


# ------------------------------------------------------------ processes and threads


@pytest.mark.slow
def test_fork_bomb_is_contained(bare: Driver) -> None:
    limits = attrs.evolve(BARE_LIMITS, timeout=2.0)
    result = bare.run(FORK_BOMB, limits=limits)
    # The pids limit stops it growing; the clock (or, on a slow host, memory) stops it.
    assert result.status in (RunStatus.TIMEOUT, RunStatus.MEMORY), describe(result)
    assert result.wall_s <= limits.timeout + 0.5
    assert result.stdout.text == "bomb\n"
    bare.assert_healthy()


def test_pids_limit_stops_forks(bare: Driver) -> None:
    report = bare.run_json(COUNT_FORKS, limits=attrs.evolve(BARE_LIMITS, pids=32))
    assert report["eagain"], report
    assert 0 < report["children"] < 32
    bare.assert_healthy()


def test_thread_bomb_is_bounded(bare: Driver) -> None:
    report = bare.run_json(THREAD_BOMB, limits=attrs.evolve(BARE_LIMITS, pids=32))
    assert 0 < report["threads"] < 32, report
    assert "thread" in report["error"]
    bare.assert_healthy()


# ------------------------------------------------------------ output


@pytest.mark.parametrize("stream", ["stdout", "stderr"])
def test_output_flood_is_capped(bare: Driver, stream: str) -> None:
    megabytes = 16
    result = bare.run(flood(stream, megabytes))
    assert result.status is RunStatus.OK, describe(result)
    output = getattr(result, stream)
    assert output.total_bytes == (megabytes << 20) + len("HEAD") + len("TAIL\n")
    assert output.dropped_bytes > (megabytes - 1) << 20
    assert len(output.text.encode()) <= BARE_LIMITS.output_bytes + 100
    assert output.text.startswith("HEAD") and output.text.endswith("TAIL\n")


@pytest.mark.parametrize("stream", ["stdout", "stderr"])
def test_output_beyond_kill_limit_stops_the_run(bare: Driver, stream: str) -> None:
    limits = attrs.evolve(BARE_LIMITS, output_kill_bytes=4 << 20)
    result = bare.run(f"import sys\nwhile True:\n    sys.{stream}.write('y' * 65536)\n", limits=limits)
    assert result.status is RunStatus.OUTPUT_LIMIT, describe(result)
    assert result.wall_s < BARE_LIMITS.timeout / 2
    output = getattr(result, stream)
    assert output.dropped_bytes > 0 and len(output.text.encode()) <= BARE_LIMITS.output_bytes + 100
    bare.assert_healthy()


@contextmanager
def peak_rss() -> Iterator[list[int]]:
    """Sample this process's RSS every 5 ms; yields [baseline, peak] (peak filled in on exit)."""
    me = psutil.Process()
    sample = [me.memory_info().rss, 0]
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            sample[1] = max(sample[1], me.memory_info().rss)
            done.wait(0.005)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield sample
    finally:
        done.set()
        watcher.join()


@pytest.mark.slow
def test_controller_memory_stays_bounded_during_a_flood(bare: Driver) -> None:
    megabytes = 400
    limits = attrs.evolve(BARE_LIMITS, output_kill_bytes=1 << 30, timeout=60)
    with peak_rss() as rss:
        result = bare.run(flood("stdout", megabytes), limits=limits)
    assert result.status is RunStatus.OK, describe(result)
    assert result.stdout.total_bytes > megabytes << 20
    grown = rss[1] - rss[0]
    assert grown < 50 << 20, f"the controller grew by {grown >> 20} MB while reading {megabytes} MB"
    assert_no_leftovers(bare.pool)
