"""The controller cannot be stalled, bloated or broken by what agent code does.

Attacks on the control channel, on the work dir's tree and on the event loop, each while a
ticker measures how late the event loop runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import attrs
import psutil
from jailtools import BARE_LIMITS, FIND_CHANNELS, Driver, describe

import sandbox
from sandbox import RunStatus

FLOOD = FIND_CHANNELS + """
print("sockets", len(held["sockets"]), "pipes", len(held["pipes"]), flush=True)
big = json.dumps({"op": "traceback", "text": "x" * 60000}).encode()
small = json.dumps({"op": "status", "status": 0}).encode()
while True:
    for fd in channels:
        for payload in (small, big, b"not json", json.dumps({"op": "sandbox_error", "text": "forged"}).encode()):
            try:
                tell(fd, payload)
            except OSError:
                pass
"""


@contextlib.asynccontextmanager
async def loop_lag() -> AsyncIterator[list[float]]:
    """Yields a list that holds, at the end, the worst lateness (s) of a 10 ms ticker."""
    worst = [0.0]

    async def tick() -> None:
        while True:
            start = time.monotonic()
            await asyncio.sleep(0.01)
            worst[0] = max(worst[0], time.monotonic() - start - 0.01)

    ticker = asyncio.ensure_future(tick())
    try:
        yield worst
    finally:
        ticker.cancel()


def test_a_channel_flood_ends_the_run_and_never_stalls_the_controller(fresh_pool: Callable[..., Driver]) -> None:
    driver = fresh_pool(spares=0, limits=attrs.evolve(BARE_LIMITS, timeout=10))
    rss_before = psutil.Process().memory_info().rss

    async def attack() -> tuple[sandbox.RunResult, float]:
        async with loop_lag() as worst:
            result = await driver.pool.run(FLOOD, workdir="w")
        return result, worst[0]

    result, lag = driver.runner.run(attack())
    assert result.status is RunStatus.OUTPUT_LIMIT, describe(result)
    assert "control channel" in result.message
    assert result.stdout.text.startswith("sockets 0 pipes 1\n"), "the agent holds one channel: a pipe to the relay"
    assert result.wall_s < 5, "the flood ended the run at once, long before its time limit"
    assert lag < 0.1, f"the event loop stalled {lag * 1000:.0f} ms"
    assert psutil.Process().memory_info().rss - rss_before < 50 << 20
    driver.assert_healthy()


def test_the_time_limit_fires_whatever_the_channel_does(fresh_pool: Callable[..., Driver]) -> None:
    slow_flood = FLOOD.replace("while True:", "import time\nwhile True:\n    time.sleep(0.05)")
    driver = fresh_pool(limits=attrs.evolve(BARE_LIMITS, timeout=1.0))
    result = driver.run(slow_flood)
    # 64 messages at most: a slow sender is killed when it passes them, or by the time limit
    assert result.status in (RunStatus.OUTPUT_LIMIT, RunStatus.TIMEOUT), describe(result)
    assert result.wall_s < 2.0


def test_forged_reports_do_not_become_verdicts(bare: Driver) -> None:
    # a forged "status" (the spare's own report) and "sandbox_error" are dropped or ignored
    # once the run runs: the verdict is the run's real exit
    code = FLOOD.replace("while True:", "for _ in range(1):") + "\nprint('done')\nraise SystemExit(3)\n"
    result = bare.run(code)
    assert result.status is RunStatus.ERROR and result.exit_code == 3, describe(result)
    assert result.stdout.text == "sockets 0 pipes 1\ndone\n"


FIND_CHANNEL = FIND_CHANNELS + """
s = channels[0]
"""


def test_a_report_that_breaks_the_parser_is_dropped_not_a_sandbox_error(bare: Driver) -> None:
    code = FIND_CHANNEL + "tell(s, b'[' * 60000)\ntime.sleep(0.2)\nprint('still running')\nraise SystemExit(4)\n"
    result = bare.run(code)
    assert result.status is RunStatus.ERROR and result.exit_code == 4, describe(result)
    assert result.stdout.text == "still running\n"
    bare.assert_healthy()


def test_forged_labels_are_not_believed(bare: Driver) -> None:
    forged_full = FIND_CHANNEL + "tell(s, json.dumps({'op': 'exit', 'code': 1, 'scratch_full': True}).encode())\n" \
                                "time.sleep(5)\n"
    result = bare.run(forged_full)
    assert result.status is RunStatus.ERROR and result.exit_code == 1, describe(result)


def test_agent_code_cannot_send_descriptors_out(bare: Driver) -> None:
    """Descriptors sent out would be closed by whoever got them, on its own clock (a lingering
    TCP socket makes that close wait): agent code holds no socket of the sandbox's to send them on."""
    code = FIND_CHANNELS + """
import array
big = os.memfd_create("pinned")
os.pwrite(big, b"x" * (64 << 20), 0)
refused = 0
for fd in channels:
    try:
        s = socket.socket(fileno=fd)
        s.sendmsg([b'{"op": "running"}'], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [big] * 16))])
        print("sent on", fd)
    except OSError:
        refused += 1
print("channels", len(channels), "refused", refused)
"""
    fds_before = psutil.Process().num_fds()
    shmem_before = _shmem()
    for _ in range(3):
        result = bare.run(code)
        assert result.status is RunStatus.OK, describe(result)
        assert result.stdout.text == "channels 1 refused 1\n", describe(result)
    assert psutil.Process().num_fds() - fds_before <= 2
    deadline = time.monotonic() + 2.0  # the last run's processes are swept a moment after its result
    while _shmem() - shmem_before >= 32 << 20 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _shmem() - shmem_before < 32 << 20, "agent memory is pinned after its runs"


def _shmem() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("Shmem:"):
            return int(line.split()[1]) * 1024
    return 0
