"""One episode: its budgets, counters, best grade, history and trajectory."""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable
from typing import Any

import attrs

from ._metrics import Direction
from ._observation import Action, Observation, Status
from ._scores import Grade, Medal
from ._trajectory import TrajectoryWriter

__all__ = ["Episode", "RewardFn", "position_reward"]


@attrs.define
class Episode:
    """What one episode has done so far, and what it may still do (the env owns it; a reward
    function reads it).  Time spent queued in a scheduler is not charged to ``max_seconds``."""

    task: str
    max_steps: int
    max_seconds: float
    episode_id: str = attrs.field(factory=lambda: uuid.uuid4().hex[:12])
    started: float = attrs.field(factory=time.monotonic)
    queued_s: float = 0.0
    steps: int = 0
    best: Grade | None = None
    history: list[dict[str, Any]] = attrs.field(factory=list)
    trajectory: TrajectoryWriter | None = None

    def seconds_left(self) -> float:
        return self.max_seconds - (time.monotonic() - self.started - self.queued_s)

    def spent(self) -> bool:
        """Whether the step or the wall-clock budget is used up."""
        return self.steps >= self.max_steps or self.seconds_left() <= 0

    def exhausted(self) -> Observation:
        return Observation(Action.NONE, Status.BUDGET_EXHAUSTED,
                           f"The episode's budget is spent ({self.steps} of {self.max_steps} steps, "
                           f"{self.max_seconds:.0f} s): call reset() to start a new episode.")

    def improve(self, grade: Grade, direction: Direction) -> None:
        """Keep ``grade`` as the best if it beats the best so far."""
        best = self.best.score if self.best is not None else None
        if best is None or (grade.score is not None and direction.better(grade.score, best)):
            self.best = grade

    def info(self, grade: Grade | None) -> dict[str, Any]:
        """The ``info`` dict of a step that produced ``grade`` (None: nothing graded)."""
        best = self.best
        return {
            "task": self.task, "step": self.steps,
            "score": grade.score if grade else None,
            "position_score": grade.position_score if grade else None,
            "medal": grade.medal.value if grade else None,
            "best_score": best.score if best else None,
            "best_position_score": best.position_score if best else None,
            "best_medal": best.medal.value if best else Medal.NONE.value,
            "steps_left": max(0, self.max_steps - self.steps),
            "seconds_left": max(0, math.floor(self.seconds_left())),
        }

    def record(self, action: Any, obs: Observation, reward: float, truncated: bool,
               info: dict[str, Any], started: float, wall_s: float, *, note: dict[str, Any] | None = None) -> None:
        """Add the step to the history and the trajectory (with the agent's ``note``, if any)."""
        self.history.append({"step": self.steps, "action": obs.action.value, "status": obs.status.value,
                             "score": info["score"], "position_score": info["position_score"],
                             "medal": info["medal"], "reward": reward, "wall_s": round(wall_s, 3)})
        if self.trajectory is not None:
            self.trajectory.step(action=action, observation=obs.to_dict(), reward=reward,
                                 truncated=truncated, info=info, started=started, wall_s=wall_s, note=note)

    def end(self) -> None:
        """Close the trajectory with the episode's summary; idempotent."""
        trajectory, self.trajectory = self.trajectory, None
        if trajectory is not None:
            info = self.info(None)
            trajectory.close({key: info[key] for key in ("step", "best_score", "best_position_score", "best_medal")})


RewardFn = Callable[[Grade | None, Episode], float]


def position_reward(grade: Grade | None, episode: Episode) -> float:
    """The default reward: this execution's position score (0 when it could not be graded)."""
    return float(grade.position_score or 0.0) if grade is not None else 0.0
