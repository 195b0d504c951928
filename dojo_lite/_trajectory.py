"""Trajectories: one JSON-lines file per episode, and replaying one.

Line 1 is ``{"type": "episode", ...}``: the file format's version (``format``, :data:`FORMAT_VERSION`),
the task, its version and data fingerprint, the episode id, the seed, and what grading compared against
(the metric, its direction, and the leaderboard's medal thresholds, median and size, or null),
then one ``{"type": "step", ...}`` per action (the action with its code, the observation, the
reward, ``truncated``, ``info``, the start time and the wall seconds it took), and, when the
episode ended cleanly, ``{"type": "end", ...}`` with the best scores.  Each line is flushed as it
is written, so a crashed or cancelled episode keeps what it did.

A header without ``format`` was written before the field existed: its records are those of version 1.
Readers refuse a version they do not know (:class:`~dojo_lite.TrajectoryError`) instead of guessing.
"""

from __future__ import annotations

import datetime
import json
import os
from pathlib import Path
from typing import IO, Any

import attrs

from ._errors import TrajectoryError
from ._task import Task

__all__ = ["FORMAT_VERSION", "Trajectory", "TrajectoryWriter", "read_trajectory", "trajectory_format",
           "write_batch_record"]

FORMAT_VERSION = 1


def _now(ts: float | None = None) -> str:
    moment = datetime.datetime.fromtimestamp(ts, datetime.UTC) if ts else datetime.datetime.now(datetime.UTC)
    return moment.isoformat(timespec="milliseconds")


def _grading_header(task: Task) -> dict[str, Any]:
    leaderboard = task.leaderboard()
    board = None
    if leaderboard is not None:
        board = {**attrs.asdict(leaderboard.thresholds()), "teams": len(leaderboard)}
    return {"metric": task.grading.metric, "direction": task.grading.direction.value, "leaderboard": board}


def trajectory_format(header: dict[str, Any], path: str | os.PathLike[str]) -> int:
    """The format version a trajectory's header declares (1 where it has none); raises
    :class:`~dojo_lite.TrajectoryError` for a version this dojo_lite does not know."""
    version = header.get("format", 1)
    if type(version) is not int or not 1 <= version <= FORMAT_VERSION:
        raise TrajectoryError(f"{path}: trajectory format version {version!r} is not one this dojo_lite reads "
                              f"(versions 1 to {FORMAT_VERSION}); read it with the dojo_lite that wrote it, "
                              "or a newer one")
    return version


@attrs.define
class TrajectoryWriter:
    """Appends an episode's records to its file."""

    path: Path
    handle: IO[str]

    @classmethod
    def open(cls, directory: str | os.PathLike[str], task: Task, episode_id: str, seed: int | None) -> TrajectoryWriter:
        path = Path(directory) / task.id.replace("/", "--") / f"{episode_id}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        writer = cls(path, path.open("x", encoding="utf-8"))
        writer._write({"type": "episode", "format": FORMAT_VERSION, "task": task.id, "task_version": task.version,
                       "fingerprint": task.fingerprint(), "episode_id": episode_id, "seed": seed,
                       "created": _now(), **_grading_header(task)})
        return writer

    def _write(self, record: dict[str, Any]) -> None:
        # ASCII escapes: lone surrogates (file names that are not UTF-8) survive the trip
        try:
            line = json.dumps(record, default=str)
        except (TypeError, ValueError):  # e.g. an action dict with non-string keys
            line = json.dumps({k: repr(v) if k in ("action", "agent") else v for k, v in record.items()}, default=str)
        self.handle.write(line + "\n")
        self.handle.flush()

    def step(self, *, action: Any, observation: dict[str, Any], reward: float, truncated: bool,
             info: dict[str, Any], started: float, wall_s: float, note: dict[str, Any] | None = None) -> None:
        record = {"type": "step", "step": info.get("step"), "time": _now(started), "wall_s": round(wall_s, 4),
                  "action": action, "observation": observation, "reward": reward,
                  "terminated": False, "truncated": truncated, "info": info}
        if note is not None:
            record["agent"] = note
        self._write(record)

    def close(self, summary: dict[str, Any]) -> None:
        if not self.handle.closed:
            self._write({"type": "end", "time": _now(), **summary})
            self.handle.close()


@attrs.frozen
class Trajectory:
    """A trajectory file, read back: its header, its steps and (if it ended cleanly) its end."""

    header: dict[str, Any]
    steps: tuple[dict[str, Any], ...]
    end: dict[str, Any] | None

    @property
    def actions(self) -> list[Any]:
        return [step["action"] for step in self.steps]

    @property
    def scores(self) -> list[float | None]:
        return [step["info"].get("score") for step in self.steps]


def read_trajectory(path: str | os.PathLike[str]) -> Trajectory:
    """Read a trajectory file (a torn last line, from a crash, is ignored).

    Raises :class:`~dojo_lite.TrajectoryError` when its header declares a format version this
    dojo_lite does not know."""
    header: dict[str, Any] = {}
    steps: list[dict[str, Any]] = []
    end = None
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        kind = record.get("type")
        if kind == "episode":
            header = record
        elif kind == "step":
            steps.append(record)
        elif kind == "end":
            end = record
    trajectory_format(header, path)
    return Trajectory(header, tuple(steps), end)


def write_batch_record(directory: str | os.PathLike[str], task: str, trajectories: list[str],
                       scheduler: dict[str, Any]) -> Path:
    """Record a batch of episodes (``dojo-lite run --episodes N``): its trajectories (relative to
    the record's folder where they lie under it) and the scheduler's stats at its end, as
    ``batches/batch-<time>-<random>.json`` under ``directory``. Returns its path."""
    folder = Path(directory) / "batches"
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%S")
    path = folder / f"batch-{stamp}-{os.urandom(3).hex()}.json"
    record = {"type": "batch", "format": FORMAT_VERSION, "task": task, "created": _now(),
              "trajectories": [os.path.relpath(t, folder) for t in trajectories], "scheduler": scheduler}
    path.write_text(json.dumps(record, default=str, indent=1), encoding="utf-8")
    return path
