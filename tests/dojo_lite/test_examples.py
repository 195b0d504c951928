"""The example task in ``examples/tasks/``: complete, not built in, and it scores as documented."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import dojo_lite
from dojo_lite._leaderboard import population

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "tasks"
EXAMPLE = "tabular/wine-cultivar"


def test_the_example_task_has_every_file_the_docs_name() -> None:
    task = dojo_lite.find_task(EXAMPLE, [EXAMPLES])
    assert task.path == EXAMPLES / EXAMPLE and task.requires == ("scikit-learn",)
    for name in ("simple", "reference"):
        assert "submission.csv" in task.solution(name)
    assert len(population(task)) >= 5
    board = task.leaderboard()
    assert board is not None and len(board.scores) == len(population(task))
    assert "dojo-lite tasks leaderboard tabular/wine-cultivar --task-path examples/tasks" in task.provenance


def test_the_example_is_not_a_builtin_task() -> None:
    assert EXAMPLE not in [t.id for t in dojo_lite.list_tasks()]
    with pytest.raises(dojo_lite.TaskNotFound):
        dojo_lite.find_task(EXAMPLE)


def test_the_task_docs_point_at_the_example() -> None:
    docs = (ROOT / "tasks" / "README.md").read_text(encoding="utf-8")
    assert f"cp -r examples/tasks/{EXAMPLE} " in docs and "--task-path" in docs and "DOJO_LITE_TASKS" in docs


@pytest.mark.slow
def test_the_baseline_agent_scores_on_the_example(tmp_path: Path) -> None:
    """As tasks/README.md says: ``dojo-lite run ID --task-path examples/tasks`` from the repository."""
    done = subprocess.run([sys.executable, "-m", "dojo_lite", "run", EXAMPLE, "--task-path", "examples/tasks",
                           "--agent", "baseline", "--json", "--trajectory-dir", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600, env=dict(os.environ))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["task"] == EXAMPLE and result["steps"] == 6
    simple, reference = (step["score"] for step in result["history"] if step["action"] == "execute_code")
    assert simple > 0.8 and reference >= simple  # accuracy: a constant guess gets about 0.4
    assert result["best_score"] == reference and result["best_position_score"] > 0.5 and result["medal"] != "none"
