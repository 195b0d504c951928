"""The ML stack works inside the jail, from a zygote that preloaded it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import attrs
import pytest
from jailtools import Driver, describe

import sandbox

pytestmark = pytest.mark.slow

PRELOAD = ["numpy", "pandas", "sklearn", "lightgbm", "torch"]

ML_JOB = """
import json, time
started = time.perf_counter()
import numpy as np, pandas as pd, sklearn, lightgbm as lgb, torch
imported = time.perf_counter() - started
from sklearn.datasets import load_digits
X, y = load_digits(return_X_y=True)
frame = pd.DataFrame(X)
model = lgb.LGBMClassifier(n_estimators=20, num_leaves=15, verbose=-1).fit(frame.iloc[:1200], y[:1200])
accuracy = float((model.predict(frame.iloc[1200:]) == y[1200:]).mean())
a = torch.arange(6, dtype=torch.float32).reshape(2, 3)
product = (a @ a.T).tolist()
big = torch.randn(256, 256)
norm = float((big @ big).norm())
print(json.dumps({"imported_s": imported, "accuracy": accuracy, "product": product, "norm": norm,
                  "threads": torch.get_num_threads(), "cuda": torch.cuda.is_available()}))
"""


@pytest.fixture(scope="module")
def ml(runner: asyncio.Runner) -> Iterator[Driver]:
    limits = sandbox.Limits(timeout=60, memory="2G", cpus=1)
    driver = Driver.start(runner, preload=PRELOAD, limits=limits, name="ml")
    yield driver
    driver.close()


def test_lightgbm_and_torch_work_in_the_jail(ml: Driver) -> None:
    for _ in range(2):  # a second run: OpenMP in one child must not hang the next
        report = ml.run_json(ML_JOB)
        assert report["imported_s"] < 0.5, "the preloaded modules were imported again"
        assert report["accuracy"] > 0.8
        assert report["product"] == [[5.0, 14.0], [14.0, 50.0]]
        assert report["norm"] > 0
        assert report["threads"] == 1


def test_a_torch_memory_bomb_spares_the_preloaded_zygote(ml: Driver) -> None:
    zygote = ml.zygote().pid
    bomb = "import torch\nkept = []\nwhile True:\n    kept.append(torch.ones(16 << 20))\n"
    result = ml.run(bomb, limits=attrs.evolve(ml.pool.limits, memory="768M"))
    assert result.status is sandbox.RunStatus.MEMORY, describe(result)
    assert ml.zygote().pid == zygote
    assert ml.run_json("import json, torch\nprint(json.dumps(torch.ones(3).sum().item()))") == 3.0


def test_the_ml_zygote_has_no_network(ml: Driver) -> None:
    result = ml.run("import socket, torch\nsocket.create_connection(('1.1.1.1', 53), timeout=1)\n")
    assert result.status is sandbox.RunStatus.ERROR, describe(result)
    assert result.traceback is not None
    assert result.traceback.rstrip().splitlines()[-1].startswith("OSError")
