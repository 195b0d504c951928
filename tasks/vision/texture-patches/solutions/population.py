"""The leaderboard population: a sweep from constant guesses to texture statistics and small CNNs.

Each code string is a standalone script: it reads ./input/ (the image arrays and the CSV files) and writes
./submission.csv (id, texture). The scripts are assembled from feature recipes x models (a sweep), a few
rules, and a small convolutional network template over widths, epochs and seeds.
"""

from __future__ import annotations

from pathlib import Path

# Members that are one of the task's own solutions: read from that file (team -> file name next to
# this one), so that the leaderboard scores exactly the code the baseline agent plays.
SOLUTIONS = {"grey-level-forest": "simple.py", "texture-kernel": "reference.py"}


def _solution(team: str) -> str:
    return (Path(__file__).parent / SOLUTIONS[team]).read_text(encoding="utf-8")


HEADER = """\
import numpy as np
import pandas as pd

train = pd.read_csv("input/train.csv")
test = pd.read_csv("input/test.csv")
images_train = np.load("input/train_images.npy").astype(np.float64) / 255.0
images_test = np.load("input/test_images.npy").astype(np.float64) / 255.0
y = train["texture"].to_numpy()
"""

FOOTER = """
pd.DataFrame({"id": test["id"], "texture": np.asarray(prediction)}).to_csv("submission.csv", index=False)
"""

RULES = {
    "all-brick": "prediction = np.full(len(test), 'brick')",
    "random-labels": "prediction = np.random.default_rng(1).choice(np.unique(y), len(test))",
    "contrast-nearest": (
        "spread_train = images_train.std(axis=(1, 2))\n"
        "spread_test = images_test.std(axis=(1, 2))\n"
        "classes = np.unique(y)\n"
        "centre = np.array([spread_train[y == c].mean() for c in classes])\n"
        "prediction = classes[np.abs(spread_test[:, None] - centre).argmin(axis=1)]"
    ),
}

# Feature recipes: each defines `features(images)` -> 2-D array.
FEATURES = {
    "pixels": "def features(images):\n    return images.reshape(len(images), -1)\n",
    "znorm": (
        "def features(images):\n"
        "    flat = images.reshape(len(images), -1)\n"
        "    return (flat - flat.mean(axis=1, keepdims=True)) / (flat.std(axis=1, keepdims=True) + 1e-6)\n"
    ),
    "stats": (
        "def features(images):\n"
        "    flat = images.reshape(len(images), -1)\n"
        "    return np.column_stack([flat.mean(axis=1), flat.std(axis=1),"
        " *np.percentile(flat, [5, 25, 50, 75, 95], axis=1)])\n"
    ),
    "gradients": (
        "def features(images):\n"
        "    z = (images - images.mean(axis=(1, 2), keepdims=True)) / (images.std(axis=(1, 2), keepdims=True) + 1e-6)\n"
        "    out = []\n"
        "    for lag in (1, 2, 4):\n"
        "        dx = np.abs(z[:, :, lag:] - z[:, :, :-lag])\n"
        "        dy = np.abs(z[:, lag:, :] - z[:, :-lag, :])\n"
        "        out += [dx.mean(axis=(1, 2)), dy.mean(axis=(1, 2)), dx.std(axis=(1, 2)), dy.std(axis=(1, 2))]\n"
        "    gy, gx = np.gradient(z, axis=(1, 2))\n"
        "    angle = np.arctan2(gy, gx) % np.pi\n"
        "    magnitude = np.hypot(gx, gy)\n"
        "    bins = np.minimum((angle / np.pi * 8).astype(int), 7)\n"
        "    hist = np.stack([(magnitude * (bins == b)).sum(axis=(1, 2)) for b in range(8)], axis=1)\n"
        "    hist /= hist.sum(axis=1, keepdims=True) + 1e-9\n"
        "    return np.column_stack(out + [hist, images.std(axis=(1, 2))])\n"
    ),
    "lbp": (
        "from skimage.feature import local_binary_pattern\n"
        "def features(images):\n"
        "    rows = []\n"
        "    for image in images:\n"
        "        row = []\n"
        "        for points, radius in ((8, 1), (8, 2), (16, 3)):\n"
        "            codes = local_binary_pattern(image, points, radius, method='uniform')\n"
        "            row.append(np.bincount(codes.astype(int).ravel(), minlength=points + 2) / codes.size)\n"
        "        rows.append(np.concatenate(row))\n"
        "    return np.array(rows)\n"
    ),
    "spectrum": (
        "def features(images):\n"
        "    z = images - images.mean(axis=(1, 2), keepdims=True)\n"
        "    power = np.abs(np.fft.fftshift(np.fft.fft2(z), axes=(1, 2))) ** 2\n"
        "    n = images.shape[1]\n"
        "    yy, xx = np.mgrid[:n, :n] - n // 2\n"
        "    radius = np.minimum(np.hypot(yy, xx).astype(int), n // 2)\n"
        "    angle = ((np.arctan2(yy, xx) % np.pi) / np.pi * 4).astype(int) % 4\n"
        "    rings = np.stack([power[:, radius == r].sum(axis=1) for r in range(1, n // 2 + 1)], axis=1)\n"
        "    wedges = np.stack([power[:, (angle == a) & (radius > 1)].sum(axis=1) for a in range(4)], axis=1)\n"
        "    total = rings.sum(axis=1, keepdims=True) + 1e-9\n"
        "    return np.column_stack([np.log(rings / total + 1e-9), wedges / total, np.log(total)])\n"
    ),
}
FEATURES["combo"] = (
    "\n".join(FEATURES[name].replace("def features(", f"def features_{name}(")
              for name in ("stats", "gradients", "lbp", "spectrum"))
    + "\ndef features(images):\n"
    "    return np.hstack([features_stats(images), features_gradients(images), features_lbp(images),"
    " features_spectrum(images)])\n"
)

SCALED = "make_pipeline(StandardScaler(), {})"
MODELS = {
    "nb": "GaussianNB()",
    "stump": "DecisionTreeClassifier(max_depth=2, random_state=0)",
    "tree": "DecisionTreeClassifier(min_samples_leaf=3, random_state=0)",
    "knn1": SCALED.format("KNeighborsClassifier(n_neighbors=1)"),
    "knn15": SCALED.format("KNeighborsClassifier(n_neighbors=15)"),
    "logreg-weak": SCALED.format("LogisticRegression(C=0.01, max_iter=3000)"),
    "logreg": SCALED.format("LogisticRegression(C=1.0, max_iter=3000)"),
    "forest50": "RandomForestClassifier(n_estimators=50, random_state=0, n_jobs=1)",
    "forest300": "RandomForestClassifier(n_estimators=300, random_state=0, n_jobs=1)",
    "extra300": "ExtraTreesClassifier(n_estimators=300, random_state=0, n_jobs=1)",
    "lgbm": "lgb.LGBMClassifier(n_estimators=200, learning_rate=0.05, num_leaves=15, n_jobs=1, verbose=-1, "
            "random_state=0)",
    "svm-c1": SCALED.format("SVC(C=1.0)"),
    "svm-c10": SCALED.format("SVC(C=10.0)"),
    "mlp": SCALED.format("MLPClassifier(hidden_layer_sizes=(128,), alpha=1e-2, max_iter=500, random_state=0)"),
}

IMPORTS = """
import lightgbm as lgb
from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier
"""

SKLEARN = """
{features}
model = {model}
model.fit(features(images_train), y)
prediction = model.predict(features(images_test))
"""

CNN = """
import torch
from torch import nn

torch.set_num_threads(1)
torch.manual_seed({seed})
rng = np.random.default_rng({seed})
classes = np.unique(y)
target = torch.tensor(np.searchsorted(classes, y))


def normalise(images):
    z = (images - images.mean(axis=(1, 2), keepdims=True)) / (images.std(axis=(1, 2), keepdims=True) + 1e-6)
    return torch.tensor(z[:, None], dtype=torch.float32)


x_train, x_test = normalise(images_train), normalise(images_test)
net = nn.Sequential(
    nn.Conv2d(1, {width}, 3, padding=1), nn.BatchNorm2d({width}), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d({width}, 2 * {width}, 3, padding=1), nn.BatchNorm2d(2 * {width}), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(2 * {width}, 2 * {width}, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
    nn.Flatten(), nn.Linear(2 * {width}, len(classes)),
)
optimizer = torch.optim.AdamW(net.parameters(), lr=3e-3, weight_decay=1e-3)
for epoch in range({epochs}):
    net.train()
    order = rng.permutation(len(x_train))
    for start in range(0, len(order), 64):
        idx = order[start:start + 64]
        xb = x_train[idx]
        if {augment}:  # flips and quarter turns keep the texture's class
            xb = torch.rot90(xb, int(rng.integers(4)), dims=(2, 3))
            if rng.random() < 0.5:
                xb = torch.flip(xb, dims=(3,))
        loss = nn.functional.cross_entropy(net(xb), target[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
net.eval()
with torch.no_grad():
    prediction = classes[net(x_test).argmax(dim=1).numpy()]
"""


def rule(name: str) -> str:
    return HEADER + RULES[name] + "\n" + FOOTER


def sklearn_member(features: str, model: str) -> str:
    return HEADER + IMPORTS + SKLEARN.format(features=FEATURES[features], model=MODELS[model]) + FOOTER


def cnn(width: int, epochs: int, augment: bool, seed: int) -> str:
    return HEADER + CNN.format(width=width, epochs=epochs, augment=augment, seed=seed) + FOOTER


POPULATION: list[tuple[str, str]] = [(name, rule(name)) for name in RULES]
POPULATION += [(team, _solution(team)) for team in SOLUTIONS]
POPULATION += [(f"{features}-{model}", sklearn_member(features, model)) for features in FEATURES for model in MODELS
               if (features, model) != ("combo", "svm-c10")]  # that one is reference.py
POPULATION += [(f"cnn-w{width}-e{epochs}{'-aug' if augment else ''}-s{seed}", cnn(width, epochs, augment, seed))
               for width, epochs, augment in ((8, 8, False), (16, 15, True)) for seed in (0, 1)]
