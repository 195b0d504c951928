"""Fixtures shared by every test: one event loop for the session, and marker skips."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def runner() -> Iterator[asyncio.Runner]:
    """The session's event loop: every pool of the session lives on it.

    pytest-asyncio is not used: a test drives coroutines with ``runner.run(...)``.
    """
    with asyncio.Runner() as loop_runner:
        yield loop_runner


@pytest.fixture
def traversable_root() -> Iterator[None]:
    """The pyenv interpreter lives under /root (0700): let uid 65534 traverse it (o+x, not list)
    for one test, as an admin would for runs that are not jailed."""
    mode = os.stat("/root").st_mode & 0o7777
    os.chmod("/root", mode | 0o001)
    yield
    os.chmod("/root", mode)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("root") and os.geteuid() != 0:
        pytest.skip("needs root (the jail maps its user to uid 65534 only as root)")
    if item.get_closest_marker("gpu") and not (shutil.which("nvidia-smi") and os.path.exists("/dev/nvidia0")):
        pytest.skip("needs an NVIDIA GPU")
