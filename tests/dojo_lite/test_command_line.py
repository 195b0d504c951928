"""The ``dojo-lite`` command line as a new user meets it: options, synopsis, streams, numbers.

Most tests call the CLI in-process on the toy task and never start a jail; the one that runs an
episode is marked slow.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import solution
from test_tasks import BUILTIN

from dojo_lite import _cli

ROOT = Path(__file__).resolve().parents[2]


def _unrounded(text: str) -> list[str]:
    """The numbers in ``text`` with more than 4 significant digits (nobody rounded them)."""
    return [n for n in re.findall(r"\d+\.\d+", text) if len(n.replace(".", "").lstrip("0")) > 4]


def _run_parser() -> argparse.ArgumentParser:
    (commands,) = (a for a in _cli._parser()._actions if isinstance(a, argparse._SubParsersAction))
    parser: argparse.ArgumentParser = commands.choices["run"]
    return parser


def _run_options() -> list[str]:
    return [a.option_strings[-1] for a in _run_parser()._actions if a.option_strings and a.dest != "help"]


# --- --task-path, before or after the command -------------------------------------------------


@pytest.mark.parametrize("argv", [
    ["tasks", "show", "tabular/toy-sum", "--task-path", "ROOT"],
    ["tasks", "--task-path", "ROOT", "show", "tabular/toy-sum"],
    ["--task-path", "ROOT", "tasks", "show", "tabular/toy-sum"],
])
def test_tasks_show_takes_the_task_path_before_or_after_the_command(
        argv: list[str], toy_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _cli.main([str(toy_root) if a == "ROOT" else a for a in argv]) == 0
    assert "rmse (minimize)" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [["tasks", "--task-path", "ROOT"], ["tasks", "list", "--task-path", "ROOT"]])
def test_tasks_list_takes_the_task_path_after_the_command(
        argv: list[str], toy_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _cli.main([str(toy_root) if a == "ROOT" else a for a in argv]) == 0
    out = capsys.readouterr().out
    assert "tabular/toy-sum" in out and "tabular/titanic-survival" in out


def test_run_takes_the_task_path_after_the_command(toy_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The task is found (the error is about the agent, which is checked before any jail starts).
    assert _cli.main(["run", "tabular/toy-sum", "--task-path", str(toy_root), "--agent", "gpt-9"]) == 2
    assert "unknown agent 'gpt-9'" in capsys.readouterr().err


def test_task_paths_given_at_every_level_are_all_kept_in_order() -> None:
    args = _cli._parser().parse_args(["--task-path", "a", "tasks", "--task-path", "b", "show", "x",
                                      "--task-path", "c"])
    assert _cli._task_paths(args) == ["a", "b", "c"]
    args = _cli._parser().parse_args(["--task-path", "a", "run", "x", "--task-path", "b", "--task-path", "c"])
    assert _cli._task_paths(args) == ["a", "b", "c"]


# --- the synopsis -------------------------------------------------------------------------------


def test_the_synopsis_shows_every_run_option_and_agent_as_optional() -> None:
    synopsis = _cli._parser().format_help()
    assert "[--agent AGENT]" in synopsis and not re.search(r"TASK --agent", synopsis)
    assert "baseline (the default)" in _run_parser().format_help()
    for option in _run_options():
        assert option in synopsis, f"{option} is missing from `dojo-lite --help`"


def test_the_readme_synopsis_shows_every_run_option_and_agent_as_optional() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```\n(dojo-lite tasks .*?)```", readme, re.S)
    assert block is not None, "README.md has no dojo-lite synopsis"
    assert "[--agent " in block[1] and "TASK --agent" not in block[1]
    for option in _run_options():
        assert option in block[1], f"{option} is missing from README.md's synopsis"


def test_help_says_where_progress_and_results_go() -> None:
    text = " ".join(_cli._parser().format_help().split())
    assert "results go to stdout, progress" in text and "to stderr, with or without ``--json``" in text


# --- numbers: rounded for people, whole in JSON -------------------------------------------------


STATS = {"runs": 8, "wait_p50_s": 0.26753839699995297, "wait_p95_s": 1.2345678901234, "wait_max_s": 2.0,
         "run_p50_s": 0.5, "run_p95_s": 0.75, "overhead_s": 0.00123456789,
         "utilisation": {"cpus": 0.7321987654321, "memory": 0.1234567890123}, "in_use": {"cpus": 0.0}}


def test_the_batch_summary_rounds_every_float(capsys: pytest.CaptureFixture[str]) -> None:
    _cli._print_batch([], STATS, "tabular/toy-sum", as_json=False)
    out = capsys.readouterr().out
    assert "wait p50 0.268 s, p95 1.23 s" in out and "utilisation cpus 0.732, memory 0.123" in out
    assert not _unrounded(out), out


def test_json_output_keeps_full_precision(capsys: pytest.CaptureFixture[str]) -> None:
    _cli._print_batch([], STATS, "tabular/toy-sum", as_json=True)
    line = json.loads(capsys.readouterr().out)
    assert line["scheduler"]["wait_p50_s"] == 0.26753839699995297


@pytest.mark.parametrize(("value", "shown"), [(0.26753839699995297, "0.268"), (1234.5678, "1235"),
                                              (3, "3"), (None, "-"), ({"a": 0.123456}, "a 0.123")])
def test_human_numbers(value: object, shown: str) -> None:
    assert _cli._human(value) == shown


# --- one name for the command -------------------------------------------------------------------


@pytest.mark.parametrize("task_id", BUILTIN)
def test_tasks_show_names_the_dojo_lite_command(task_id: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert _cli.main(["tasks", "show", task_id]) == 0
    out = capsys.readouterr().out
    assert "python -m dojo_lite" not in out and f"dojo-lite tasks leaderboard {task_id}" in " ".join(out.split())


def test_the_docs_name_the_dojo_lite_command() -> None:
    for doc in ("README.md", "tasks/README.md", "docs/design.md"):
        assert "python -m dojo_lite" not in (ROOT / doc).read_text(encoding="utf-8"), doc


# --- streams: results to stdout, progress to stderr ---------------------------------------------


def _cli_process(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dojo_lite", *args], capture_output=True, text=True, timeout=300,
                          env=dict(os.environ))


@pytest.mark.slow
@pytest.mark.parametrize("as_json", [False, True])
def test_progress_goes_to_stderr_and_results_to_stdout(as_json: bool, toy_root: Path, tmp_path: Path) -> None:
    script = tmp_path / "solve.py"
    script.write_text(solution(0.5))
    done = _cli_process("run", "tabular/toy-sum", "--task-path", str(toy_root), "--agent", f"script:{script}",
                        "--trajectory-dir", str(tmp_path / "runs"), *(["--json"] if as_json else []))
    assert done.returncode == 0, done.stderr
    assert "task tabular/toy-sum, agent script:" in done.stderr and "step  3 execute_code" in done.stderr
    assert "agent script:" not in done.stdout and "step  3" not in done.stdout
    if as_json:
        (line,) = done.stdout.splitlines()
        assert json.loads(line)["best_score"] == pytest.approx(0.5)
    else:
        assert "best score 0.5, position score 0.75" in done.stdout
