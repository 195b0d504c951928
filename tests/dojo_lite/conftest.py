"""A toy task (fast: preloads only pandas) and environments on it.

``toy_root`` holds ``tabular/toy-sum``: predict ``y = x1 + x2`` (rmse), 40 test rows in the full
variant and 10 in the micro one, a four-entry leaderboard.  The answers file holds a canary
token, so a test can tell whether agent code ever saw it.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

import dojo_lite

CANARY = "canary-7f3e9c1d"

TOY_TOML = """
id = "tabular/toy-sum"
title = "Toy: add two numbers"
domain = "tabular"
version = 1
preload = ["pandas"]

[grading]
metric = "rmse"
direction = "minimize"
id_column = "id"
prediction_columns = ["y"]
prediction_kind = "value"
answer_column = "y"

[budget]
steps = 12
seconds = 600

[limits]
timeout = 20
memory = "1G"
cpus = 1

[validate]
timeout = 5

[leaderboard]
provenance = "hand-made for the tests"
"""

TOY_PREPARE = '''
import pandas as pd

def prepare(public, private, variant):
    n = 40 if variant == "full" else 10
    train = pd.DataFrame({"id": range(100), "x1": range(100), "x2": [i % 7 for i in range(100)]})
    train["y"] = train.x1 + train.x2
    test = pd.DataFrame({"id": range(1000, 1000 + n), "x1": range(n), "x2": [3] * n})
    train.to_csv(public / "train.csv", index=False)
    test.to_csv(public / "test.csv", index=False)
    pd.DataFrame({"id": test.id, "y": 0.0}).to_csv(public / "sample_submission.csv", index=False)
    answers = pd.DataFrame({"id": test.id, "y": test.x1 + test.x2})
    answers.to_csv(private / "answers.csv", index=False)
    (private / "canary.txt").write_text("CANARY")
'''

# Exact answers score 0 (gold); adding 1 everywhere scores 1.0, and so on.
LEADERBOARD = "team,score\nexact,0\nclose,0.5\nokay,1.5\nfar,10\n"

SOLVE = textwrap.dedent("""
    import pandas as pd
    test = pd.read_csv("input/test.csv")
    pd.DataFrame({"id": test.id, "y": test.x1 + test.x2 + OFFSET}).to_csv("submission.csv", index=False)
""")


def solution(offset: float = 0.0) -> str:
    """Toy-task code whose rmse is ``abs(offset)``."""
    return SOLVE.replace("OFFSET", repr(offset))


@pytest.fixture(scope="session")
def toy_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tasks")
    folder = root / "tabular" / "toy-sum"
    folder.mkdir(parents=True)
    (folder / "task.toml").write_text(TOY_TOML)
    (folder / "prepare.py").write_text(TOY_PREPARE.replace("CANARY", CANARY))
    (folder / "description.md").write_text("# Toy\nPredict y = x1 + x2 for each row of test.csv.\n")
    (folder / "leaderboard.csv").write_text(LEADERBOARD)
    return root


@pytest.fixture(scope="session", autouse=True)
def private_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Prepared data of the whole session in one cache outside the user's."""
    cache = Path(os.environ.get("DOJO_LITE_TEST_CACHE") or tmp_path_factory.mktemp("cache"))
    old = os.environ.get("DOJO_LITE_CACHE")
    os.environ["DOJO_LITE_CACHE"] = str(cache)
    yield cache
    if old is None:
        del os.environ["DOJO_LITE_CACHE"]
    else:
        os.environ["DOJO_LITE_CACHE"] = old


@pytest.fixture(scope="session")
def toy_task(toy_root: Path) -> dojo_lite.Task:
    return dojo_lite.find_task("tabular/toy-sum", [toy_root])


@pytest.fixture
def toy_env(toy_task: dojo_lite.Task, tmp_path: Path) -> Iterator[dojo_lite.DojoEnv]:
    env = dojo_lite.DojoEnv(toy_task, trajectory_dir=tmp_path / "trajectories")
    yield env
    env.close()
