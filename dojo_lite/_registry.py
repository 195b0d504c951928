"""Gymnasium registration and ``dojo_lite.make``."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import gymnasium

from ._env import DojoEnv
from ._task import list_tasks

__all__ = ["gym_id", "make", "register_tasks"]

NAMESPACE = "dojo_lite"


def gym_id(task_id: str) -> str:
    """The Gymnasium id of a task: ``dojo_lite/<domain>.<name>`` (Gymnasium ids allow one ``/``)."""
    return f"{NAMESPACE}/{task_id.replace('/', '.')}"


def register_tasks(task_path: Sequence[str | os.PathLike[str]] = ()) -> list[str]:
    """Register every task on the search path with Gymnasium; returns their Gymnasium ids.

    Done for the built-in tasks (and ``$DOJO_LITE_TASKS``) when ``dojo_lite`` is imported, so
    ``gymnasium.make("dojo_lite/tabular.titanic-survival")`` works after ``import dojo_lite``
    (or directly as ``gymnasium.make("dojo_lite:dojo_lite/tabular.titanic-survival")``).
    """
    ids = []
    for task in list_tasks(task_path):
        ids.append(gym_id(task.id))
        if ids[-1] not in gymnasium.registry:
            gymnasium.register(id=ids[-1], entry_point="dojo_lite._env:DojoEnv", kwargs={"task": task},
                               nondeterministic=False)
    return ids


def make(task: str, **kwargs: Any) -> DojoEnv:
    """A :class:`DojoEnv` for ``task`` (an id like ``tabular/titanic-survival``), unwrapped, so
    its async twins are at hand.  Keyword arguments go to :class:`DojoEnv`."""
    return DojoEnv(task, **kwargs)
