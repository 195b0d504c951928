"""Building a built-in task's leaderboard from its population of solutions.

Each member of ``solutions/population.py``'s ``POPULATION`` runs in its own episode, in the
sandbox, on the full data, and is graded exactly as an agent's submission is.  A member that
fails (an error, an invalid submission) gets no entry, and is reported.
"""

from __future__ import annotations

import math
import os
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

import pandas as pd

from ._backend import Backend
from ._env import DojoEnv
from ._errors import TaskFormatError
from ._task import Task

__all__ = ["build_leaderboard", "population", "run_solutions"]


def population(task: Task) -> list[tuple[str, str]]:
    """``POPULATION`` from the task's ``solutions/population.py``: (team, code) pairs."""
    members = list(getattr(task.module("solutions/population.py"), "POPULATION", []))
    if not members or not all(isinstance(m, tuple) and len(m) == 2 for m in members):
        raise TaskFormatError(f"{task.id}: solutions/population.py: POPULATION must be a non-empty list of "
                              "(team, code) pairs")
    return members


async def build_leaderboard(task: Task, *, log: Callable[[str], Any] = lambda _: None,
                            write: bool = True) -> list[tuple[str, float]]:
    """Run the population, write ``leaderboard.csv`` (``team,score``, best first) if ``write``,
    and return the rows."""
    rows: list[tuple[str, float]] = []
    async for team, score, obs in run_solutions(task, population(task)):
        if score is None:
            log(f"{team}: no score ({obs['status']}): {obs['feedback'][-500:]}")
            continue
        rows.append((team, score))
        log(f"{team}: {score:.6g}")
    rows.sort(key=lambda row: row[1], reverse=task.grading.direction.value == "maximize")
    if write and not rows:
        raise TaskFormatError(f"{task.id}: no member of the population got a score; leaderboard.csv is unchanged")
    if write:
        frame = pd.DataFrame(rows, columns=["team", "score"])
        frame.to_csv(task.path / "leaderboard.csv", index=False, lineterminator="\n")  # every digit: ties are exact
    return rows


async def run_solutions(
    task: Task, members: Iterable[tuple[str, str]], *, variant: str = "full",
    cache: str | os.PathLike[str] | None = None, backend: Backend | None = None,
) -> AsyncIterator[tuple[str, float | None, dict[str, Any]]]:
    """Run each (name, code) member in an episode of its own (one env, one pool) on ``variant``'s
    data, graded as an agent's submission is, and yield its name, its finite score (None without
    one) and the observation, as each one finishes."""
    env = DojoEnv(task, variant=variant, max_steps=1, max_seconds=10 * task.limits.timeout, leaderboard=None,
                  cache=cache, backend=backend)
    try:
        for name, code in members:
            await env.areset()
            obs, _, _, _, info = await env.astep({"action": "execute_code", "code": code})
            score = info["score"]
            yield name, float(score) if score is not None and math.isfinite(score) else None, obs
    finally:
        await env.aclose()
