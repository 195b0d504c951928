"""Tasks: the format's checks, the search path, the data cache, packaging."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from conftest import TOY_TOML

import dojo_lite
from dojo_lite import TaskFormatError, TaskNotFound
from dojo_lite._leaderboard import population

ROOT = Path(__file__).resolve().parents[2]
BUILTIN = sorted(str(p.parent.relative_to(ROOT / "tasks")) for p in (ROOT / "tasks").glob("*/*/task.toml"))


def test_there_are_two_builtin_tasks_per_domain() -> None:
    domains = [task_id.split("/")[0] for task_id in BUILTIN]
    assert all(domains.count(d) >= 2 for d in ("tabular", "vision", "nlp", "timeseries")), domains
    assert [t.id for t in dojo_lite.list_tasks() if t.id in BUILTIN] == BUILTIN


@pytest.mark.parametrize("task_id", BUILTIN)
def test_builtin_task_is_complete(task_id: str) -> None:
    task = dojo_lite.find_task(task_id)
    for name in ("description.md", "prepare.py", "leaderboard.csv", "solutions/simple.py",
                 "solutions/reference.py", "solutions/population.py"):
        assert (task.path / name).is_file(), f"{task_id} lacks {name}"
    board = task.leaderboard()
    assert board is not None and len(board.scores) >= 10, "a leaderboard of a real population"
    assert len(population(task)) >= len(board.scores), "every entry comes from a member of the population"
    assert "population" in task.provenance and "./input/" in task.description and "submission.csv" in task.description


@pytest.mark.parametrize("task_id", BUILTIN)
def test_population_members_that_are_solutions_run_the_files_themselves(task_id: str) -> None:
    """A member claimed in SOLUTIONS (team -> simple.py or reference.py) is that file, byte for byte, and no
    other member is a copy of a solution file: one source, so the two cannot drift apart."""
    task = dojo_lite.find_task(task_id)
    claims = task.module("solutions/population.py").SOLUTIONS
    members = dict(population(task))
    assert set(claims.values()) <= {"simple.py", "reference.py"}
    files = {name: (task.path / "solutions" / name).read_text(encoding="utf-8")
             for name in ("simple.py", "reference.py")}
    for team, name in claims.items():
        assert members[team] == files[name], f"{team} claims to be {name} but runs other code"
    for team, code in members.items():
        copied = [name for name, text in files.items() if code.strip() == text.strip()]
        assert team in claims or not copied, f"{team} is a copy of {copied[0]}: claim it in SOLUTIONS"


@pytest.mark.parametrize("task_id", BUILTIN)
def test_builtin_data_is_deterministic_and_micro_shares_the_schema(task_id: str, tmp_path: Path) -> None:
    task = dojo_lite.find_task(task_id)
    first = {v: task.prepare(v, tmp_path / "a") for v in ("full", "micro")}
    again = task.prepare("micro", tmp_path / "b")
    for path in sorted(first["micro"].public.parent.rglob("*")):
        if path.is_file():
            twin = again.public.parent / path.relative_to(first["micro"].public.parent)
            assert twin.read_bytes() == path.read_bytes(), f"{path.name} differs between two preparations"
    full, micro = first["full"], first["micro"]
    assert sorted(p.name for p in full.public.iterdir()) == sorted(p.name for p in micro.public.iterdir())
    for csv in full.public.glob("*.csv"):
        assert list(pd.read_csv(csv, nrows=0).columns) == list(pd.read_csv(micro.public / csv.name, nrows=0).columns)
    assert 20 <= len(micro.answers()) <= len(full.answers())
    spec = task.grading
    test_ids = set(pd.read_csv(full.public / "sample_submission.csv")[spec.id_column])
    assert test_ids == set(full.answers()[spec.id_column]), "the sample submission covers the test ids"
    for csv in full.public.glob("*.csv"):
        if csv.name != "train.csv":
            assert spec.answer_column not in pd.read_csv(csv, nrows=0).columns or csv.name == "sample_submission.csv"


def _write_task(root: Path, toml: str = TOY_TOML, *, folder: str = "tabular/toy-sum") -> Path:
    path = root / folder
    path.mkdir(parents=True)
    (path / "task.toml").write_text(toml)
    (path / "description.md").write_text("toy")
    (path / "prepare.py").write_text("def prepare(public, private, variant):\n    pass\n")
    return path


@pytest.mark.parametrize("change, fragment", [
    (('id = "tabular/toy-sum"', 'id = "tabular/other"'), "does not match the folder"),
    (('domain = "tabular"', 'domain = "audio"'), "domain must be one of"),
    (('metric = "rmse"', 'metric = "rmsee"'), "rmsee"),
    (('direction = "minimize"', 'direction = "maximize"'), "direction"),
    (('timeout = 20', 'timeout = -1'), "bad limits"),
    (('version = 1', 'version = 1\ncolour = "red"'), "unknown keys"),
])
def test_format_errors_are_precise(tmp_path: Path, change: tuple[str, str], fragment: str) -> None:
    path = _write_task(tmp_path, TOY_TOML.replace(*change))
    with pytest.raises(TaskFormatError, match=fragment):
        dojo_lite.Task.load(path)


def test_search_path_from_the_environment_and_unknown_ids(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write_task(tmp_path)
    with pytest.raises(TaskNotFound, match=r"known: .*tabular/titanic-survival"):
        dojo_lite.find_task("tabular/toy-sum")
    monkeypatch.setenv("DOJO_LITE_TASKS", str(tmp_path))
    assert dojo_lite.find_task("tabular/toy-sum").path == tmp_path / "tabular" / "toy-sum"
    assert "tabular/toy-sum" in [t.id for t in dojo_lite.list_tasks()]


def test_a_changed_recipe_prepares_again(toy_root: Path, tmp_path: Path) -> None:
    root = tmp_path / "tasks"
    shutil.copytree(toy_root, root)
    task = dojo_lite.find_task("tabular/toy-sum", [root])
    first = task.prepare("full", tmp_path / "cache")
    assert task.prepare("full", tmp_path / "cache") == first, "cached: the same place"
    prepare = root / "tabular" / "toy-sum" / "prepare.py"
    prepare.write_text(prepare.read_text().replace('"y": test.x1 + test.x2}', '"y": test.x1 + test.x2 + 1}'))
    changed = dojo_lite.find_task("tabular/toy-sum", [root]).prepare("full", tmp_path / "cache")
    assert changed.public != first.public
    assert (changed.answers().y - first.answers().y).tolist() == [1] * 40


def test_a_failing_recipe_is_a_prepare_error_and_leaves_nothing(tmp_path: Path) -> None:
    path = _write_task(tmp_path)
    (path / "prepare.py").write_text("def prepare(public, private, variant):\n    raise OSError('no data')\n")
    task = dojo_lite.Task.load(path)
    with pytest.raises(dojo_lite.PrepareError, match="no data"):
        task.prepare("full", tmp_path / "cache")
    assert not list((tmp_path / "cache").rglob("public"))


def test_public_data_is_readable_by_the_jail_user_and_private_is_not(toy_task: dojo_lite.Task) -> None:
    data = toy_task.prepare("full")
    assert all(p.stat().st_mode & 0o004 for p in data.public.iterdir())
    assert data.private.stat().st_mode & 0o077 == 0


@pytest.mark.slow
def test_the_wheel_ships_the_builtin_tasks(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "-w", str(tmp_path), str(ROOT)], check=True, env={**os.environ, "PIP_NO_INPUT": "1"})
    (wheel,) = tmp_path.glob("dojo_lite-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for task_id in BUILTIN:
        for name in ("task.toml", "description.md", "prepare.py", "leaderboard.csv", "solutions/reference.py"):
            assert f"dojo_lite_tasks/{task_id}/{name}" in names, f"{task_id}/{name} is not in the wheel"
