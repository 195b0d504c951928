"""The leaderboard population: a sweep from constant guesses to pixel models and digit-reading networks.

Each code string is a standalone script: it reads ./input/ (the image arrays and the CSV files) and writes
./submission.csv (id, sum). The scripts are assembled from feature recipes x models (classifiers over the 19
sums, regressors rounded to a whole sum) x whether the swapped pairs are added to training, and a template of a
network that reads each digit with shared weights, over widths, epochs and seeds.
"""

from __future__ import annotations

from pathlib import Path

# Members that are one of the task's own solutions: read from that file (team -> file name next to
# this one), so that the leaderboard scores exactly the code the baseline agent plays.
SOLUTIONS = {"pixel-ridge": "simple.py", "digit-readers": "reference.py"}


def _solution(team: str) -> str:
    return (Path(__file__).parent / SOLUTIONS[team]).read_text(encoding="utf-8")


HEADER = """\
import numpy as np
import pandas as pd

train = pd.read_csv("input/train.csv")
test = pd.read_csv("input/test.csv")
images_train = np.load("input/train_images.npy").astype(np.float32) / 16.0
images_test = np.load("input/test_images.npy").astype(np.float32) / 16.0
y = train["sum"].to_numpy()
"""

SWAP = """
if {swap}:  # a + b = b + a: the pair with its digits swapped is one more example
    images_train = np.concatenate([images_train, np.concatenate([images_train[:, :, 8:], images_train[:, :, :8]], 2)])
    y = np.tile(y, 2)
"""

FOOTER = """
prediction = np.clip(np.rint(np.asarray(prediction, dtype=float)), 0, 18).astype(int)
pd.DataFrame({"id": test["id"], "sum": prediction}).to_csv("submission.csv", index=False)
"""

RULES = {
    "always-nine": "prediction = np.full(len(test), 9)",
    "random-sums": "prediction = np.random.default_rng(4).integers(0, 19, len(test))",
    "ink-regression": (
        "ink_train = images_train.sum(axis=(1, 2))\n"
        "slope, intercept = np.polyfit(ink_train, y, 1)\n"
        "prediction = slope * images_test.sum(axis=(1, 2)) + intercept"
    ),
}

FEATURES = {
    "pixels": "def features(images):\n    return images.reshape(len(images), -1)\n",
    "pooled": (
        "def features(images):\n"
        "    return images.reshape(len(images), 4, 2, 8, 2).mean(axis=(2, 4)).reshape(len(images), -1)\n"
    ),
    "profiles": (
        "def features(images):\n"
        "    left, right = images[:, :, :8], images[:, :, 8:]\n"
        "    return np.hstack([left.sum(axis=1), left.sum(axis=2), right.sum(axis=1), right.sum(axis=2)])\n"
    ),
    "moments": (  # per digit: ink, centre of mass, spread and a 2x2 grid of ink
        "def features(images):\n"
        "    rows, cols = np.mgrid[:8, :8]\n"
        "    out = []\n"
        "    for half in (images[:, :, :8], images[:, :, 8:]):\n"
        "        ink = half.sum(axis=(1, 2)) + 1e-6\n"
        "        r = (half * rows).sum(axis=(1, 2)) / ink\n"
        "        c = (half * cols).sum(axis=(1, 2)) / ink\n"
        "        rr = (half * (rows - r[:, None, None]) ** 2).sum(axis=(1, 2)) / ink\n"
        "        cc = (half * (cols - c[:, None, None]) ** 2).sum(axis=(1, 2)) / ink\n"
        "        grid = half.reshape(len(half), 2, 4, 2, 4).sum(axis=(2, 4)).reshape(len(half), -1)\n"
        "        out += [ink[:, None], r[:, None], c[:, None], rr[:, None], cc[:, None], grid]\n"
        "    return np.hstack(out)\n"
    ),
}

MODELS = {  # (kind, constructor): a classifier predicts a sum, a regressor a number rounded to one
    "ridge": ("regressor", "Ridge(alpha=1.0)"),
    "logreg": ("classifier", "LogisticRegression(C=1.0, max_iter=3000)"),
    "knn5-regressor": ("regressor", "KNeighborsRegressor(n_neighbors=5)"),
    "knn15-regressor": ("regressor", "KNeighborsRegressor(n_neighbors=15, weights='distance')"),
    "forest": ("classifier", "RandomForestClassifier(n_estimators=200, random_state=0, n_jobs=1)"),
    "forest-regressor": ("regressor", "RandomForestRegressor(n_estimators=200, random_state=0, n_jobs=1)"),
    "extra-regressor": ("regressor", "ExtraTreesRegressor(n_estimators=200, random_state=0, n_jobs=1)"),
    "lgbm-regressor": ("regressor", "lgb.LGBMRegressor(n_estimators=300, learning_rate=0.05, num_leaves=15, "
                                    "n_jobs=1, verbose=-1, random_state=0)"),
    "svr": ("regressor", "make_pipeline(StandardScaler(), SVR(C=10.0))"),
    "svc": ("classifier", "make_pipeline(StandardScaler(), SVC(C=10.0))"),
    "mlp": ("classifier", "MLPClassifier(hidden_layer_sizes=(256,), alpha=1e-3, max_iter=400, random_state=0)"),
    "mlp-regressor": ("regressor", "MLPRegressor(hidden_layer_sizes=(256,), alpha=1e-3, max_iter=400, "
                                   "random_state=0)"),
}

IMPORTS = """
import lightgbm as lgb
from sklearn.ensemble import ExtraTreesRegressor, RandomForestClassifier, RandomForestRegressor
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.neighbors import KNeighborsRegressor
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC, SVR
"""

SKLEARN = """
{features}
model = {model}
model.fit(features(images_train), y)
prediction = model.predict(features(images_test))
"""

READER = """
import torch
from torch import nn

torch.set_num_threads(1)
torch.manual_seed({seed})
rng = np.random.default_rng({seed})
reader = nn.Sequential(
    nn.Conv2d(1, {width}, 3, padding=1), nn.ReLU(),
    nn.Conv2d({width}, 2 * {width}, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Dropout(0.2), nn.Linear(2 * {width} * 16, 128), nn.ReLU(), nn.Linear(128, 10),
)


def sum_log_probabilities(pairs):
    left = torch.softmax(reader(pairs[:, None, :, :8]), dim=1)
    right = torch.softmax(reader(pairs[:, None, :, 8:]), dim=1)
    joint = left[:, :, None] * right[:, None, :]
    sums = torch.zeros(len(pairs), 19)
    for a in range(10):
        sums[:, a:a + 10] += joint[:, a, :]
    return torch.log(sums + 1e-9)


x_train, target = torch.from_numpy(images_train), torch.tensor(y)
optimizer = torch.optim.Adam(reader.parameters(), lr=2e-3)
for epoch in range({epochs}):
    reader.train()
    order = rng.permutation(len(x_train))
    for start in range(0, len(order), 64):
        idx = order[start:start + 64]
        loss = nn.functional.nll_loss(sum_log_probabilities(x_train[idx]), target[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
reader.eval()
with torch.no_grad():
    log_p = sum_log_probabilities(torch.from_numpy(images_test))
if {expected}:  # the expected sum, rounded: quadratic weighting punishes far misses more than near ones
    prediction = (torch.exp(log_p) * torch.arange(19)).sum(dim=1).numpy()
else:
    prediction = log_p.argmax(dim=1).numpy()
"""

PLAIN_CNN = """
import torch
from torch import nn

torch.set_num_threads(1)
torch.manual_seed({seed})
rng = np.random.default_rng({seed})
net = nn.Sequential(
    nn.Conv2d(1, {width}, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d({width}, 2 * {width}, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Linear(2 * {width} * 8, 64), nn.ReLU(), nn.Linear(64, 19),
)
x_train, target = torch.from_numpy(images_train)[:, None], torch.tensor(y)
optimizer = torch.optim.Adam(net.parameters(), lr=2e-3)
for epoch in range({epochs}):
    net.train()
    order = rng.permutation(len(x_train))
    for start in range(0, len(order), 64):
        idx = order[start:start + 64]
        loss = nn.functional.cross_entropy(net(x_train[idx]), target[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
net.eval()
with torch.no_grad():
    prediction = net(torch.from_numpy(images_test)[:, None]).argmax(dim=1).numpy()
"""


def rule(name: str) -> str:
    return HEADER + RULES[name] + "\n" + FOOTER


def sklearn_member(features: str, model: str, swap: bool) -> str:
    return (HEADER + SWAP.format(swap=swap) + IMPORTS
            + SKLEARN.format(features=FEATURES[features], model=MODELS[model][1]) + FOOTER)


def reader(width: int, epochs: int, swap: bool, expected: bool, seed: int) -> str:
    return HEADER + SWAP.format(swap=swap) + READER.format(width=width, epochs=epochs, expected=expected,
                                                           seed=seed) + FOOTER


def plain_cnn(width: int, epochs: int, seed: int) -> str:
    return HEADER + SWAP.format(swap=True) + PLAIN_CNN.format(width=width, epochs=epochs, seed=seed) + FOOTER


POPULATION: list[tuple[str, str]] = [(name, rule(name)) for name in RULES]
POPULATION += [(team, _solution(team)) for team in SOLUTIONS]
POPULATION += [(f"{features}-{model}{'-swapped' if swap else ''}", sklearn_member(features, model, swap))
               for features in FEATURES for model in MODELS for swap in (False, True)]
POPULATION += [(f"reader-w{width}-e{epochs}{'-swapped' if swap else ''}{'-expected' if expected else ''}-s{seed}",
                reader(width, epochs, swap, expected, seed))
               for width, epochs, swap, seeds in ((8, 10, False, (0,)), (16, 25, True, (0, 1)))
               for expected in (False, True) for seed in seeds]
POPULATION += [(f"plain-cnn-w{width}-e{epochs}-s{seed}", plain_cnn(width, epochs, seed))
               for width, epochs in ((16, 15),) for seed in (0,)]
