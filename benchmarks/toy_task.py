"""The benchmarks' toy task: predict ``y = x1 + x2`` (rmse), written to a folder of its own.

A benchmark does not import the tests (whose fixtures hold a twin of this task): the scripts of
this folder share this module instead (``python benchmarks/x.py`` puts the folder on the path).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import dojo_lite

TEST_ROWS = 40
TASK_TOML = """
id = "{id}"
title = "Benchmark: add two numbers"
domain = "tabular"
version = 1
preload = {preload}

[grading]
metric = "rmse"
direction = "minimize"
id_column = "id"
prediction_columns = ["y"]
prediction_kind = "value"
answer_column = "y"

[budget]
steps = {steps}
seconds = 36000

[limits]
timeout = 60
memory = "1G"
cpus = 1

[validate]
timeout = 20

[leaderboard]
provenance = "hand-made for the benchmark"
"""
PREPARE = f'''
import pandas as pd

def prepare(public, private, variant):
    n = {TEST_ROWS} if variant == "full" else 10
    train = pd.DataFrame({{"id": range(100), "x1": range(100), "x2": [i % 7 for i in range(100)]}})
    train["y"] = train.x1 + train.x2
    test = pd.DataFrame({{"id": range(1000, 1000 + n), "x1": range(n), "x2": [3] * n}})
    train.to_csv(public / "train.csv", index=False)
    test.to_csv(public / "test.csv", index=False)
    pd.DataFrame({{"id": test.id, "y": 0.0}}).to_csv(public / "sample_submission.csv", index=False)
    pd.DataFrame({{"id": test.id, "y": test.x1 + test.x2}}).to_csv(private / "answers.csv", index=False)
'''
LEADERBOARD = "team,score\nexact,0\nclose,0.5\nokay,1.5\nfar,10\n"
EXACT = "id,y\n" + "".join(f"{1000 + i},{i + 3}\n" for i in range(TEST_ROWS))
"""The exact answers of the full variant, as a submission (rmse 0)."""


def write_toy_task(root: Path, task_id: str, *, preload: Sequence[str] = ("numpy", "pandas"), steps: int = 1000,
                   cache: Path | None = None) -> dojo_lite.Task:
    """Write the task ``task_id`` under the task root ``root``, prepare both variants (in
    ``cache``) and return it."""
    folder = root / task_id
    folder.mkdir(parents=True)
    (folder / "task.toml").write_text(TASK_TOML.format(id=task_id, preload=json.dumps(list(preload)), steps=steps))
    (folder / "prepare.py").write_text(PREPARE)
    (folder / "description.md").write_text("# Benchmark\nPredict y = x1 + x2 for each row of test.csv.\n")
    (folder / "leaderboard.csv").write_text(LEADERBOARD)
    task = dojo_lite.find_task(task_id, [root])
    task.prepare("full", cache)
    task.prepare("micro", cache)
    return task
