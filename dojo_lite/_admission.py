"""Admission of runs against CPU, memory and GPU budgets, with a fair queue.

Pure bookkeeping (no processes), so that its guarantees can be tested with thousands of random
requests: what is granted never exceeds a budget, and no request is overtaken more than
``max_overtakes`` times.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import time
from collections.abc import Callable, Sequence

import attrs

import sandbox

from ._errors import ConfigError, translated

__all__ = ["Admission", "GpuNeed", "GpuSlot", "Grant", "Request", "Usage"]


def _size(value: int | str) -> int:
    with translated():
        return sandbox.parse_size(value)


@attrs.frozen
class GpuNeed:
    """A run's GPU need: a whole device, or a share of one with a memory cap."""

    memory_bytes: int | None = attrs.field(default=None, converter=attrs.converters.optional(_size))
    whole: bool = False

    def __attrs_post_init__(self) -> None:
        if not self.whole and self.memory_bytes is None:
            raise ConfigError("a GPU share needs memory_bytes (or ask for whole=True)")


@attrs.frozen
class GpuSlot:
    """One device the scheduler may hand out; ``memory_bytes`` None means unknown (whole only)."""

    index: int
    memory_bytes: int | None


@attrs.frozen
class Request:
    """What one run needs while it runs."""

    episode: str
    cpus: float
    memory_bytes: int
    gpu: GpuNeed | None = None


@attrs.frozen
class Grant:
    """An admitted request: what it holds (release it with :meth:`Admission.release`)."""

    request: Request
    gpu: sandbox.GpuRequest | None
    waited_s: float
    ticket: int  # the order it arrived in
    order: int   # the order it was admitted in


@attrs.define
class Usage:
    """What is held now, and the time integrals that make utilisation."""

    cpus: float = 0.0
    memory_bytes: int = 0
    gpu_memory: dict[int, int] = attrs.field(factory=dict)
    gpu_whole: set[int] = attrs.field(factory=set)
    gpu_shares: dict[int, int] = attrs.field(factory=dict)


@attrs.define
class _Waiter:
    request: Request
    ticket: int
    enqueued: float
    future: asyncio.Future[Grant]
    overtaken: int = 0


class Admission:
    """Admits requests against budgets; what does not fit waits in a fair queue.

    The queue is served in arrival order, and an episode re-enters at the back after each run,
    so episodes take turns (round-robin), whatever their number of runs.  A request that does
    not fit may be overtaken by smaller ones behind it (so the budgets stay busy), but only
    ``max_overtakes`` times: after that, nothing behind it is admitted until it is.

    ``clock`` gives the time in seconds (any origin, never going back) for every time reading here,
    ``Grant.waited_s`` among them: tests pass a fake one, a scheduler the clock its event loop runs on.
    """

    def __init__(self, *, cpus: float, memory_bytes: int, gpus: Sequence[GpuSlot] = (),
                 max_overtakes: int = 8, clock: Callable[[], float] = time.monotonic) -> None:
        self.cpus = cpus
        self.memory_bytes = memory_bytes
        self.gpus = {slot.index: slot for slot in gpus}
        self.max_overtakes = max_overtakes
        self.clock = clock
        self.usage = Usage()
        self._queue: collections.deque[_Waiter] = collections.deque()
        self._tickets = itertools.count()
        self.granted = 0
        self.max_queue = 0

    # ------------------------------------------------------------ API

    def check(self, request: Request) -> None:
        """Raise ConfigError for a request that could never be admitted (it would wait forever)."""
        if request.cpus > self.cpus or request.memory_bytes > self.memory_bytes:
            raise ConfigError(
                f"a run needs {request.cpus:g} CPUs and {request.memory_bytes >> 20} MiB; the scheduler has "
                f"{self.cpus:g} CPUs and {self.memory_bytes >> 20} MiB in all")
        if request.gpu is not None and not any(self._fits_device(slot, request.gpu, empty=True)
                                               for slot in self.gpus.values()):
            raise ConfigError(f"no GPU of this scheduler can hold {request.gpu}")

    async def acquire(self, request: Request) -> Grant:
        """Wait until ``request`` fits, then hold it.  Cancelling the wait leaves nothing held."""
        self.check(request)
        loop = asyncio.get_running_loop()
        waiter = _Waiter(request, next(self._tickets), self.clock(), loop.create_future())
        self._queue.append(waiter)
        self.max_queue = max(self.max_queue, len(self._queue))
        self._dispatch()
        try:
            return await waiter.future
        except asyncio.CancelledError:
            if waiter in self._queue:
                self._queue.remove(waiter)
            elif waiter.future.done() and not waiter.future.cancelled():
                self.release(waiter.future.result())  # granted just as it was cancelled
            self._dispatch()
            raise

    def release(self, grant: Grant) -> None:
        """Give back what ``grant`` holds, and admit what now fits."""
        usage, request, need = self.usage, grant.request, grant.request.gpu
        usage.cpus -= request.cpus
        usage.memory_bytes -= request.memory_bytes
        if grant.gpu is not None and need is not None:
            index = grant.gpu.devices[0]
            if need.whole:
                usage.gpu_whole.discard(index)
            else:
                usage.gpu_memory[index] -= need.memory_bytes or 0
                usage.gpu_shares[index] -= 1
        self._dispatch()

    @property
    def queue_length(self) -> int:
        return len(self._queue)

    # ------------------------------------------------------------ the queue

    def _dispatch(self) -> None:
        unfit: list[_Waiter] = []  # waiting ahead of the one being looked at
        for waiter in list(self._queue):
            if self.usage.cpus >= self.cpus - 1e-9:
                return  # nothing fits while every CPU is held: keeps a long queue cheap
            if waiter.future.done():  # cancelled while waiting
                self._queue.remove(waiter)
                continue
            device = self._place(waiter.request)
            if device is False:
                unfit.append(waiter)
                if waiter.overtaken >= self.max_overtakes:
                    return  # it has been overtaken enough: nothing behind it goes first
                continue
            self._queue.remove(waiter)
            self._grant(waiter, device)
            for ahead in unfit:
                ahead.overtaken += 1
            if unfit and unfit[0].overtaken >= self.max_overtakes:  # the first is the most overtaken
                return

    def _grant(self, waiter: _Waiter, device: int | None) -> None:
        request, usage = waiter.request, self.usage
        usage.cpus += request.cpus
        usage.memory_bytes += request.memory_bytes
        gpu = None
        if device is not None and request.gpu is not None:
            if request.gpu.whole:
                usage.gpu_whole.add(device)
                gpu = sandbox.GpuRequest((device,))  # type: ignore[arg-type]  # attrs converter
            else:
                usage.gpu_memory[device] = usage.gpu_memory.get(device, 0) + (request.gpu.memory_bytes or 0)
                usage.gpu_shares[device] = usage.gpu_shares.get(device, 0) + 1
                gpu = sandbox.GpuRequest((device,), memory_bytes=request.gpu.memory_bytes)  # type: ignore[arg-type]
        waiter.future.set_result(Grant(request, gpu, self.clock() - waiter.enqueued, waiter.ticket, self.granted))
        self.granted += 1

    def _place(self, request: Request) -> int | bool | None:
        """The device a request would get (None: it needs none), or False if it does not fit now."""
        usage = self.usage
        if usage.cpus + request.cpus > self.cpus + 1e-9:
            return False
        if usage.memory_bytes + request.memory_bytes > self.memory_bytes:
            return False
        if request.gpu is None:
            return None
        fits = [slot for slot in self.gpus.values() if self._fits_device(slot, request.gpu)]
        if not fits:
            return False
        # Spread: the device with the most memory free (then the fewest runs).
        best = max(fits, key=lambda s: ((s.memory_bytes or 0) - usage.gpu_memory.get(s.index, 0),
                                        -usage.gpu_shares.get(s.index, 0), -s.index))
        return best.index

    def _fits_device(self, slot: GpuSlot, need: GpuNeed, *, empty: bool = False) -> bool:
        usage = self.usage
        whole_taken = not empty and slot.index in usage.gpu_whole
        shared = 0 if empty else usage.gpu_shares.get(slot.index, 0)
        if need.whole:
            return not whole_taken and shared == 0
        if whole_taken or slot.memory_bytes is None:
            return False
        used = 0 if empty else usage.gpu_memory.get(slot.index, 0)
        return used + (need.memory_bytes or 0) <= slot.memory_bytes
