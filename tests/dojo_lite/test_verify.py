"""``dojo-lite tasks verify``: every built-in task passes on its micro variant, and each check fails
on a task broken the way it is meant to catch."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from test_tasks import BUILTIN

import dojo_lite
from dojo_lite import _cli
from dojo_lite._verify import CheckStatus, Verification, verify_task

# A sound task: the label is x1 + x2 > 0, seen through a little noise; ids given after a shuffle.
TOML = """
id = "tabular/toy-verify"
domain = "tabular"
preload = ["numpy", "pandas"]

[grading]
metric = "accuracy"
direction = "maximize"
id_column = "id"
prediction_columns = ["label"]
prediction_kind = "label"
labels = [0, 1]
answer_column = "label"

[limits]
timeout = 30
memory = "1G"
"""

PREPARE = """
import numpy as np
import pandas as pd
from dojo_lite.recipes import constant_submission, shuffled_with_ids, split_for_variant, write_task_files

def data():
    rng = np.random.default_rng(7)
    n = 600
    frame = pd.DataFrame({"x1": rng.normal(size=n).round(6), "x2": rng.normal(size=n).round(6),
                          "colour": rng.choice(["red", "green", "blue"], size=n)})
    frame["label"] = ((frame.x1 + frame.x2 + rng.normal(scale=0.3, size=n)) > 0).astype(int)
    return frame

def prepare(public, private, variant):
    frame = shuffled_with_ids(data(), "id", 1)
    train, test = split_for_variant(frame, variant, test_fraction=0.25, seed=2, stratify="label",
                                    micro_train=200, micro_test=100, micro_from_train=True)
    majority = int(train.label.mode()[0])
    write_task_files(public, private, train, test, id_column="id", answer_column="label",
                     sample_submission=constant_submission(test, "id", {"label": majority}))
"""

REFERENCE = """
import pandas as pd
test = pd.read_csv("input/test.csv")
pd.DataFrame({"id": test.id, "label": (test.x1 + test.x2 > 0).astype(int)}).to_csv("submission.csv", index=False)
"""

TRIVIAL = """
import pandas as pd
train, test = pd.read_csv("input/train.csv"), pd.read_csv("input/test.csv")
pd.DataFrame({"id": test.id, "label": int(train.label.mode()[0])}).to_csv("submission.csv", index=False)
"""

# Each breakage: the changes to prepare.py's text, and the one check that must fail.
BREAKAGES: dict[str, tuple[list[tuple[str, str]], str]] = {
    "a column that copies the target": (
        [("    return frame\n", "    frame['code'] = frame.label * 3 + 1\n    return frame\n")], "leak_columns"),
    "ids sorted by the target": (
        [('frame = shuffled_with_ids(data(), "id", 1)',
          "frame = data().sort_values('label', kind='stable').reset_index(drop=True)\n"
          "    frame.insert(0, 'id', range(len(frame)))")], "leak_id"),
    "a row on both sides of the split": (
        [("    majority =", "    test = pd.concat([test, train.iloc[:1]], ignore_index=True)\n    majority =")],
        "overlap"),
    "many test rows that copy train rows": (
        [("    majority =", "    copies = train.iloc[:30].assign(id=train.id.iloc[:30] + 100000)\n"
                         "    test = pd.concat([test, copies], ignore_index=True)\n    majority =")], "overlap"),
    "a prepare.py that draws without a seed": (
        [("rng = np.random.default_rng(7)", "rng = np.random.default_rng()")], "determinism"),
    "a sample submission that misses an id": (
        [("sample_submission=constant_submission(test, ", "sample_submission=constant_submission(test.iloc[1:], ")],
        "sample_submission"),
    "a prepare.py that writes no test.csv": (
        [("{\"label\": majority}))\n", "{\"label\": majority}))\n    (public / 'test.csv').unlink()\n")],
        "prepare"),
}


def write_task(root: Path, prepare: str = PREPARE, reference: str = REFERENCE) -> dojo_lite.Task:
    folder = root / "tabular" / "toy-verify"
    (folder / "solutions").mkdir(parents=True)
    (folder / "task.toml").write_text(TOML)
    (folder / "prepare.py").write_text(prepare)
    (folder / "description.md").write_text("# Toy\nPredict the label.\n")
    (folder / "solutions" / "reference.py").write_text(reference)
    return dojo_lite.Task.load(folder)


def _verify(task: dojo_lite.Task, *, solutions: bool = False) -> Verification:
    return asyncio.run(verify_task(task, "micro", solutions=solutions))


def _broken(name: str) -> str:
    text = PREPARE
    for old, new in BREAKAGES[name][0]:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


def test_a_sound_task_passes_every_offline_check(tmp_path: Path) -> None:
    result = _verify(write_task(tmp_path))
    statuses = {check.name: check.status for check in result.checks}
    assert statuses == {"prepare": CheckStatus.PASS, "schema": CheckStatus.PASS,
                        "sample_submission": CheckStatus.PASS, "leak_columns": CheckStatus.PASS,
                        "leak_id": CheckStatus.PASS, "overlap": CheckStatus.PASS,
                        "determinism": CheckStatus.PASS, "solvability": CheckStatus.SKIP}, result.table()
    assert result.ok


@pytest.mark.parametrize("name", list(BREAKAGES))
def test_each_check_fails_on_the_breakage_it_is_for(name: str, tmp_path: Path) -> None:
    result = _verify(write_task(tmp_path, _broken(name)))
    check = result.check(BREAKAGES[name][1])
    assert check.status is CheckStatus.FAIL, result.table()
    assert not result.ok and check.message
    failed = {c.name for c in result.checks if c.status is CheckStatus.FAIL}
    assert failed == {check.name}, f"only the check for it fails:\n{result.table()}"


def test_the_leak_message_names_the_column_and_the_overlap_the_id(tmp_path: Path) -> None:
    leaking = _verify(write_task(tmp_path / "a", _broken("a column that copies the target")))
    assert leaking.check("leak_columns").message.startswith("code alone")
    overlapping = _verify(write_task(tmp_path / "b", _broken("a row on both sides of the split")))
    assert "1 ids are in both" in overlapping.check("overlap").message


def test_the_command_prints_the_table_or_json_and_exits_1_on_a_failure(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_task(tmp_path / "good")
    assert _cli.main(["tasks", "verify", "tabular/toy-verify", "--no-run", "--task-path", str(tmp_path / "good")]) == 0
    out = capsys.readouterr().out
    assert "tabular/toy-verify (micro): ok" in out and "leak_columns" in out
    write_task(tmp_path / "bad", _broken("ids sorted by the target"))
    argv = ["tasks", "verify", "tabular/toy-verify", "--no-run", "--json", "--task-path", str(tmp_path / "bad")]
    assert _cli.main(argv) == 1
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["ok"] is False and {c["name"]: c["status"] for c in line["checks"]}["leak_id"] == "fail"


@pytest.mark.slow
def test_solvability_runs_the_reference_in_the_sandbox(tmp_path: Path) -> None:
    good = _verify(write_task(tmp_path / "good"), solutions=True)
    assert good.ok and good.check("solvability").status is CheckStatus.PASS, good.table()
    assert "reference accuracy" in good.check("solvability").message
    trivial = _verify(write_task(tmp_path / "trivial", reference=TRIVIAL), solutions=True)
    assert trivial.check("solvability").status is CheckStatus.FAIL, trivial.table()
    assert "closes 0.00 of the gap" in trivial.check("solvability").message
    crashing = _verify(write_task(tmp_path / "crash", reference="raise SystemExit(3)"), solutions=True)
    assert crashing.check("solvability").status is CheckStatus.FAIL
    assert "no score" in crashing.check("solvability").message


@pytest.mark.slow
@pytest.mark.parametrize("task_id", BUILTIN)
def test_every_builtin_task_verifies_on_its_micro_variant(task_id: str) -> None:
    result = _verify(dojo_lite.find_task(task_id), solutions=True)
    assert result.ok, result.table()
    assert result.check("solvability").status is CheckStatus.PASS, result.table()


def test_the_built_in_reference_solvability_margin_is_measured_against_the_metric() -> None:
    from dojo_lite._metrics import Direction
    from dojo_lite._verify import _closed
    assert _closed("rmse", Direction.MINIMIZE, 10.0, 5.0) == pytest.approx(0.5)
    assert _closed("accuracy", Direction.MAXIMIZE, 0.6, 0.8) == pytest.approx(0.5)
    assert _closed("accuracy", Direction.MAXIMIZE, 0.6, 0.5) == pytest.approx(-0.25)
    assert _closed("custom", Direction.MAXIMIZE, 0.6, 0.8) is None


def test_a_task_without_a_reference_fails_solvability(tmp_path: Path) -> None:
    task = write_task(tmp_path)
    (task.path / "solutions" / "reference.py").unlink()
    result = asyncio.run(verify_task(task, "micro"))
    assert result.check("solvability").status is CheckStatus.FAIL
    assert "no solutions/reference.py" in result.check("solvability").message


def test_the_prepare_failure_skips_what_needs_the_data(tmp_path: Path) -> None:
    result = _verify(write_task(tmp_path, PREPARE.replace("def prepare(", "def prepare_not(")))
    assert result.check("prepare").status is CheckStatus.FAIL
    assert all(c.status is CheckStatus.SKIP for c in result.checks if c.name != "prepare")
    assert "defines no prepare()" in result.check("prepare").message
