"""Building a built-in task's leaderboard from its population of solutions.

Each member of ``solutions/population.py``'s ``POPULATION`` runs in its own episode, in the
sandbox, on the full data, and is graded exactly as an agent's submission is.  A member that
fails (an error, an invalid submission) gets no entry, and is reported.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pandas as pd

from ._env import DojoEnv
from ._errors import TaskFormatError
from ._task import Task

__all__ = ["build_leaderboard", "population"]


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
    env = DojoEnv(task, max_steps=1, max_seconds=10 * task.limits.timeout, leaderboard=None)
    try:
        for team, code in population(task):
            await env.areset()
            obs, _, _, _, info = await env.astep({"action": "execute_code", "code": code})
            if info["score"] is None or not math.isfinite(info["score"]):
                log(f"{team}: no score ({obs['status']}): {obs['feedback'][-500:]}")
                continue
            rows.append((team, float(info["score"])))
            log(f"{team}: {info['score']:.6g}")
    finally:
        await env.aclose()
    rows.sort(key=lambda row: row[1], reverse=task.grading.direction.value == "maximize")
    if write and not rows:
        raise TaskFormatError(f"{task.id}: no member of the population got a score; leaderboard.csv is unchanged")
    if write:
        frame = pd.DataFrame(rows, columns=["team", "score"])
        frame.to_csv(task.path / "leaderboard.csv", index=False, lineterminator="\n")  # every digit: ties are exact
    return rows
