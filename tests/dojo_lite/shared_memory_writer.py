"""The writer process of test_spaces.py's shared-memory test, in a module of its own: a spawned
child imports its target by module name, and this one imports nothing of the tests (test_spaces
imports ``conftest``, a name that resolves to another file on a spawned child's path)."""

from __future__ import annotations

from typing import Any

import gymnasium
from gymnasium.vector.utils import write_to_shared_memory


def post_and_wait(shared: Any, space: gymnasium.Space[Any], values: list[Any], done: Any) -> None:
    """Write ``values`` to the slots of ``shared``, then stay alive until ``done`` (a worker
    outlives its last write too)."""
    for index, value in enumerate(values):
        write_to_shared_memory(space, index, value, shared)
    done.wait(60)
