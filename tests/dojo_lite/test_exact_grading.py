"""Exact grading on a real task, through a real episode: a score equal to a leaderboard entry is
placed with it, never behind it (the leaderboard file is rounded, the agent's score is not)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

import dojo_lite

pytestmark = pytest.mark.slow


def _code_writing(ids: list[int], labels: list[int]) -> str:
    """Agent code that writes exactly these predictions (the test, not the agent, knows the answers)."""
    return (f"import pandas as pd\nrows = {json.dumps([ids, labels])}\n"
            "pd.DataFrame({'PassengerId': rows[0], 'Survived': rows[1]}).to_csv('submission.csv', index=False)\n")


def _titanic_with_a_rounded_leaderboard(root: Path) -> dojo_lite.Task:
    """The built-in titanic task, its leaderboard written with 8 digits as leaderboard files often are."""
    folder = root / "tabular" / "titanic-survival"
    shutil.copytree(dojo_lite.find_task("tabular/titanic-survival").path, folder)
    board = pd.read_csv(folder / "leaderboard.csv")
    board["score"] = [f"{score:.8f}" for score in board["score"]]
    board.to_csv(folder / "leaderboard.csv", index=False)
    return dojo_lite.find_task("tabular/titanic-survival", [root])


def test_titanic_score_of_exactly_an_entry_takes_that_entry_place(tmp_path: Path) -> None:
    task = _titanic_with_a_rounded_leaderboard(tmp_path / "tasks")
    board = task.leaderboard()
    assert board is not None
    answers = task.prepare("full").answers()
    assert len(answers) == 327
    entry = next(score for score in board.scores if score == 0.83792049)  # 274/327, written with 8 digits
    flipped = 327 - 274
    truth = answers["Survived"].tolist()
    labels = [1 - label if i < flipped else label for i, label in enumerate(truth)]
    env = dojo_lite.DojoEnv(task, trajectory_dir=tmp_path)
    try:
        env.reset(seed=0)
        obs, _, _, _, info = env.step({"action": "execute_code",
                                       "code": _code_writing(answers["PassengerId"].tolist(), labels)})
    finally:
        env.close()
    assert obs["status"] == "ok", obs["feedback"]
    assert info["score"] == 274 / 327 < entry
    ahead = sum(score > entry for score in board.scores)
    assert obs["data"]["grade"]["position"] == ahead + 1, obs["feedback"]  # shares the entry's place
    assert info["position_score"] == pytest.approx((len(board) - ahead) / len(board))
    assert f"would place {ahead + 1}" in obs["feedback"]
