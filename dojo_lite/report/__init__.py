"""Reports of what agents did: ``dojo-lite report`` and :func:`write_report`.

One self-contained HTML page (it loads nothing from the network) from trajectories, folders of
them, and the batch records ``dojo-lite run --episodes N`` writes: per task, the distribution of
best position scores, medal and above-median rates with 95% intervals, time and resources per
step and the scheduler's stats; per episode, the score and position score per step against the
leaderboard's medal thresholds, every step, and every run's code, diff, outputs and feedback.
"""

from .._errors import TrajectoryError as TrajectoryError
from ._render import render_report as render_report
from ._render import write_report as write_report

__all__ = ["TrajectoryError", "render_report", "write_report"]
