"""Lazy registration, and the ids a user may type (a task id or its Gymnasium id)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import gymnasium
import pytest

import dojo_lite

ROOT = Path(__file__).resolve().parents[2]

IMPORT_PARSES_NOTHING = """
import tomllib
def refuse(*args, **kwargs):
    raise SystemExit("import dojo_lite parsed a task.toml")
tomllib.load = tomllib.loads = refuse
import gymnasium, dojo_lite
ids = [i for i in gymnasium.registry if i.startswith("dojo_lite/")]
print(len(ids), "dojo_lite/tabular.broken" in ids, "dojo_lite/tabular.titanic-survival" in ids)
"""


def test_import_registers_every_task_from_folder_names_alone(tmp_path: Path) -> None:
    broken = tmp_path / "tabular" / "broken"
    broken.mkdir(parents=True)
    (broken / "task.toml").write_text("this is [not toml\n")
    env = {**os.environ, "DOJO_LITE_TASKS": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", IMPORT_PARSES_NOTHING], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    count, has_broken, has_titanic = done.stdout.split()
    assert int(count) >= 10 and has_broken == has_titanic == "True"
    # the broken folder is reported when it is made, not when dojo_lite is imported
    dojo_lite.register_tasks([tmp_path])
    with pytest.raises(dojo_lite.TaskFormatError):
        gymnasium.make("dojo_lite/tabular.broken")


def test_a_task_name_that_reads_as_a_gymnasium_version_is_left_out(tmp_path: Path) -> None:
    for name in ("toy", "toy-v2"):
        (tmp_path / "tabular" / name).mkdir(parents=True)
        (tmp_path / "tabular" / name / "task.toml").write_text("")
    ids = dojo_lite.register_tasks([tmp_path])  # raised RegistrationError when both were registered
    assert "dojo_lite/tabular.toy" in ids and "dojo_lite/tabular.toy-v2" not in ids


def test_import_works_in_a_source_tree_that_was_never_installed(tmp_path: Path) -> None:
    # the source tree on sys.path, with the dependencies but without this project's installation
    # (the editable install's import hook is taken out, so dojo_lite_tasks is not importable)
    for name in ("dojo_lite", "sandbox", "tasks"):
        (tmp_path / name).symlink_to(ROOT / name)
    code = ("import sys\n"
            "sys.meta_path = [f for f in sys.meta_path if 'editable' not in repr(f).lower()]\n"
            f"sys.path[:0] = [{str(tmp_path)!r}]\n"
            "import importlib.util; assert importlib.util.find_spec('dojo_lite_tasks') is None, 'installed'\n"
            "import dojo_lite; print(dojo_lite.find_task('tabular/titanic-survival').path)")
    done = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True, timeout=120,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("tasks/tabular/titanic-survival")


@pytest.mark.parametrize("name", ["tabular/titanic-survival", "dojo_lite/tabular.titanic-survival",
                                  "tabular.titanic-survival"])
def test_every_id_form_finds_the_task(name: str) -> None:
    assert dojo_lite.canonical_id(name) == "tabular/titanic-survival"
    assert dojo_lite.find_task(name).id == "tabular/titanic-survival"


def test_the_gymnasium_ids_listed_are_the_ones_accepted() -> None:
    listed = [i for i in gymnasium.registry if i.startswith("dojo_lite/")]
    assert listed, "control: import dojo_lite registered the built-in tasks"
    for gym in listed:
        roots = gymnasium.spec(gym).kwargs.get("task_path", [])
        if any(not Path(root).is_dir() for root in roots):
            continue  # registered by another test from a folder since removed
        try:
            task = dojo_lite.find_task(gym, roots)
        except dojo_lite.TaskFormatError:
            continue  # a broken folder another test registered on purpose
        assert dojo_lite.gym_id(task.id) == gym


def test_the_cli_takes_a_gymnasium_id() -> None:
    done = subprocess.run([sys.executable, "-m", "dojo_lite", "tasks", "show", "dojo_lite/tabular.titanic-survival"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "tabular/titanic-survival" in done.stdout
