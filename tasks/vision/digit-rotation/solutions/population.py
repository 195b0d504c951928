"""The leaderboard population: a sweep from uniform guesses to gradient features, turned training digits and
small CNNs.

Each code string is a standalone script: it reads ./input/ (the image arrays and the CSV files) and writes
./submission.csv (id, up, left, down, right). The scripts are assembled from feature recipes x models x whether
the training digits are also turned (each digit turned by a quarter more is a new example with a known label),
and a small convolutional network template over widths, epochs and seeds.
"""

from __future__ import annotations

from pathlib import Path

# Members that are one of the task's own solutions: read from that file (team -> file name next to
# this one), so that the leaderboard scores exactly the code the baseline agent plays.
SOLUTIONS = {"profile-logit": "simple.py", "turned-gradient-boost": "reference.py"}


def _solution(team: str) -> str:
    return (Path(__file__).parent / SOLUTIONS[team]).read_text(encoding="utf-8")


HEADER = """\
import numpy as np
import pandas as pd

train = pd.read_csv("input/train.csv")
test = pd.read_csv("input/test.csv")
images_train = np.load("input/train_images.npy").astype(np.float64) / 16.0
images_test = np.load("input/test_images.npy").astype(np.float64) / 16.0
y = train["top"].to_numpy()
TOPS = np.array(["up", "left", "down", "right"])  # np.rot90 by one quarter: up -> left
"""

FOOTER = """
p = np.clip(np.nan_to_num(np.asarray(p, dtype=float), nan=0.25), 1e-3, 1.0)
p = p / p.sum(axis=1, keepdims=True)
submission = pd.DataFrame(p, columns=TOPS)
submission.insert(0, "id", test["id"].to_numpy())
submission.to_csv("submission.csv", index=False)
"""

TURN = """
if {turn}:  # a training digit turned by k quarters more: its top moves k steps on along up, left, down, right
    images_train = np.concatenate([np.rot90(images_train, k, axes=(1, 2)) for k in range(4)])
    quarter = np.argmax(y[:, None] == TOPS[None], axis=1)
    y = np.concatenate([TOPS[(quarter + k) % 4] for k in range(4)])
"""

RULES = {
    "uniform": "p = np.full((len(test), 4), 0.25)",
    "train-shares": "p = np.tile([(y == t).mean() for t in TOPS], (len(test), 1))",
    "ink-side-up": (  # the half with more ink is taken to be the top (many digits are top-heavy)
        "top = images_test[:, :4].mean(axis=(1, 2))\n"
        "bottom = images_test[:, 4:].mean(axis=(1, 2))\n"
        "left = images_test[:, :, :4].mean(axis=(1, 2))\n"
        "right = images_test[:, :, 4:].mean(axis=(1, 2))\n"
        "score = np.column_stack([top - bottom, left - right, bottom - top, right - left]) * 10\n"
        "p = np.exp(score) / np.exp(score).sum(axis=1, keepdims=True)"
    ),
}

# Feature recipes: each defines `features(images)` -> 2-D array.
FEATURES = {
    "pixels": "def features(images):\n    return images.reshape(len(images), -1)\n",
    "thumbnail": (
        "def features(images):\n"
        "    return images.reshape(len(images), 4, 2, 4, 2).mean(axis=(2, 4)).reshape(len(images), -1)\n"
    ),
    "profiles": (
        "def features(images):\n"
        "    z = images - images.mean(axis=(1, 2), keepdims=True)\n"
        "    return np.hstack([z.mean(axis=1), z.mean(axis=2), z.std(axis=1), z.std(axis=2)])\n"
    ),
    "gradients": (
        "def features(images):\n"
        "    gy, gx = np.gradient(images, axis=(1, 2))\n"
        "    magnitude = np.hypot(gx, gy) + 1e-9\n"
        "    angle = np.arctan2(gy, gx)\n"
        "    bins = np.minimum(((angle + np.pi) / (2 * np.pi) * 16).astype(int), 15)\n"
        "    hist = np.stack([(magnitude * (bins == b)).sum(axis=(1, 2)) for b in range(16)], axis=1)\n"
        "    hist /= hist.sum(axis=1, keepdims=True)\n"
        "    halves = [images[:, :4].mean(axis=(1, 2)) - images[:, 4:].mean(axis=(1, 2)),\n"
        "              images[:, :, :4].mean(axis=(1, 2)) - images[:, :, 4:].mean(axis=(1, 2))]\n"
        "    return np.column_stack([hist, gy.mean(axis=(1, 2)), gx.mean(axis=(1, 2)), *halves])\n"
    ),
    "hog": (
        "from skimage.feature import hog\n"
        "def features(images):\n"
        "    return np.array([hog(image, orientations=9, pixels_per_cell=(4, 4), cells_per_block=(1, 1))"
        " for image in images])\n"
    ),
}
FEATURES["gradients-profiles"] = (
    "\n".join(FEATURES[name].replace("def features(", f"def features_{name}(") for name in ("gradients", "profiles"))
    + "\ndef features(images):\n    return np.hstack([features_gradients(images), features_profiles(images)])\n"
)

SCALED = "make_pipeline(StandardScaler(), {})"
MODELS = {
    "nb": "GaussianNB()",
    "tree": "DecisionTreeClassifier(max_depth=6, min_samples_leaf=10, random_state=0)",
    "knn25": SCALED.format("KNeighborsClassifier(n_neighbors=25)"),
    "logreg-weak": SCALED.format("LogisticRegression(C=0.01, max_iter=3000)"),
    "logreg": SCALED.format("LogisticRegression(C=1.0, max_iter=3000)"),
    "forest": "RandomForestClassifier(n_estimators=200, min_samples_leaf=3, random_state=0, n_jobs=1)",
    "lgbm": "lgb.LGBMClassifier(n_estimators=300, learning_rate=0.03, num_leaves=15, n_jobs=1, verbose=-1, "
            "random_state=0)",
    "mlp": SCALED.format("MLPClassifier(hidden_layer_sizes=(64,), alpha=1.0, max_iter=300, random_state=0)"),
}

IMPORTS = """
import lightgbm as lgb
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier
"""

SKLEARN = """
{features}
model = {model}
model.fit(features(images_train), y)
p = model.predict_proba(features(images_test))[:, [list(model.classes_).index(t) for t in TOPS]]
"""

CNN = """
import torch
from torch import nn

torch.set_num_threads(1)
torch.manual_seed({seed})
rng = np.random.default_rng({seed})
target = torch.tensor(np.argmax(y[:, None] == TOPS[None], axis=1))
x_train = torch.tensor(images_train[:, None] - 0.5, dtype=torch.float32)
x_test = torch.tensor(images_test[:, None] - 0.5, dtype=torch.float32)
net = nn.Sequential(
    nn.Conv2d(1, {width}, 3, padding=1), nn.BatchNorm2d({width}), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d({width}, 2 * {width}, 3, padding=1), nn.BatchNorm2d(2 * {width}), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(2 * {width}, 2 * {width}, 3, padding=1), nn.ReLU(),
    nn.Flatten(), nn.Dropout(0.3), nn.Linear(2 * {width} * 4, 4),
)
optimizer = torch.optim.AdamW(net.parameters(), lr=2e-3, weight_decay=1e-2)
for epoch in range({epochs}):
    net.train()
    order = rng.permutation(len(x_train))
    for start in range(0, len(order), 128):
        idx = order[start:start + 128]
        loss = nn.functional.cross_entropy(net(x_train[idx]), target[idx], label_smoothing=0.05)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
net.eval()
with torch.no_grad():
    p = torch.softmax(net(x_test), dim=1).numpy()
"""


def rule(name: str) -> str:
    return HEADER + RULES[name] + "\n" + FOOTER


def sklearn_member(features: str, model: str, turn: bool) -> str:
    return (HEADER + TURN.format(turn=turn) + IMPORTS + SKLEARN.format(features=FEATURES[features], model=MODELS[model])
            + FOOTER)


def cnn(width: int, epochs: int, turn: bool, seed: int) -> str:
    return HEADER + TURN.format(turn=turn) + CNN.format(width=width, epochs=epochs, seed=seed) + FOOTER


POPULATION: list[tuple[str, str]] = [(name, rule(name)) for name in RULES]
POPULATION += [(team, _solution(team)) for team in SOLUTIONS]
POPULATION += [(f"{features}-{model}{'-turned' if turn else ''}", sklearn_member(features, model, turn))
               for features in FEATURES for model in MODELS for turn in (False, True)
               ]
POPULATION += [(f"cnn-w{width}-e{epochs}{'-turned' if turn else ''}-s{seed}", cnn(width, epochs, turn, seed))
               for width, epochs, turn in ((8, 10, False), (16, 10, True)) for seed in (0, 1)]
