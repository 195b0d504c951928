"""Owned background work: nothing outlives its nursery, and one child's failure ends no sibling."""

from __future__ import annotations

import asyncio
import logging
import warnings

import pytest

import dojo_lite
from dojo_lite._nursery import Nursery


def test_a_child_s_result_and_error_go_to_its_caller_and_spare_its_siblings() -> None:
    async def main() -> tuple[int, str, bool]:
        nursery = Nursery("test")
        await nursery.open()
        sibling = nursery.start_soon(asyncio.sleep(0.2), name="sibling")

        async def fail() -> int:
            raise ValueError("child failed")

        with pytest.raises(ValueError, match="child failed"):
            await nursery.run(fail(), name="failing")
        value = await nursery.run(asyncio.sleep(0, result=7), name="ok")
        await asyncio.sleep(0.3)
        done_ok = sibling.done() and not sibling.cancelled()
        await nursery.aclose()
        return value, "ok", done_ok

    assert asyncio.run(main()) == (7, "ok", True)


def test_closing_ends_every_child_and_the_waiting_caller_learns_why() -> None:
    started = asyncio.Event

    async def main() -> tuple[bool, bool]:
        nursery = Nursery("the owner")
        await nursery.open()
        flag = started()

        async def forever() -> None:
            flag.set()
            await asyncio.sleep(3600)

        background = nursery.start_soon(forever(), name="forever")
        caller = asyncio.ensure_future(nursery.run(asyncio.sleep(3600), name="long"))
        await flag.wait()
        await asyncio.sleep(0)
        await nursery.aclose()
        with pytest.raises(dojo_lite.EnvClosed, match="the owner was closed"):
            await caller
        with pytest.raises(dojo_lite.EnvClosed):
            nursery.start_soon(asyncio.sleep(0), name="late")
        return background.cancelled(), caller.cancelled()

    assert asyncio.run(main()) == (True, False)


def test_cancelling_the_caller_cancels_its_child_and_waits_for_it() -> None:
    async def main() -> list[str]:
        nursery = Nursery("test")
        log: list[str] = []

        async def child() -> None:
            try:
                await asyncio.sleep(3600)
            finally:
                await asyncio.sleep(0.05)  # cleanup that takes a while
                log.append("child cleaned up")

        caller = asyncio.ensure_future(nursery.run(child(), name="child"))
        await asyncio.sleep(0.05)
        caller.cancel()
        with pytest.raises(asyncio.CancelledError):
            await caller
        log.append("caller done")
        await nursery.aclose()
        return log

    assert asyncio.run(main()) == ["child cleaned up", "caller done"]


def test_fire_and_forget_failures_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        nursery = Nursery("test")
        await nursery.open()

        async def boom() -> None:
            raise RuntimeError("background bug")

        nursery.start_soon(boom(), name="boom")
        await asyncio.sleep(0.01)
        await nursery.aclose()

    with caplog.at_level(logging.ERROR, logger="dojo_lite"):
        asyncio.run(main())
    assert "background work 'boom' failed" in caplog.text and "background bug" in caplog.text


def test_start_soon_needs_an_open_nursery() -> None:
    async def main() -> None:
        with pytest.raises(dojo_lite.UsageError, match="async with"):
            Nursery("test").start_soon(asyncio.sleep(0), name="early")

    asyncio.run(main())


def test_a_child_cancelled_from_inside_shows_the_caller_a_cancellation() -> None:
    async def main() -> str:
        nursery = Nursery("test")

        async def quits() -> None:
            task = asyncio.current_task()
            assert task is not None
            task.cancel()
            await asyncio.sleep(1)

        try:
            await nursery.run(quits(), name="quits")
        except asyncio.CancelledError:
            return "cancelled"
        finally:
            await nursery.aclose()
        return "finished"

    assert asyncio.run(main()) == "cancelled"


def test_a_child_ended_before_its_first_step_still_answers_its_caller() -> None:
    # closing in the same loop iteration as the spawn: the child never runs, its caller must not hang
    async def main() -> BaseException | None:
        nursery = Nursery("the owner")
        caller = asyncio.ensure_future(nursery.run(asyncio.sleep(0, result=1), name="never started"))
        await asyncio.sleep(0)  # the caller spawned the child; the child has not run
        await nursery.aclose()
        done, _ = await asyncio.wait([caller], timeout=5)
        assert done, "the caller still waits after its nursery closed"
        return caller.exception()

    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # "coroutine ... was never awaited" fails the test
        outcome = asyncio.run(main())
    assert isinstance(outcome, dojo_lite.EnvClosed)
