"""The leaderboard population: a sweep from constant guesses through block matching to learned models.

Each code string is a standalone script: it reads ./input/ (the window arrays and the CSV files) and writes
./submission.csv (id, disparity). The scripts are assembled from matching costs (absolute or squared differences,
zero-mean absolute differences, normalised cross-correlation) x window sizes x whole-pixel or sub-pixel minima,
consensus of several matchers, and regressors over cost-curve features, some with several seeds.
"""

from __future__ import annotations

from pathlib import Path

# Members that are one of the task's own solutions: read from that file (team -> file name next to
# this one), so that the leaderboard scores exactly the code the baseline agent plays.
SOLUTIONS = {"sad-5x5-integer-simple": "simple.py", "ncc-9x9-subpixel-reference": "reference.py"}


def _solution(team: str) -> str:
    return (Path(__file__).parent / SOLUTIONS[team]).read_text(encoding="utf-8")


HEADER = """\
import numpy as np
import pandas as pd

train = pd.read_csv("input/train.csv")
test = pd.read_csv("input/test.csv")
y = train["disparity"].to_numpy()
QUERY, MAX_DISPARITY = 21, 16  # the query pixel: row 5, column 21 of both windows


def load(name):
    return np.load(f"input/{name}_images.npy").astype(np.float64)


def costs(pairs, half_w, half_h, kind):
    rows = slice(5 - half_h, 6 + half_h)
    left = pairs[:, 0, rows, QUERY - half_w:QUERY + half_w + 1]
    out = []
    for d in range(MAX_DISPARITY + 1):
        right = pairs[:, 1, rows, QUERY - d - half_w:QUERY - d + half_w + 1]
        if kind == "sad":
            cost = np.abs(left - right).mean(axis=(1, 2))
        elif kind == "ssd":
            cost = ((left - right) ** 2).mean(axis=(1, 2))
        elif kind == "zsad":
            cost = np.abs(left - left.mean(axis=(1, 2), keepdims=True)
                          - right + right.mean(axis=(1, 2), keepdims=True)).mean(axis=(1, 2))
        else:
            a = left - left.mean(axis=(1, 2), keepdims=True)
            b = right - right.mean(axis=(1, 2), keepdims=True)
            cost = -(a * b).sum(axis=(1, 2)) / np.sqrt((a * a).sum(axis=(1, 2)) * (b * b).sum(axis=(1, 2)) + 1e-9)
        out.append(cost)
    return np.stack(out, axis=1)


def minimum(cost, subpixel):
    best = cost.argmin(axis=1)
    if not subpixel:
        return best.astype(float)
    best = np.clip(best, 1, MAX_DISPARITY - 1)
    rows = np.arange(len(cost))
    before, at, after = cost[rows, best - 1], cost[rows, best], cost[rows, best + 1]
    curvature = before - 2 * at + after
    shift = np.where(curvature > 1e-9, 0.5 * (before - after) / np.where(curvature > 1e-9, curvature, 1.0), 0.0)
    return np.clip(best + np.clip(shift, -1, 1), 0, MAX_DISPARITY)
"""

FOOTER = """
prediction = np.clip(np.nan_to_num(np.asarray(prediction, dtype=float), nan=np.median(y)), 0.0, 20.0)
pd.DataFrame({"id": test["id"], "disparity": prediction}).to_csv("submission.csv", index=False)
"""

CONSTANTS = {
    "train-mean": "prediction = np.full(len(test), y.mean())",
    "train-median": "prediction = np.full(len(test), np.median(y))",
    "train-midrange": "prediction = np.full(len(test), (y.min() + y.max()) / 2)",
}

KINDS = ("sad", "ssd", "zsad", "ncc")
WINDOWS = [(1, 1), (2, 2), (3, 3), (4, 4), (5, 5), (2, 4), (3, 5), (4, 2), (5, 3)]  # half width, half height

CONSENSUS = {  # the median of several sub-pixel matchers: (kind, half width, half height)
    "ncc-all-windows": [("ncc", w, h) for w, h in WINDOWS[2:]],
    "ncc-sad-large": [(k, w, h) for k in ("ncc", "sad") for w, h in [(3, 3), (4, 4), (5, 5), (3, 5)]],
    "all-costs-large": [(k, w, h) for k in KINDS for w, h in [(3, 3), (4, 4), (5, 5)]],
    "zsad-ncc-mid": [(k, w, h) for k in ("zsad", "ncc") for w, h in [(3, 3), (4, 4), (3, 5), (5, 3)]],
    "sad-ssd-all": [(k, w, h) for k in ("sad", "ssd") for w, h in WINDOWS],
    "ncc-small": [("ncc", w, h) for w, h in [(2, 2), (3, 3), (2, 4), (4, 2)]],
}

FEATURES = {
    "estimates": (  # the sub-pixel minima of several matchers and their best costs
        "def features(pairs):\n"
        "    cols = []\n"
        "    for kind in ('sad', 'ncc'):\n"
        "        for half in (2, 3, 4, 5):\n"
        "            cost = costs(pairs, half, half, kind)\n"
        "            if kind == 'sad':\n"
        "                cost = cost / (cost.min(axis=1, keepdims=True) + 1.0)\n"
        "            cols += [minimum(cost, True)[:, None], np.sort(cost, axis=1)[:, :3]]\n"
        "    return np.hstack(cols)\n"
    ),
    "curves": (  # the whole normalised cost curves of two matchers
        "def features(pairs):\n"
        "    sad = costs(pairs, 3, 3, 'sad')\n"
        "    return np.hstack([sad / (sad.min(axis=1, keepdims=True) + 1.0), costs(pairs, 4, 4, 'ncc')])\n"
    ),
}

MODELS = {
    "ridge": ("make_pipeline(StandardScaler(), Ridge(alpha=1.0))", False),
    "knn15": ("make_pipeline(StandardScaler(), KNeighborsRegressor(n_neighbors=15))", False),
    "huber": ("make_pipeline(StandardScaler(), HuberRegressor(max_iter=500))", False),
    "forest": ("RandomForestRegressor(n_estimators=40, min_samples_leaf=5, max_features=0.5, random_state={seed}, "
               "n_jobs=1)", True),
    "lgbm": ("lgb.LGBMRegressor(n_estimators=300, learning_rate=0.03, num_leaves=15, subsample=0.8, "
             "subsample_freq=1, n_jobs=1, verbose=-1, random_state={seed})", True),
    "lgbm-l1": ("lgb.LGBMRegressor(objective='l1', n_estimators=300, learning_rate=0.03, num_leaves=15, "
                "subsample=0.8, subsample_freq=1, n_jobs=1, verbose=-1, random_state={seed})", True),
}

IMPORTS = """
import lightgbm as lgb
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import HuberRegressor, Ridge
from sklearn.neighbors import KNeighborsRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
"""

LEARNED = """
{features}
model = {model}
train_features, test_features = features(load("train")), features(load("test"))
if {residual}:  # learn the correction to a 9x9 cross-correlation matcher
    base_train = minimum(costs(load("train"), 4, 4, "ncc"), True)
    model.fit(train_features, y - base_train)
    prediction = minimum(costs(load("test"), 4, 4, "ncc"), True) + model.predict(test_features)
else:
    model.fit(train_features, y)
    prediction = model.predict(test_features)
"""


def constant(name: str) -> str:
    return HEADER + CONSTANTS[name] + "\n" + FOOTER


def matcher(kind: str, half_w: int, half_h: int, subpixel: bool) -> str:
    return HEADER + f"prediction = minimum(costs(load('test'), {half_w}, {half_h}, {kind!r}), {subpixel})\n" + FOOTER


def consensus(members: list[tuple[str, int, int]]) -> str:
    return (HEADER + f"pairs = load('test')\nmatchers = {members!r}\n"
            "prediction = np.median([minimum(costs(pairs, w, h, kind), True) for kind, w, h in matchers], axis=0)\n"
            + FOOTER)


def learned(features: str, model: str, residual: bool, seed: int) -> str:
    return (HEADER + IMPORTS
            + LEARNED.format(features=FEATURES[features], model=MODELS[model][0].format(seed=seed), residual=residual)
            + FOOTER)


def _window_name(half_w: int, half_h: int) -> str:
    return f"{2 * half_h + 1}x{2 * half_w + 1}"


POPULATION: list[tuple[str, str]] = [(name, constant(name)) for name in CONSTANTS]
POPULATION += [(team, _solution(team)) for team in SOLUTIONS]
POPULATION += [(f"{kind}-{_window_name(w, h)}-{'subpixel' if sub else 'integer'}", matcher(kind, w, h, sub))
               for kind in KINDS for w, h in WINDOWS for sub in (False, True)
               if (kind, w, h, sub) not in (("sad", 2, 2, False), ("ncc", 4, 4, True))]  # simple.py, reference.py
POPULATION += [(f"consensus-{name}", consensus(members)) for name, members in CONSENSUS.items()]
POPULATION += [(f"{features}-{model}{'-residual' if residual else ''}{f'-seed{seed}' if MODELS[model][1] else ''}",
                learned(features, model, residual, seed))
               for features in FEATURES for model in MODELS for residual in (False, True)
               for seed in ((0, 1) if MODELS[model][1] else (0,))]
