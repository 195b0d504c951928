"""Pools for the sandbox tests.

``bare`` is one pool without preloads for the whole session.  It keeps no
spare child (``spares=0``): after a run returns, the zygote must be the pool's
only process, which makes "nothing outlives the run" a sharp check.
``fresh_pool`` makes pools a test may break (kill the zygote, close them).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from jailtools import BARE_LIMITS, Driver


@pytest.fixture(scope="session")
def bare(runner: asyncio.Runner) -> Iterator[Driver]:
    driver = Driver.start(runner, limits=BARE_LIMITS, spares=0, name="bare")
    if not driver.pool.jailed:
        driver.close()
        message = f"the jail does not start on this host: {driver.pool.warnings}"
        if os.geteuid() == 0:
            pytest.fail(message)
        pytest.skip(message + " (not root: run `python -m sandbox doctor`)")
    yield driver
    driver.close()


@pytest.fixture
def fresh_pool(runner: asyncio.Runner) -> Iterator[Callable[..., Driver]]:
    """Start pools for one test; whatever is still open is closed afterwards."""
    started: list[Driver] = []

    def start(**kwargs: Any) -> Driver:
        kwargs.setdefault("limits", BARE_LIMITS)
        kwargs.setdefault("name", "fresh")
        driver = Driver.start(runner, **kwargs)
        started.append(driver)
        return driver

    yield start
    for driver in started:
        driver.close()
