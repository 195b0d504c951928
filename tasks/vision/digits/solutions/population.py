"""The leaderboard population: (team, code) pairs from trivial rules to small convolutional networks.

Each code string is a standalone script: it reads ./input/ (the image arrays and the CSV files) and writes
./submission.csv (id, label). The scripts are assembled from a few feature recipes, models and a CNN template.
"""

from __future__ import annotations

from pathlib import Path

# Members that are one of the task's own solutions: read from that file (team -> file name next to
# this one), so that the leaderboard scores exactly the code the baseline agent plays.
SOLUTIONS = {"logit-lane": "simple.py"}


def _solution(team: str) -> str:
    return (Path(__file__).parent / SOLUTIONS[team]).read_text(encoding="utf-8")


HEADER = """\
import numpy as np
import pandas as pd

train = pd.read_csv("input/train.csv")
test = pd.read_csv("input/test.csv")
images_train = np.load("input/train_images.npy").astype(np.float32) / 16.0
images_test = np.load("input/test_images.npy").astype(np.float32) / 16.0
y = train["label"].to_numpy()


def shift(images, dy, dx):
    out = np.zeros_like(images)
    h, w = images.shape[1:]
    out[:, max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \\
        images[:, max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
    return out
"""

FOOTER = """
pd.DataFrame({"id": test["id"], "label": np.asarray(prediction).astype(int)}).to_csv("submission.csv", index=False)
"""

# Rules that need no model: each sets `prediction`.
RULES = {
    "all-ones": "prediction = np.full(len(test), pd.Series(y).mode()[0])",
    "dice-rollers": "prediction = np.random.default_rng(3).integers(0, 10, len(test))",
    "ink-counters": (
        "ink_train = images_train.sum(axis=(1, 2))\n"
        "ink_test = images_test.sum(axis=(1, 2))\n"
        "centre = {c: ink_train[y == c].mean() for c in np.unique(y)}\n"
        "classes = np.array(sorted(centre))\n"
        "prediction = classes[np.abs(ink_test[:, None] - np.array([centre[c] for c in classes])).argmin(axis=1)]"
    ),
}

# Feature recipes: each turns `images` (n, 8, 8) into a 2-D array of features.
FEATURES = {
    "pixels": "def features(images):\n    return images.reshape(len(images), -1)\n",
    "pooled": (
        "def features(images):\n"
        "    return images.reshape(len(images), 4, 2, 4, 2).mean(axis=(2, 4)).reshape(len(images), -1)\n"
    ),
    "profiles": "def features(images):\n    return np.hstack([images.sum(axis=1), images.sum(axis=2)])\n",
}

# Models: (import line, constructor expression).
MODELS = {
    "stump": ("from sklearn.tree import DecisionTreeClassifier", "DecisionTreeClassifier(max_depth=2, random_state=0)"),
    "tree4": ("from sklearn.tree import DecisionTreeClassifier", "DecisionTreeClassifier(max_depth=4, random_state=0)"),
    "tree": ("from sklearn.tree import DecisionTreeClassifier", "DecisionTreeClassifier(random_state=0)"),
    "nb": ("from sklearn.naive_bayes import GaussianNB", "GaussianNB()"),
    "centroid": ("from sklearn.neighbors import NearestCentroid", "NearestCentroid()"),
    "knn1": ("from sklearn.neighbors import KNeighborsClassifier", "KNeighborsClassifier(n_neighbors=1)"),
    "knn3": ("from sklearn.neighbors import KNeighborsClassifier",
             "KNeighborsClassifier(n_neighbors=3, weights='distance')"),
    "logreg": ("from sklearn.linear_model import LogisticRegression", "LogisticRegression(C=1.0, max_iter=3000)"),
    "logreg-strong-l2": ("from sklearn.linear_model import LogisticRegression",
                         "LogisticRegression(C=0.02, max_iter=3000)"),
    "linear-svm": ("from sklearn.svm import LinearSVC", "LinearSVC(C=0.5, max_iter=20000, random_state=0)"),
    "forest20": ("from sklearn.ensemble import RandomForestClassifier",
                 "RandomForestClassifier(n_estimators=20, random_state=0, n_jobs=1)"),
    "forest300": ("from sklearn.ensemble import RandomForestClassifier",
                  "RandomForestClassifier(n_estimators=300, random_state=0, n_jobs=1)"),
    "extra300": ("from sklearn.ensemble import ExtraTreesClassifier",
                 "ExtraTreesClassifier(n_estimators=300, random_state=0, n_jobs=1)"),
    "lgbm": ("import lightgbm as lgb",
             "lgb.LGBMClassifier(n_estimators=150, learning_rate=0.1, num_leaves=15, n_jobs=1, verbose=-1, "
             "random_state=0)"),
    "mlp": ("from sklearn.neural_network import MLPClassifier",
            "MLPClassifier(hidden_layer_sizes=(128,), alpha=1e-3, max_iter=600, random_state=0)"),
    "rbf-svm": ("from sklearn.svm import SVC", "SVC(C=10.0, gamma='scale')"),
}

SKLEARN = """
{imports}
{features}
X_train = features(images_train)
X_test = features(images_test)
if {augment}:  # one-pixel shifts of every training image
    moves = [(0, 0), (1, 0), (-1, 0), (0, 1), (0, -1)]
    X_train = np.vstack([features(shift(images_train, dy, dx)) for dy, dx in moves])
    y = np.tile(y, len(moves))
model = {model}
model.fit(X_train, y)
prediction = model.predict(X_test)
"""

CNN = """
import torch
from torch import nn

torch.set_num_threads(1)
torch.manual_seed({seed})
rng = np.random.default_rng({seed})
width = {width}
net = nn.Sequential(
    nn.Conv2d(1, width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(width, 2 * width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Linear(2 * width * 4, 64), nn.ReLU(), nn.Linear(64, 10),
)
optimizer = torch.optim.Adam(net.parameters(), lr={lr})
targets = torch.tensor(y, dtype=torch.long)
for epoch in range({epochs}):
    net.train()
    order = rng.permutation(len(images_train))
    for start in range(0, len(order), 64):
        idx = order[start:start + 64]
        batch = images_train[idx]
        if {augment}:
            dy, dx = rng.integers(-1, 2, size=2)
            batch = shift(batch, int(dy), int(dx))
        loss = nn.functional.cross_entropy(net(torch.from_numpy(batch)[:, None]), targets[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
net.eval()
with torch.no_grad():
    prediction = net(torch.from_numpy(images_test)[:, None]).argmax(dim=1).numpy()
"""


def _rule(name: str) -> str:
    return HEADER + "\n" + RULES[name] + "\n" + FOOTER


def _sklearn(features: str, model: str, augment: bool = False) -> str:
    imports, constructor = MODELS[model]
    body = SKLEARN.format(imports=imports, features=FEATURES[features], model=constructor, augment=augment)
    return HEADER + body + FOOTER


def _cnn(epochs: int, width: int = 16, lr: float = 3e-3, augment: bool = False, seed: int = 0) -> str:
    return HEADER + CNN.format(epochs=epochs, width=width, lr=lr, augment=augment, seed=seed) + FOOTER


POPULATION: list[tuple[str, str]] = [
    ("most-common-digit", _rule("all-ones")),
    ("dice-rollers", _rule("dice-rollers")),
    ("ink-counters", _rule("ink-counters")),
    ("stump-club", _sklearn("pixels", "stump")),
    ("shallow-thinkers", _sklearn("pixels", "tree4")),
    ("profile-readers", _sklearn("profiles", "logreg")),
    ("lone-tree", _sklearn("pixels", "tree")),
    ("naive-bayesians", _sklearn("pixels", "nb")),
    ("centroid-crew", _sklearn("pixels", "centroid")),
    ("blurry-vision", _sklearn("pooled", "logreg")),
    ("heavy-regularisers", _sklearn("pixels", "logreg-strong-l2")),
    ("logit-lane", _solution("logit-lane")),
    ("margin-makers", _sklearn("pixels", "linear-svm")),
    ("small-grove", _sklearn("pixels", "forest20")),
    ("pooled-forest", _sklearn("pooled", "forest300")),
    ("big-forest", _sklearn("pixels", "forest300")),
    ("extra-random", _sklearn("pixels", "extra300")),
    ("boosters", _sklearn("pixels", "lgbm")),
    ("one-neighbour", _sklearn("pixels", "knn1")),
    ("three-neighbours", _sklearn("pixels", "knn3")),
    ("perceptrons", _sklearn("pixels", "mlp")),
    ("kernel-trick", _sklearn("pixels", "rbf-svm")),
    ("shifty-kernels", _sklearn("pixels", "rbf-svm", augment=True)),
    ("conv-sprint", _cnn(epochs=2, width=8)),
    ("conv-net", _cnn(epochs=25)),
    ("conv-shifters", _cnn(epochs=40, width=32, augment=True)),
]
