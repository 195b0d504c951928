"""Admission: budgets never exceeded, bounded overtaking, GPU placement (no processes involved).

Tests where timing decides the order run on virtual time (``run_virtual``): a sleep only moves a
fake clock on, so who is admitted when follows from the test's numbers, not the machine's speed,
and the admission's own clock is that fake one, so its waits are exact.
"""

from __future__ import annotations

import asyncio
import random
import selectors
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

import dojo_lite
from dojo_lite._admission import Admission, GpuNeed, GpuSlot, Grant, Request

GIB = 1 << 30


class FakeClock:
    """Virtual seconds, moved on only by ``run_virtual``'s loop (like trio's autojump MockClock)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class _JumpingSelector(selectors.DefaultSelector):
    """Never blocks: when nothing is ready, the clock jumps to the loop's next timer instead."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__()
        self.clock = clock

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ready = super().select(0)
        if not ready:
            if timeout is None:  # no timer and nothing ready: a real loop would hang here
                raise RuntimeError("deadlock: every task waits and no timer is set")
            self.clock.now += timeout
        return ready


class _VirtualLoop(asyncio.SelectorEventLoop):
    def __init__(self, clock: FakeClock) -> None:
        super().__init__(_JumpingSelector(clock))
        self.clock = clock

    def time(self) -> float:
        return self.clock.now


def run_virtual[T](main: Callable[[], Coroutine[Any, Any, T]], clock: FakeClock) -> T:
    """``asyncio.run(main())`` on an event loop whose time is ``clock``: sleeps take no real time."""
    with asyncio.Runner(loop_factory=lambda: _VirtualLoop(clock)) as runner:
        return runner.run(main())


def _random_request(rng: random.Random, episode: str, gpus: bool) -> Request:
    gpu = None
    if gpus and rng.random() < 0.4:
        gpu = GpuNeed(whole=True) if rng.random() < 0.3 else GpuNeed(memory_bytes=rng.choice([2, 4, 8]) * GIB)
    return Request(episode, cpus=rng.choice([0.5, 1, 1, 2, 3]), memory_bytes=rng.choice([1, 2, 4, 6]) * GIB, gpu=gpu)


def _check_budgets(admission: Admission, holding: list[Grant]) -> None:
    assert sum(g.request.cpus for g in holding) <= admission.cpus + 1e-9
    assert sum(g.request.memory_bytes for g in holding) <= admission.memory_bytes
    for index, slot in admission.gpus.items():
        on_device = [g for g in holding if g.gpu is not None and g.gpu.devices == (index,)]
        wholes = [g for g in on_device if g.request.gpu is not None and g.request.gpu.whole]
        assert len(wholes) <= 1 and (not wholes or len(on_device) == 1), "a whole GPU is never shared"
        shared = sum(g.gpu.memory_bytes or 0 for g in on_device if g.gpu is not None)
        assert shared <= (slot.memory_bytes or 0) or wholes
    for grant in holding:
        need = grant.request.gpu
        assert (grant.gpu is None) == (need is None)
        if need is not None and not need.whole:
            assert grant.gpu is not None and grant.gpu.memory_bytes == need.memory_bytes, "the share is capped"


@pytest.mark.parametrize("seed", range(12))
def test_random_episodes_never_exceed_the_budgets_and_all_finish(seed: int) -> None:
    rng = random.Random(seed)
    clock = FakeClock()
    admission = Admission(cpus=4, memory_bytes=12 * GIB, max_overtakes=5,
                          gpus=[GpuSlot(0, 16 * GIB), GpuSlot(1, 24 * GIB)] if seed % 2 else [], clock=clock)
    holding: list[Grant] = []
    granted: list[Grant] = []

    async def episode(name: str, runs: int) -> int:
        for _ in range(runs):
            request = _random_request(rng, name, bool(admission.gpus))
            grant = await admission.acquire(request)
            granted.append(grant)
            holding.append(grant)
            _check_budgets(admission, holding)
            await asyncio.sleep(rng.random() * 0.002)
            holding.remove(grant)
            admission.release(grant)
        return runs

    async def main() -> list[int]:
        return await asyncio.gather(*(episode(f"e{i}", rng.randint(1, 12)) for i in range(60)))

    done = run_virtual(main, clock)
    assert sum(done) == admission.granted
    assert admission.usage.cpus == 0 and admission.usage.memory_bytes == 0 and admission.queue_length == 0
    # a run is overtaken by each run that arrived after it and was admitted before it
    tickets = [g.ticket for g in sorted(granted, key=lambda g: g.order)]
    overtakes = [sum(later > ticket for later in tickets[:i]) for i, ticket in enumerate(tickets)]
    assert max(overtakes) <= admission.max_overtakes, "a run was overtaken more often than allowed"
    assert max(overtakes) > 0, "control: small runs did overtake big ones"
    assert max(g.waited_s for g in granted) > 0.002, "control: some runs waited longer than one run lasts"


def test_episodes_take_turns() -> None:
    """One CPU: three episodes with many runs each are served round-robin, not one after another."""
    admission = Admission(cpus=1, memory_bytes=8 * GIB)
    order: list[str] = []

    async def episode(name: str) -> None:
        for _ in range(4):
            grant = await admission.acquire(Request(name, 1, GIB))
            order.append(name)
            await asyncio.sleep(0)
            admission.release(grant)

    async def main() -> None:
        await asyncio.gather(episode("a"), episode("b"), episode("c"))

    asyncio.run(main())
    assert order == ["a", "b", "c"] * 4


def test_a_big_request_is_not_starved_by_small_ones() -> None:
    clock = FakeClock()
    admission = Admission(cpus=4, memory_bytes=64 * GIB, max_overtakes=3, clock=clock)
    order: list[str] = []
    waits: list[float] = []

    async def small(name: str) -> None:
        for _ in range(10):
            grant = await admission.acquire(Request(name, 1, GIB))
            order.append(name)
            await asyncio.sleep(0.001)
            admission.release(grant)

    async def big() -> None:
        await asyncio.sleep(0.0005)  # arrives while the small ones hold every CPU
        grant = await admission.acquire(Request("big", 4, GIB))
        order.append("big")
        waits.append(grant.waited_s)
        admission.release(grant)

    async def main() -> None:
        await asyncio.gather(*(small(f"s{i}") for i in range(4)), big())

    run_virtual(main, clock)
    position = order.index("big")
    assert position < 4 + 4 * 3, f"the big run waited behind {position} others: {order}"
    # At 1 ms the small runs end and come back: three overtake the big one, the fourth must wait, so
    # the big one is next once the three end at 2 ms (it arrived at 0.5 ms).
    assert position == 4 + 3, order
    assert waits == [pytest.approx(0.0015)]


def test_gpu_shares_wholes_and_spreading() -> None:
    clock = FakeClock()
    admission = Admission(cpus=16, memory_bytes=64 * GIB, gpus=[GpuSlot(0, 16 * GIB), GpuSlot(1, 16 * GIB)],
                          clock=clock)

    async def main() -> None:
        first = await admission.acquire(Request("a", 1, GIB, GpuNeed(memory_bytes=8 * GIB)))
        second = await admission.acquire(Request("b", 1, GIB, GpuNeed(memory_bytes=8 * GIB)))
        assert {first.gpu.devices, second.gpu.devices} == {(0,), (1,)}, "shares spread over devices"
        third = await admission.acquire(Request("c", 1, GIB, GpuNeed(memory_bytes=8 * GIB)))
        fourth = await admission.acquire(Request("d", 1, GIB, GpuNeed(memory_bytes=8 * GIB)))
        assert sorted([third.gpu.devices, fourth.gpu.devices]) == [(0,), (1,)]
        whole = asyncio.ensure_future(admission.acquire(Request("w", 1, GIB, GpuNeed(whole=True))))
        fifth = asyncio.ensure_future(admission.acquire(Request("e", 1, GIB, GpuNeed(memory_bytes=9 * GIB))))
        await asyncio.sleep(0.01)
        assert not whole.done() and not fifth.done(), "both devices are full"
        for grant in (first, third):
            admission.release(grant)
        granted = await whole
        assert granted.gpu.devices == (0,) and granted.gpu.memory_bytes is None, "device 0 is free: all of it"
        await asyncio.sleep(0.01)
        assert not fifth.done(), "device 0 is taken whole, device 1 is full"
        admission.release(second)
        await asyncio.sleep(0.01)
        assert not fifth.done(), "device 1 has 8 GiB free, not 9"
        admission.release(fourth)
        assert (await fifth).gpu.devices == (1,)

    run_virtual(main, clock)


def test_waits_are_measured_on_the_given_clock() -> None:
    clock = FakeClock()
    admission = Admission(cpus=1, memory_bytes=4 * GIB, clock=clock)

    async def main() -> tuple[Grant, Grant]:
        first = await admission.acquire(Request("a", 1, GIB))
        waiting = asyncio.ensure_future(admission.acquire(Request("b", 1, GIB)))
        await asyncio.sleep(2.5)  # virtual: the test takes no real time
        admission.release(first)
        return first, await waiting

    first, second = run_virtual(main, clock)
    assert (first.waited_s, second.waited_s) == (0.0, 2.5)
    assert clock.now == 2.5


def test_impossible_requests_are_refused_not_queued() -> None:
    admission = Admission(cpus=2, memory_bytes=4 * GIB, gpus=[GpuSlot(0, 8 * GIB)])
    for request in (Request("a", 3, GIB), Request("a", 1, 5 * GIB),
                    Request("a", 1, GIB, GpuNeed(memory_bytes=9 * GIB))):
        with pytest.raises(dojo_lite.ConfigError):
            asyncio.run(admission.acquire(request))
    unknown = Admission(cpus=2, memory_bytes=4 * GIB, gpus=[GpuSlot(0, None)])
    with pytest.raises(dojo_lite.ConfigError):
        asyncio.run(unknown.acquire(Request("a", 1, GIB, GpuNeed(memory_bytes=GIB))))


def test_cancelling_a_waiter_holds_nothing() -> None:
    admission = Admission(cpus=1, memory_bytes=4 * GIB)

    async def main() -> None:
        held = await admission.acquire(Request("a", 1, GIB))
        waiting = asyncio.ensure_future(admission.acquire(Request("b", 1, GIB)))
        await asyncio.sleep(0)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        assert admission.queue_length == 0
        admission.release(held)
        assert admission.usage.cpus == 0

    asyncio.run(main())
