"""Gymnasium registration and ``dojo_lite.make``.

Registration is lazy: importing ``dojo_lite`` registers an id for every task folder on the search
path from the folders' names alone, and nothing is parsed until an env is made.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Any

import gymnasium

from ._env import DojoEnv
from ._task import GYM_NAMESPACE, task_ids

__all__ = ["gym_id", "make", "register_tasks"]

_log = logging.getLogger("dojo_lite")


def gym_id(task_id: str) -> str:
    """The Gymnasium id of a task: ``dojo_lite/<domain>.<name>`` (Gymnasium ids allow one ``/``)."""
    return f"{GYM_NAMESPACE}/{task_id.replace('/', '.')}"


def register_tasks(task_path: Sequence[str | os.PathLike[str]] = ()) -> list[str]:
    """Register every task on the search path with Gymnasium; returns their Gymnasium ids.

    Done for the built-in tasks (and ``$DOJO_LITE_TASKS``) when ``dojo_lite`` is imported, so
    ``gymnasium.make("dojo_lite/tabular.titanic-survival")`` works after ``import dojo_lite``
    (or directly as ``gymnasium.make("dojo_lite:dojo_lite/tabular.titanic-survival")``).  Only
    folder names are read here; the task itself is loaded (and checked) by ``gymnasium.make``.
    """
    roots = [os.fspath(p) for p in task_path]
    ids = []
    for task_id in task_ids(task_path):
        name = gym_id(task_id)
        if gymnasium.envs.registration.parse_env_id(name)[2] is not None:
            # Gymnasium would read "-v2" as a version of another env: reachable by its task id only
            _log.warning("dojo_lite: task %s is not registered with Gymnasium: %r reads as a versioned id",
                         task_id, name)
            continue
        ids.append(name)
        if name not in gymnasium.registry:
            gymnasium.register(id=name, entry_point="dojo_lite._env:DojoEnv",
                               kwargs={"task": task_id, "task_path": roots}, nondeterministic=False)
    return ids


def make(task: str, **kwargs: Any) -> DojoEnv:
    """A :class:`DojoEnv` for ``task`` (``tabular/titanic-survival``, or its Gymnasium id).

    Unlike ``gymnasium.make``, the env comes unwrapped, so its async twins (``areset``,
    ``astep``, ``aclose``) and its attributes are at hand; ``gymnasium.make`` wraps the same env
    in Gymnasium's ``PassiveEnvChecker`` and ``OrderEnforcing`` (reach it with ``.unwrapped``)
    and forwards keyword arguments to it the same way.  Keyword arguments go to :class:`DojoEnv`.
    """
    return DojoEnv(task, **kwargs)
