"""Owned background work: every task dojo_lite starts belongs to a nursery that outlives it.

In the spirit of trio's nurseries, on ``asyncio.TaskGroup``: the owner enters the nursery when it
starts and closes it when it ends, and closing cancels and awaits everything still running in it,
so nothing outlives its owner.  Unlike a bare TaskGroup, one child's failure does not cancel its
siblings (an episode that fails must not end the others): a child's outcome goes to whoever
awaits it (:meth:`Nursery.run`), or to the log for fire-and-forget work (:meth:`start_soon`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any, TypeVar

from ._errors import EnvClosed, UsageError

__all__ = ["Nursery", "shielded"]

_log = logging.getLogger("dojo_lite")
T = TypeVar("T")


class Nursery:
    """A TaskGroup held open for the owner's lifetime: ``await n.open()`` ... ``await n.aclose()``."""

    def __init__(self, owner: str) -> None:
        self.owner = owner
        self._group: asyncio.TaskGroup | None = None
        self._children: set[asyncio.Task[Any]] = set()
        self._closed = False

    async def open(self) -> None:
        """Enter the TaskGroup (from the owner's task); idempotent."""
        if self._group is None and not self._closed:
            self._group = asyncio.TaskGroup()
            await self._group.__aenter__()

    @property
    def closed(self) -> bool:
        return self._closed

    def start_soon(self, coro: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        """Run ``coro`` in the background, owned by this nursery; an exception is logged."""
        self._check(coro)
        return self._spawn(self._logged(coro, name), coro, name)

    async def run(self, coro: Coroutine[Any, Any, T], name: str) -> T:
        """Run ``coro`` as a child of this nursery and return its result (or raise its error).

        Cancelling the caller cancels the child and waits for it to finish; closing the nursery
        cancels the child, and the caller then gets :class:`EnvClosed` (it was not cancelled);
        a child cancelled otherwise (from inside) makes the caller see ``CancelledError``.
        """
        await self.open()
        self._check(coro)
        outcome: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        child = self._spawn(self._settle(coro, outcome), coro, name)
        child.add_done_callback(lambda _: self._unsettled(outcome))
        try:
            return await asyncio.shield(outcome)
        except asyncio.CancelledError:
            if not outcome.done():  # the caller was cancelled, not the child
                child.cancel()
                await shielded(asyncio.wait([child]))
            raise

    async def aclose(self) -> None:
        """Cancel every child and wait for all of them; idempotent."""
        self._closed = True
        for child in list(self._children):
            child.cancel()
        group, self._group = self._group, None
        if group is not None:
            await group.__aexit__(None, None, None)

    # ------------------------------------------------------------------ internals

    def _check(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Refuse (closing ``coro``, so it is not left unawaited) unless the nursery is open."""
        if self._closed or self._group is None:
            coro.close()
            if self._closed:
                raise EnvClosed(f"{self.owner} is closed")
            raise UsageError(f"{self.owner} is not open yet: use it as `async with ...`")

    def _spawn(self, wrapper: Coroutine[Any, Any, None], coro: Coroutine[Any, Any, Any],
               name: str) -> asyncio.Task[None]:
        assert self._group is not None  # _check came first
        child = self._group.create_task(wrapper, name=f"{self.owner}: {name}")
        self._children.add(child)
        child.add_done_callback(self._children.discard)
        # A child cancelled before its first step never ran ``coro``: close it (no "never awaited").
        child.add_done_callback(lambda _: coro.close())
        return child

    def _unsettled(self, outcome: asyncio.Future[Any]) -> None:
        """The child ended without settling ``outcome`` (cancelled before it started)."""
        if not outcome.done():
            if self._closed:
                outcome.set_exception(EnvClosed(f"{self.owner} was closed while this ran"))
            else:
                outcome.cancel()

    async def _settle(self, coro: Coroutine[Any, Any, T], outcome: asyncio.Future[T]) -> None:
        # The outcome goes to the caller, never to the group: one child's error ends no sibling.
        try:
            result = await coro
        except asyncio.CancelledError:
            if self._closed and not outcome.done():  # closing ended it: the caller was not cancelled
                outcome.set_exception(EnvClosed(f"{self.owner} was closed while this ran"))
            outcome.cancel()  # else it was cancelled (by its caller, or from inside): so is the outcome
            raise
        except BaseException as exc:
            if not outcome.done():
                outcome.set_exception(exc)
        else:
            if not outcome.done():
                outcome.set_result(result)

    async def _logged(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        try:
            await coro
        except asyncio.CancelledError:
            raise
        except Exception:
            _log.exception("dojo_lite: %s: background work %r failed", self.owner, name)


async def shielded[R](aw: Coroutine[Any, Any, R]) -> R:
    """Await ``aw`` to its end even if cancelled meanwhile (a shielded cancel scope, for cleanup
    that must finish: closing a pool, an episode's env), then re-raise the cancellation.  Unlike a
    bare ``asyncio.shield``, a second cancellation cannot cut the wait short."""
    task = asyncio.ensure_future(aw)
    cancelled = False
    while True:
        try:
            result = await asyncio.shield(task)
        except asyncio.CancelledError:
            if task.done():
                raise  # the work itself was cancelled
            cancelled = True
            continue
        if cancelled:
            raise asyncio.CancelledError
        return result
