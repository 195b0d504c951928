"""What a report shows, computed from trajectories: one view per episode, one summary per task.

Reading is streamed: :func:`read_episode` turns one trajectory file into an :class:`EpisodeView`
(every step, for the drill-down), and :class:`TaskTally` keeps only the numbers a task's
summary needs (a few floats per step), so a batch of a thousand episodes is never held whole.
"""

from __future__ import annotations

import json
import math
import os
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import attrs

from .._durations import percentile as _percentile
from .._errors import TrajectoryError
from .._trajectory import read_trajectory, trajectory_format

__all__ = ["ActionCost", "BatchRecord", "EpisodeView", "Rate", "StepView", "TaskSummary", "TaskTally",
           "expand_inputs", "read_batch", "read_episode"]

BATCH_PREFIX = "batch-"
_Z95 = 1.959963984540054  # the normal quantile of a two-sided 95% interval


@attrs.frozen
class Rate:
    """``hits`` of ``n`` episodes, with a 95% Wilson score interval (sound for small ``n`` and for
    rates of 0 or 1, where the normal approximation collapses to a point)."""

    hits: int
    n: int

    @property
    def value(self) -> float | None:
        return self.hits / self.n if self.n else None

    @property
    def interval(self) -> tuple[float, float] | None:
        if not self.n:
            return None
        p, n, z2 = self.hits / self.n, self.n, _Z95 * _Z95
        centre = (p + z2 / (2 * n)) / (1 + z2 / n)
        half = _Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
        return max(0.0, centre - half), min(1.0, centre + half)


@attrs.frozen
class StepView:
    """One step of an episode, as the report shows it."""

    step: int
    action: str
    status: str
    wall_s: float | None
    cpu_s: float | None
    peak_memory_bytes: int | None
    score: float | None
    position_score: float | None
    medal: str | None
    best_moved: bool  # this step improved the episode's best score
    code: str | None
    feedback: str
    stdout_tail: str
    stderr_tail: str
    traceback: str | None
    files: tuple[str, ...]
    note: str | None  # what the agent said about the step (the trajectory's "agent" field), as JSON


@attrs.frozen
class EpisodeView:
    """One episode: its header's facts, every step, and where it ended."""

    path: str
    task: str
    episode_id: str
    seed: Any
    created: str
    metric: str | None
    direction: str | None
    thresholds: dict[str, float] | None  # gold, silver, bronze, median, teams (None: no leaderboard known)
    steps: tuple[StepView, ...]  # empty in a TaskSummary: the drill-down renders them
    n_steps: int
    best_score: float | None
    best_position_score: float | None
    medal: str
    above_median: bool
    ended: bool  # it has an end record (it was not cut off by a crash)
    truncated: bool

    @property
    def any_medal(self) -> bool:
        return self.medal in ("gold", "silver", "bronze")


@attrs.frozen
class BatchRecord:
    """A batch run's record (``dojo-lite run --episodes N`` writes one): its episodes and the
    scheduler's stats at the end."""

    path: str
    task: str
    created: str
    trajectories: tuple[str, ...]
    scheduler: dict[str, Any]


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _action_parts(action: Any) -> tuple[str, str | None]:
    """The action's name and its code (if it carried any), whatever shape the agent sent."""
    if isinstance(action, str):
        try:
            action = json.loads(action)
        except json.JSONDecodeError:
            return "(not an action)", action
    if not isinstance(action, dict):
        return "(not an action)", _text(action)
    code = action.get("code")
    return _text(action.get("action")) or "(none)", None if code is None else _text(code)


def _step_view(record: dict[str, Any], best_before: float | None) -> StepView:
    observation = record.get("observation") or {}
    data = observation.get("data") or {}
    run = data.get("run") or {} if isinstance(data, dict) else {}
    info = record.get("info") or {}
    name, code = _action_parts(record.get("action"))
    note = record.get("agent")
    best_after = _number(info.get("best_score"))
    files = run.get("files") or ()
    return StepView(
        step=int(info.get("step") or record.get("step") or 0), action=name,
        status=_text(observation.get("status")) or "(none)",
        wall_s=_number(record.get("wall_s")), cpu_s=_number(run.get("cpu_s")),
        peak_memory_bytes=int(run["peak_memory_bytes"]) if _number(run.get("peak_memory_bytes")) else None,
        score=_number(info.get("score")), position_score=_number(info.get("position_score")),
        medal=info.get("medal") if isinstance(info.get("medal"), str) else None,
        best_moved=best_after is not None and best_after != best_before,
        code=code, feedback=_text(observation.get("feedback")),
        stdout_tail=_text(run.get("stdout_tail")), stderr_tail=_text(run.get("stderr_tail")),
        traceback=run.get("traceback") if isinstance(run.get("traceback"), str) else None,
        files=tuple(_text(name) for name in files) if isinstance(files, list) else (),
        note=None if note is None else json.dumps(note, indent=1, default=str),
    )


def _thresholds(header: dict[str, Any], records: Iterable[dict[str, Any]]) -> dict[str, float] | None:
    """The leaderboard's thresholds: from the header (format 1 writes them), else from a graded step."""
    board = header.get("leaderboard")
    if isinstance(board, dict):
        return {key: float(value) for key, value in board.items() if _number(value) is not None}
    for record in records:
        grade = ((record.get("observation") or {}).get("data") or {}).get("grade") or {}
        if isinstance(grade, dict) and isinstance(grade.get("thresholds"), dict):
            found = {key: float(v) for key, v in grade["thresholds"].items() if _number(v) is not None}
            if _number(grade.get("teams")) is not None:
                found["teams"] = float(grade["teams"])
            return found
    return None


def _above_median(records: Iterable[dict[str, Any]]) -> bool:
    for record in records:
        grade = ((record.get("observation") or {}).get("data") or {}).get("grade") or {}
        if isinstance(grade, dict) and grade.get("above_median") is True:
            return True
    return False


def read_episode(path: str | os.PathLike[str]) -> EpisodeView:
    """One trajectory file as an :class:`EpisodeView`. Raises :class:`~dojo_lite.TrajectoryError`
    for an unknown format version or a file with no episode header."""
    trajectory = read_trajectory(path)
    header = trajectory.header
    if not header:
        raise TrajectoryError(f"{path}: no episode header: not a dojo_lite trajectory")
    steps, best = [], None
    for record in trajectory.steps:
        step = _step_view(record, best)
        now = _number((record.get("info") or {}).get("best_score"))
        best = best if now is None else now
        steps.append(step)
    last_info = trajectory.steps[-1].get("info", {}) if trajectory.steps else {}
    end = trajectory.end or {}
    medal = end.get("best_medal") or last_info.get("best_medal") or "none"
    return EpisodeView(
        path=str(path), task=_text(header.get("task")) or "(unknown task)",
        episode_id=_text(header.get("episode_id")) or Path(path).stem, seed=header.get("seed"),
        created=_text(header.get("created")), metric=header.get("metric"), direction=header.get("direction"),
        thresholds=_thresholds(header, trajectory.steps), steps=tuple(steps), n_steps=len(steps),
        best_score=_number(end.get("best_score", last_info.get("best_score"))),
        best_position_score=_number(end.get("best_position_score", last_info.get("best_position_score"))),
        medal=medal if isinstance(medal, str) else "none", above_median=_above_median(trajectory.steps),
        ended=trajectory.end is not None,
        truncated=bool(trajectory.steps and trajectory.steps[-1].get("truncated")),
    )


def read_batch(path: str | os.PathLike[str]) -> BatchRecord:
    """A batch record written by ``dojo-lite run --episodes N`` (its trajectories' paths are
    relative to the record's folder, or absolute)."""
    try:
        record = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise TrajectoryError(f"{path}: not a batch record: {exc}") from exc
    if not isinstance(record, dict) or record.get("type") != "batch":
        raise TrajectoryError(f"{path}: not a batch record (no \"type\": \"batch\")")
    trajectory_format(record, path)  # the same version rule as trajectories
    folder = Path(path).parent
    paths = tuple(str(folder / item) for item in record.get("trajectories") or () if isinstance(item, str))
    stats = record.get("scheduler")
    return BatchRecord(path=str(path), task=_text(record.get("task")), created=_text(record.get("created")),
                       trajectories=paths, scheduler=stats if isinstance(stats, dict) else {})


def expand_inputs(paths: Iterable[str | os.PathLike[str]]) -> tuple[list[Path], list[BatchRecord]]:
    """Trajectory files and batch records from files and folders (searched recursively): every
    ``*.jsonl`` is a trajectory, every ``batch-*.json`` a batch record whose episodes are read too.
    Each file is read once however it was named; raises :class:`~dojo_lite.TrajectoryError` when
    a path does not exist or nothing was found."""
    found: dict[Path, None] = {}
    batches: list[BatchRecord] = []
    for given in paths:
        for path in _walk(Path(given)):
            if path.suffix == ".json":
                batch = read_batch(path)
                batches.append(batch)
                found.update(dict.fromkeys(Path(p).resolve() for p in batch.trajectories))
            else:
                found[path.resolve()] = None
    if not found:
        raise TrajectoryError("no trajectories found in " + ", ".join(map(str, paths)))
    return list(found), batches


def _walk(path: Path) -> Iterator[Path]:
    if path.is_dir():
        for child in sorted(path.rglob("*")):
            if child.is_file() and (child.suffix == ".jsonl" or _is_batch(child)):
                yield child
    elif path.is_file():
        yield path
    else:
        raise TrajectoryError(f"{path}: no such file or folder")


def _is_batch(path: Path) -> bool:
    return path.name.startswith(BATCH_PREFIX) and path.suffix == ".json"


@attrs.frozen
class ActionCost:
    """Time and resources of one kind of action across a task's episodes."""

    action: str
    count: int
    wall_p50_s: float | None
    wall_p95_s: float | None
    cpu_p50_s: float | None
    cpu_p95_s: float | None
    peak_memory_p50_bytes: float | None
    peak_memory_max_bytes: float | None


@attrs.frozen
class TaskSummary:
    """One task's episodes, aggregated as MLE-bench reports runs: rates of any medal and of
    beating the median, with 95% intervals over episodes; and where the time went."""

    task: str
    metric: str | None
    direction: str | None
    thresholds: dict[str, float] | None
    episodes: tuple[EpisodeView, ...]  # without their steps: the drill-down renders those
    best_position_scores: tuple[float, ...]  # of the episodes that scored
    any_medal: Rate
    gold: Rate
    above_median: Rate
    scored: Rate  # episodes with at least one graded submission (MLE-bench's "valid submission")
    costs: tuple[ActionCost, ...]
    statuses: dict[str, int]
    batches: tuple[BatchRecord, ...]

    @property
    def mean_position_score(self) -> tuple[float, float] | None:
        """The mean best position score over all episodes (0 for one that never scored) and the
        half-width of its 95% normal interval."""
        n = len(self.episodes)
        if not n:
            return None
        values = [e.best_position_score or 0.0 for e in self.episodes]
        mean = sum(values) / n
        spread = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else 0.0
        return mean, _Z95 * spread / math.sqrt(n)


@attrs.define
class TaskTally:
    """Accumulates a task's episodes one at a time (their steps are dropped once counted)."""

    task: str
    episodes: list[EpisodeView] = attrs.Factory(list)
    walls: dict[str, list[float]] = attrs.Factory(lambda: defaultdict(list))
    cpus: dict[str, list[float]] = attrs.Factory(lambda: defaultdict(list))
    memory: dict[str, list[float]] = attrs.Factory(lambda: defaultdict(list))
    counts: Counter[str] = attrs.Factory(Counter)
    statuses: Counter[str] = attrs.Factory(Counter)
    curves: list[list[float]] = attrs.Factory(list)  # per episode: the best position score after each step
    indices: list[int] = attrs.Factory(list)  # per episode: its place among all the report's episodes

    def add(self, episode: EpisodeView, index: int) -> None:
        best, curve = 0.0, []
        for step in episode.steps:
            best = max(best, step.position_score or 0.0)
            curve.append(best)
            self.counts[step.action] += 1
            self.statuses[step.status] += 1
            for samples, value in ((self.walls, step.wall_s), (self.cpus, step.cpu_s),
                                   (self.memory, step.peak_memory_bytes)):
                if value is not None:
                    samples[step.action].append(float(value))
        self.curves.append(curve)
        self.indices.append(index)
        self.episodes.append(attrs.evolve(episode, steps=()))

    def summary(self, batches: Iterable[BatchRecord]) -> TaskSummary:
        episodes = tuple(self.episodes)
        n = len(episodes)
        known = [e for e in episodes if e.thresholds] or episodes
        return TaskSummary(
            task=self.task, metric=known[0].metric, direction=known[0].direction,
            thresholds=known[0].thresholds, episodes=episodes,
            best_position_scores=tuple(e.best_position_score for e in episodes if e.best_position_score is not None),
            any_medal=Rate(sum(e.any_medal for e in episodes), n),
            gold=Rate(sum(e.medal == "gold" for e in episodes), n),
            above_median=Rate(sum(e.above_median for e in episodes), n),
            scored=Rate(sum(e.best_score is not None for e in episodes), n),
            costs=tuple(self._cost(action) for action in sorted(self.counts)),
            statuses=dict(self.statuses.most_common()),
            batches=tuple(b for b in batches if b.task == self.task),
        )

    def _cost(self, action: str) -> ActionCost:
        walls, cpus, memory = sorted(self.walls[action]), sorted(self.cpus[action]), sorted(self.memory[action])
        return ActionCost(action=action, count=self.counts[action],
                          wall_p50_s=_percentile(walls, 50), wall_p95_s=_percentile(walls, 95),
                          cpu_p50_s=_percentile(cpus, 50), cpu_p95_s=_percentile(cpus, 95),
                          peak_memory_p50_bytes=_percentile(memory, 50),
                          peak_memory_max_bytes=memory[-1] if memory else None)
