"""Whole episodes: built-in agents on every built-in task, trajectories and their replay, the CLI."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import solution
from test_tasks import BUILTIN

import dojo_lite
from dojo_lite import DojoEnv

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("task_id", BUILTIN)
def test_baseline_episode_on_the_micro_variant(task_id: str, tmp_path: Path) -> None:
    task = dojo_lite.find_task(task_id)
    env = DojoEnv(task, variant="micro", trajectory_dir=tmp_path)
    result = asyncio.run(_episode(env, dojo_lite.baseline_agent(task)))
    statuses = [(h["action"], h["status"]) for h in result.history]
    assert statuses == [("request_info", "ok"), ("validate_code", "ok"), ("execute_code", "ok"),
                        ("validate_code", "ok"), ("execute_code", "ok"), ("get_history", "ok")], result.history
    simple, strong = result.history[2]["score"], result.history[4]["score"]
    assert simple is not None and strong is not None
    assert result.best_score in (simple, strong) and result.trajectory is not None


async def _episode(env: DojoEnv, agent: dojo_lite.ScriptedAgent) -> dojo_lite.EpisodeResult:
    try:
        return await dojo_lite.run_episode(env, agent, seed=0)
    finally:
        await env.aclose()


def test_a_trajectory_replays_to_the_same_scores(toy_task: dojo_lite.Task, tmp_path: Path) -> None:
    actions = [{"action": "request_info", "topic": "metric"},
               {"action": "execute_code", "code": solution(2.0)},
               "not even json",
               {"action": "validate_code", "code": "raise SystemExit(3)"},
               {"action": "execute_code", "code": solution(0.25)}]
    first = asyncio.run(_episode(DojoEnv(toy_task, trajectory_dir=tmp_path / "a"), dojo_lite.ScriptedAgent(actions)))
    assert first.trajectory is not None
    recorded = dojo_lite.read_trajectory(first.trajectory)
    assert recorded.header["task"] == "tabular/toy-sum" and recorded.end is not None
    assert recorded.actions == actions and [s["observation"]["status"] for s in recorded.steps] == [
        "ok", "ok", "invalid_action", "code_error", "ok"]
    assert recorded.steps[1]["wall_s"] > 0 and recorded.steps[1]["time"].endswith("+00:00")
    again = asyncio.run(_episode(DojoEnv(toy_task, trajectory_dir=tmp_path / "b"),
                                 dojo_lite.make_agent(f"replay:{first.trajectory}", toy_task)))
    assert again.trajectory is not None
    replayed = dojo_lite.read_trajectory(again.trajectory)
    assert replayed.scores == recorded.scores == [None, pytest.approx(2.0), None, None, pytest.approx(0.25)]
    assert [s["reward"] for s in replayed.steps] == [s["reward"] for s in recorded.steps]


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dojo_lite", *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {})})


def test_cli_run_with_a_script_agent_ends_with_json(toy_root: Path, tmp_path: Path) -> None:
    script = tmp_path / "solve.py"
    script.write_text(solution(0.5))
    done = _cli("--task-path", str(toy_root), "run", "tabular/toy-sum", "--agent", f"script:{script}", "--json",
                "--trajectory-dir", str(tmp_path / "runs"))
    assert done.returncode == 0, done.stderr
    last = json.loads(done.stdout.strip().splitlines()[-1])
    assert last["task"] == "tabular/toy-sum" and last["steps"] == 3
    assert last["best_score"] == pytest.approx(0.5) and last["best_position_score"] == pytest.approx(0.75)
    board = dojo_lite.find_task("tabular/toy-sum", [toy_root]).leaderboard()
    assert board is not None and last["medal"] == board.medal(0.5).value
    assert "execute_code" in done.stderr, "progress goes to stderr with --json"
    assert Path(last["trajectory"]).is_file()


def test_cli_run_prints_a_summary_table(toy_root: Path, tmp_path: Path) -> None:
    script = tmp_path / "solve.py"
    script.write_text(solution(0.0))
    done = _cli("--task-path", str(toy_root), "run", "tabular/toy-sum", "--agent", f"script:{script}",
                "--trajectory-dir", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "position" in done.stdout and "best score 0, position score 1, medal gold" in done.stdout


def test_cli_tasks_and_bad_input(toy_root: Path) -> None:
    listed = _cli("--task-path", str(toy_root), "tasks")
    assert listed.returncode == 0 and "tabular/toy-sum" in listed.stdout and "tabular/titanic-survival" in listed.stdout
    shown = _cli("--task-path", str(toy_root), "tasks", "show", "tabular/toy-sum")
    assert "rmse (minimize)" in shown.stdout and "Predict y = x1 + x2" in shown.stdout
    missing = _cli("run", "tabular/nope", "--agent", "baseline")
    assert missing.returncode == 2 and "no task 'tabular/nope'" in missing.stderr
    bad_agent = _cli("--task-path", str(toy_root), "run", "tabular/toy-sum", "--agent", "gpt-9")
    assert bad_agent.returncode == 2 and "unknown agent" in bad_agent.stderr


def test_cli_runs_many_episodes_under_a_scheduler(toy_root: Path, tmp_path: Path) -> None:
    script = tmp_path / "solve.py"
    script.write_text(solution(1.0))
    done = _cli("--task-path", str(toy_root), "run", "tabular/toy-sum", "--agent", f"script:{script}", "--json",
                "--episodes", "4", "--cpus", "2", "--memory", "4G", "--trajectory-dir", str(tmp_path / "runs"))
    assert done.returncode == 0, done.stderr
    last = json.loads(done.stdout.strip().splitlines()[-1])
    assert last["episodes"] == 4 and len(last["results"]) == 4 and last["steps"] == 12
    assert last["best_score"] == pytest.approx(1.0) and last["scheduler"]["runs"] == 8
    assert len({r["episode_id"] for r in last["results"]}) == 4
    assert "episodes 4/4 done" in done.stderr, "the live view ends with the final state"
