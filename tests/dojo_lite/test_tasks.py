"""Tasks: the format's checks, the search path, the data cache, packaging."""

from __future__ import annotations

import collections
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import attrs
import pandas as pd
import pytest
from conftest import TOY_TOML

import dojo_lite
from dojo_lite import TaskFormatError, TaskNotFound
from dojo_lite._leaderboard import population
from dojo_lite._verify import PERFECT

ROOT = Path(__file__).resolve().parents[2]
BUILTIN = sorted(str(p.parent.relative_to(ROOT / "tasks")) for p in (ROOT / "tasks").glob("*/*/task.toml"))


def test_the_suite_has_forty_tasks_and_eight_per_domain() -> None:
    domains = collections.Counter(task_id.split("/")[0] for task_id in BUILTIN)
    assert len(BUILTIN) >= 40 and all(domains[d] >= 8 for d in ("tabular", "vision", "nlp", "timeseries")), domains
    assert [t.id for t in dojo_lite.list_tasks() if t.id in BUILTIN] == BUILTIN


@attrs.frozen
class Standing:
    """Where a task's own solutions place on its leaderboard (from 1, ties in the solution's favour)."""

    size: int
    simple: int
    reference: int
    top: float

    @classmethod
    def of(cls, task: dojo_lite.Task) -> Standing:
        board = task.leaderboard()
        assert board is not None, f"{task.id} has no leaderboard.csv"
        scores = pd.read_csv(task.path / "leaderboard.csv").set_index("team")["score"]  # the board keeps no teams
        teams = {file: team for team, file in task.module("solutions/population.py").SOLUTIONS.items()}

        def place(file: str) -> int:
            assert file in teams, f"{task.id}: solutions/{file} is not a member of the population (claim it)"
            return board.position(float(scores[teams[file]]))

        return cls(len(board), place("simple.py"), place("reference.py"), board.scores[0])

    def cells(self, task: dojo_lite.Task) -> list[str]:
        """The cells of the task's row in tasks/README.md's table, but its rows of data (checked as a number)."""
        return [f"`{task.id}`", task.domain, task.grading.metric, str(self.size), str(self.simple),
                str(self.reference), f"{self.top:.4g}"]


@pytest.mark.parametrize("task_id", BUILTIN)
def test_the_leaderboard_has_real_spread(task_id: str) -> None:
    """At least 100 entries (position scores move in steps of 0.01 or less), both solutions among them,
    and a top that is not the metric's perfect score."""
    task = dojo_lite.find_task(task_id)
    standing = Standing.of(task)
    assert standing.size >= 100, standing
    assert standing.top != PERFECT.get(task.grading.metric), f"{task_id}: the top of the leaderboard is saturated"


def test_the_reference_is_first_on_few_tasks() -> None:
    firsts = [task_id for task_id in BUILTIN if Standing.of(dojo_lite.find_task(task_id)).reference == 1]
    assert len(firsts) <= len(BUILTIN) // 4, firsts


def test_the_table_in_tasks_readme_is_the_leaderboards() -> None:
    """One row per task: | task | domain | rows | metric | leaderboard | simple's | reference's | top score |."""
    text = (ROOT / "tasks" / "README.md").read_text(encoding="utf-8")
    lines = text.split("## The built-in tasks", 1)[1].split("\n## ", 1)[0].splitlines()
    table = {cells[0]: cells for cells in ([c.strip() for c in line.strip("|").split("|")] for line in lines
                                           if line.startswith("| `"))}
    expected = {f"`{task.id}`": Standing.of(task).cells(task) for task in map(dojo_lite.find_task, BUILTIN)}
    written = {key: cells[:2] + cells[3:] for key, cells in table.items()}
    wrong = sorted(key for key in expected if written.get(key) != expected[key])
    assert not wrong and sorted(table) == sorted(expected), "tasks/README.md's table is out of date:\n" + "\n".join(
        f"{key}: {written.get(key)} should be {expected[key]}" for key in wrong)
    assert all(cells[2].isdigit() for cells in table.values()), "each row gives the rows of data"


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
