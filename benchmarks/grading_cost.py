"""Grading cost: ``read_submission`` + ``score_submission`` on the pandas path against the fast one.

For each built-in task named (default: one per metric family) and each variant (micro, full), a
seeded random submission of the right kind is written once and graded again and again in this
process: with ``FAST_MAX_ROWS = 0`` (the pandas path, as before the fast path existed) and with the
default threshold. Reported per grading, in ms: the best of ``--rounds`` means of ``--repeat``
gradings (best, because the host is shared: the minimum is the least disturbed), both paths, and
whether both gave the same score bit for bit.

``--profile`` adds where the time goes on each path: cProfile's cumulative time of each stage,
scaled to the unprofiled total (the profiler's overhead spreads over the stages about evenly).
Run it from the repository root::

    .venv/bin/python benchmarks/grading_cost.py
    .venv/bin/python benchmarks/grading_cost.py --profile tabular/titanic-survival
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import struct
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import dojo_lite
from dojo_lite import _grading
from dojo_lite._grading import read_submission, score_submission

TASKS = ("tabular/titanic-survival", "tabular/penguins-species", "tabular/ames-house-prices", "vision/digits",
         "timeseries/sunspots-monthly")
PATHS = {"pandas": 0, "fast": _grading.FAST_MAX_ROWS}
# stage -> the functions whose cumulative time it is, on either path ("name@caller": only the calls
# from that caller; "*" any function of _metrics.py); "other" is the rest
STAGES = {
    "read bytes, decode, shape": ("_read_bytes", "_decode", "_check_shape"),
    "parse (pd.read_csv | csv)": ("_parse_csv", "_split_csv"),
    "header": ("_check_columns",),
    "ids: keys, match, order": ("_check_ids", "_keys@_read_frame", "_small_keys@_read_small",
                                "_text_keys@_read_small", "_row_order"),
    "predictions: checks": ("_predictions", "_small_predictions"),
    "score: arrays": ("_arrays",),
    "score: metric": ("*@score_submission",),
}


def submission(task: dojo_lite.Task, answers: pd.DataFrame, folder: Path) -> None:
    """A seeded random submission of the task's kind, every id once, written to ``folder``."""
    spec, rng = task.grading, np.random.default_rng(0)
    ids = answers[spec.id_column]
    frame = pd.DataFrame({spec.id_column: ids})
    for column in spec.prediction_columns:
        if spec.prediction_kind.value == "label":
            frame[column] = rng.choice(np.array(spec.labels or answers[spec.answer_column].unique()), len(ids))
        else:
            frame[column] = rng.random(len(ids)) * (1 if spec.prediction_kind.value == "probability" else 100)
    frame.to_csv(folder / "submission.csv", index=False)


def grader(task: dojo_lite.Task, answers: pd.DataFrame, folder: Path) -> Callable[[], float]:
    spec, custom = task.grading, task.custom_grader()
    return lambda: score_submission(spec, read_submission(folder, spec, answers[spec.id_column]), answers, custom)


def best_ms(grade: Callable[[], float], repeat: int, rounds: int) -> float:
    means = []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(repeat):
            grade()
        means.append((time.perf_counter() - started) * 1000 / repeat)
    return min(means)


def stages(grade: Callable[[], float], repeat: int, total_ms: float) -> dict[str, float]:
    """ms per grading in each stage, cProfile's shares scaled to ``total_ms``."""
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(repeat):
        grade()
    profile.disable()
    stats: dict[Any, Any] = pstats.Stats(profile).stats  # type: ignore[attr-defined]

    def cumulative(entry: str) -> float:
        name, _, caller = entry.partition("@")
        seconds = 0.0
        for (file, _, function), (_, _, _, cum, callers) in stats.items():
            if function == name or (name == "*" and file.endswith("_metrics.py")):
                seconds += cum if not caller else sum(c[3] for (_, _, f), c in callers.items() if f == caller)
        return seconds

    whole = cumulative("read_submission") + cumulative("score_submission")
    shares = {stage: sum(map(cumulative, entries)) / whole for stage, entries in STAGES.items()}
    shares["other (frames, columns, dispatch)"] = 1 - sum(shares.values())
    return {stage: round(share * total_ms, 3) for stage, share in shares.items()}


def measure(task_id: str, variant: str, args: argparse.Namespace) -> dict[str, Any]:
    task = dojo_lite.find_task(task_id)
    answers = task.prepare(variant).answers()
    row: dict[str, Any] = {"task": task_id, "variant": variant, "rows": len(answers), "metric": task.grading.metric}
    scores = {}
    with tempfile.TemporaryDirectory(prefix="grading-cost-") as folder:
        submission(task, answers, Path(folder))
        grade = grader(task, answers, Path(folder))
        for path, limit in PATHS.items():
            _grading.FAST_MAX_ROWS = limit
            scores[path] = grade()
            row[f"{path}_ms"] = round(best_ms(grade, args.repeat, args.rounds), 3)
            if args.profile:
                row[f"{path}_stages_ms"] = stages(grade, args.repeat, row[f"{path}_ms"])
    row["same_score_bits"] = len({struct.pack("<d", score) for score in scores.values()}) == 1
    row["speedup"] = round(row["pandas_ms"] / row["fast_ms"], 1)
    return row


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("tasks", nargs="*", default=list(TASKS), help="built-in task ids")
    parser.add_argument("--variants", nargs="+", default=["micro", "full"])
    parser.add_argument("--repeat", type=int, default=100, help="gradings per round")
    parser.add_argument("--rounds", type=int, default=5, help="rounds; the best mean is kept")
    parser.add_argument("--profile", action="store_true", help="where the time goes, per stage")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    rows = [measure(task_id, variant, args) for task_id in args.tasks for variant in args.variants]
    for row in rows:
        print(f"{row['task']:30} {row['variant']:5} {row['rows']:6} rows {row['metric']:9} "
              f"pandas {row['pandas_ms']:7.3f} ms  fast {row['fast_ms']:7.3f} ms  x{row['speedup']:<5} "
              f"same score bits: {row['same_score_bits']}")
        for path in PATHS if args.profile else ():
            for stage, ms in row[f"{path}_stages_ms"].items():
                print(f"    {path:6} {stage:34} {ms:7.3f} ms")
    print(json.dumps({"gradings": [{k: v for k, v in row.items() if not k.endswith("_stages_ms")} for row in rows],
                      "all_same_score_bits": all(row["same_score_bits"] for row in rows)}))
    return 0 if all(row["same_score_bits"] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
