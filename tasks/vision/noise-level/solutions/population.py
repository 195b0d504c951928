"""The leaderboard population: a sweep from constant guesses and classic noise estimators to learned models.

Each code string is a standalone script: it reads ./input/ (the image arrays and the CSV files) and writes
./submission.csv (id, sigma). The scripts are assembled from feature recipes x models x whether the model learns
the noise level itself or its logarithm, plus rules that need no training beyond a constant.
"""

from __future__ import annotations

from pathlib import Path

# Members that are one of the task's own solutions: read from that file (team -> file name next to
# this one), so that the leaderboard scores exactly the code the baseline agent plays.
SOLUTIONS = {"spread-ridge": "simple.py", "robust-stats-boost": "reference.py"}


def _solution(team: str) -> str:
    return (Path(__file__).parent / SOLUTIONS[team]).read_text(encoding="utf-8")


HEADER = """\
import numpy as np
import pandas as pd

train = pd.read_csv("input/train.csv")
test = pd.read_csv("input/test.csv")
images_train = np.load("input/train_images.npy").astype(np.float64)
images_test = np.load("input/test_images.npy").astype(np.float64)
y = train["sigma"].to_numpy()
"""

FOOTER = """
prediction = np.clip(np.nan_to_num(np.asarray(prediction, dtype=float), nan=np.median(y)), 0.5, 100.0)
pd.DataFrame({"id": test["id"], "sigma": prediction}).to_csv("submission.csv", index=False)
"""

HAAR = "(x[:, 0::2, 0::2] - x[:, 0::2, 1::2] - x[:, 1::2, 0::2] + x[:, 1::2, 1::2]) / 2"

RULES = {
    "train-mean": "prediction = np.full(len(test), y.mean())",
    "train-median": "prediction = np.full(len(test), np.median(y))",
    "geometric-mean": "prediction = np.full(len(test), np.exp(np.log(y).mean()))",
    # Donoho's estimator: median |finest diagonal wavelet detail| / 0.6745 (assumes the detail is all noise)
    "wavelet-mad": (
        f"x = images_test\ndetail = np.abs(({HAAR}).reshape(len(x), -1))\n"
        "prediction = np.median(detail, axis=1) / 0.6745"
    ),
    "wavelet-mad-scaled": (  # the same, times the factor that fits the training patches best (in logs)
        f"def estimate(x):\n    return np.median(np.abs(({HAAR}).reshape(len(x), -1)), axis=1) / 0.6745 + 0.1\n"
        "factor = np.exp(np.median(np.log(y) - np.log(estimate(images_train))))\n"
        "prediction = factor * estimate(images_test)"
    ),
    "difference-std": (  # the spread of horizontal neighbour differences, as if the image were flat
        "prediction = np.diff(images_test, axis=2).std(axis=(1, 2)) / np.sqrt(2)"
    ),
}

FEATURES = {
    "pixels": "def features(x):\n    return x.reshape(len(x), -1) / 255.0\n",
    "spread": (
        "def features(x):\n"
        "    return np.column_stack([x.std(axis=(1, 2)), x.mean(axis=(1, 2)),"
        " np.abs(np.diff(x, axis=2)).mean(axis=(1, 2)), np.abs(np.diff(x, axis=1)).mean(axis=(1, 2))])\n"
    ),
    "wavelet": (
        "def features(x):\n"
        f"    detail = np.abs(({HAAR}).reshape(len(x), -1))\n"
        "    return np.log1p(np.column_stack([np.percentile(detail, q, axis=1) for q in (10, 25, 50, 75, 90)]"
        " + [detail.mean(axis=1)]))\n"
    ),
    "laplacian": (
        "def features(x):\n"
        "    lap = np.abs((4 * x[:, 1:-1, 1:-1] - x[:, :-2, 1:-1] - x[:, 2:, 1:-1] - x[:, 1:-1, :-2]"
        " - x[:, 1:-1, 2:]).reshape(len(x), -1))\n"
        "    return np.log1p(np.column_stack([np.percentile(lap, q, axis=1) for q in (10, 25, 50, 75, 90)]"
        " + [lap.mean(axis=1)]))\n"
    ),
}
FEATURES["differences"] = (
    "def features(x):\n"
    "    out = []\n"
    "    for detail in (np.diff(x, axis=2), np.diff(x, axis=1)):\n"
    "        magnitude = np.abs(detail.reshape(len(x), -1))\n"
    "        out += [np.log1p(np.percentile(magnitude, q, axis=1)) for q in (10, 25, 50, 75, 90)]\n"
    "    return np.column_stack([*out, ((x <= 0) | (x >= 255)).mean(axis=(1, 2))])\n"
)
FEATURES["wavelet-laplacian-spread"] = (
    "\n".join(FEATURES[name].replace("def features(", f"def features_{name}(")
              for name in ("spread", "wavelet", "laplacian"))
    + "\ndef features(x):\n    return np.hstack([features_spread(x), features_wavelet(x), features_laplacian(x)])\n"
)
FEATURES["all-statistics"] = (
    "\n".join(FEATURES[name].replace("def features(", f"def features_{name}(")
              for name in ("spread", "wavelet", "laplacian", "differences"))
    + "\ndef features(x):\n    return np.hstack([features_spread(x), features_wavelet(x), features_laplacian(x),"
    " features_differences(x)])\n"
)

SCALED = "make_pipeline(StandardScaler(), {})"
MODELS = {
    "ridge": SCALED.format("Ridge(alpha=1.0)"),
    "knn10": SCALED.format("KNeighborsRegressor(n_neighbors=10)"),
    "tree": "DecisionTreeRegressor(min_samples_leaf=5, random_state=0)",
    "forest": "RandomForestRegressor(n_estimators=200, min_samples_leaf=2, random_state=0, n_jobs=1)",
    "lgbm": "lgb.LGBMRegressor(n_estimators=300, learning_rate=0.05, num_leaves=15, n_jobs=1, verbose=-1, "
            "random_state=0)",
    "lgbm-slow": "lgb.LGBMRegressor(n_estimators=800, learning_rate=0.02, num_leaves=31, min_child_samples=10, "
                 "subsample=0.8, subsample_freq=1, n_jobs=1, verbose=-1, random_state=0)",
    "svr": SCALED.format("SVR(C=3.0)"),
    "mlp": SCALED.format("MLPRegressor(hidden_layer_sizes=(64,), alpha=1e-2, max_iter=800, random_state=0)"),
}

IMPORTS = """
import lightgbm as lgb
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import Ridge
from sklearn.neighbors import KNeighborsRegressor
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVR
from sklearn.tree import DecisionTreeRegressor
"""

SKLEARN = """
{features}
model = {model}
if {log}:  # learn the log of the noise level: errors are judged in logs (rmsle)
    model.fit(features(images_train), np.log(y))
    prediction = np.exp(model.predict(features(images_test)))
else:
    model.fit(features(images_train), y)
    prediction = model.predict(features(images_test))
"""


def rule(name: str) -> str:
    return HEADER + RULES[name] + "\n" + FOOTER


def sklearn_member(features: str, model: str, log: bool) -> str:
    return HEADER + IMPORTS + SKLEARN.format(features=FEATURES[features], model=MODELS[model], log=log) + FOOTER


POPULATION: list[tuple[str, str]] = [(name, rule(name)) for name in RULES]
POPULATION += [(team, _solution(team)) for team in SOLUTIONS]
POPULATION += [(f"{features}-{model}{'-log' if log else ''}", sklearn_member(features, model, log))
               for features in FEATURES for model in MODELS for log in (False, True)
               if not (features == "pixels" and model in ("lgbm-slow", "forest", "mlp"))  # slow ones
               and (features, model, log) != ("spread", "ridge", False)]  # the team name of simple.py
