"""The zygote's heap in huge pages: a fork copies one page-table entry per 2 MiB instead of one
per 4 KiB (the floor of a run; ``benchmarks/`` measures how much it saves), and nothing else
changes for the runs."""

from __future__ import annotations

import ctypes
import mmap
import platform
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from jailtools import Driver, describe

import sandbox
from sandbox._zygote import HUGE_PAGE, collapse_heap

THP = Path("/sys/kernel/mm/transparent_hugepage/enabled")


def _unsupported() -> str | None:
    release = tuple(int(part) for part in re.findall(r"\d+", platform.release())[:2])
    if release < (6, 1):
        return f"MADV_COLLAPSE came in Linux 6.1; this is {platform.release()}"
    if not THP.exists() or "[never]" in THP.read_text():
        return "transparent huge pages are off on this host"
    return None


pytestmark = pytest.mark.skipif(_unsupported() is not None, reason=_unsupported() or "")


def _huge_kb(smaps: str, address: int) -> int:
    """AnonHugePages (kB) of the mapping of ``smaps`` that holds ``address``."""
    inside = False
    for line in smaps.splitlines():
        bounds = re.match(r"([0-9a-f]+)-([0-9a-f]+) ", line)
        if bounds:
            inside = int(bounds[1], 16) <= address < int(bounds[2], 16)
        elif inside and line.startswith("AnonHugePages:"):
            return int(line.split()[1])
    raise AssertionError(f"no mapping holds {address:#x}")


def _rollup_huge_kb(pid: int) -> int:
    text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    return int(re.search(r"^AnonHugePages:\s+(\d+) kB", text, re.M)[1])  # type: ignore[index]


def test_collapse_heap_backs_private_anonymous_memory_with_huge_pages() -> None:
    size = 8 * HUGE_PAGE
    region = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE)
    region.write(bytes(range(256)) * (size // 256))
    view = ctypes.c_char.from_buffer(region)
    address = ctypes.addressof(view)
    try:
        if "[madvise]" in THP.read_text():  # under "always" the kernel may have used huge pages already
            assert _huge_kb(Path("/proc/self/smaps").read_text(), address) == 0
        assert collapse_heap(60.0) >= 12
        # The region is 8 huge pages long; unaligned, its first and last are cut off.
        assert _huge_kb(Path("/proc/self/smaps").read_text(), address) >= 6 * HUGE_PAGE // 1024
        assert region[:] == bytes(range(256)) * (size // 256)  # the same bytes, in other pages
    finally:
        del view
        region.close()


def test_the_zygote_is_ready_with_its_preloaded_heap_in_huge_pages(fresh_pool: Callable[..., Driver]) -> None:
    driver = fresh_pool(preload=["numpy"], spares=0, name="heap")
    zygote = driver.zygote()
    # numpy's heap is small and in pieces (most of its 80 MiB of mappings is reserved, never
    # written, and is left so): a few huge pages of it.  Without the collapse there are none
    # (the kernel backs nothing with huge pages unasked in "madvise" mode).
    ready = driver.pool._zygote.ready  # type: ignore[union-attr]
    assert ready["huge_pages_mb"] >= 2, ready
    assert _rollup_huge_kb(zygote.pid) >= HUGE_PAGE // 1024
    # Runs from the collapsed heap work as before, and each writes to it without harm.
    for _ in range(3):
        result = driver.run("import numpy\nprint(int(numpy.arange(10).sum()))")
        assert result.status is sandbox.RunStatus.OK, describe(result)
        assert result.stdout.text == "45\n"
    driver.assert_healthy()
