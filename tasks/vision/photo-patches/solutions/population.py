"""The leaderboard population: a sweep from constant guesses to colour/texture descriptors and small CNNs.

Each code string is a standalone script: it reads ./input/ (the image arrays and the CSV files) and writes
./submission.csv (id, photo). The scripts are assembled from feature recipes x models (a sweep), a few
rules, and a small convolutional network template over widths, epochs and seeds.
"""

from __future__ import annotations

from pathlib import Path

# Members that are one of the task's own solutions: read from that file (team -> file name next to
# this one), so that the leaderboard scores exactly the code the baseline agent plays.
SOLUTIONS = {"colour-logit": "simple.py", "descriptor-boost": "reference.py"}


def _solution(team: str) -> str:
    return (Path(__file__).parent / SOLUTIONS[team]).read_text(encoding="utf-8")


HEADER = """\
import numpy as np
import pandas as pd

train = pd.read_csv("input/train.csv")
test = pd.read_csv("input/test.csv")
images_train = np.load("input/train_images.npy").astype(np.float64) / 255.0
images_test = np.load("input/test_images.npy").astype(np.float64) / 255.0
y = train["photo"].to_numpy()
"""

FOOTER = """
pd.DataFrame({"id": test["id"], "photo": np.asarray(prediction)}).to_csv("submission.csv", index=False)
"""

RULES = {
    "all-astronaut": "prediction = np.full(len(test), 'astronaut')",
    "random-photos": "prediction = np.random.default_rng(2).choice(np.unique(y), len(test))",
    "nearest-mean-colour": (
        "classes = np.unique(y)\n"
        "centre = np.stack([images_train[y == c].mean(axis=(0, 1, 2)) for c in classes])\n"
        "colour = images_test.mean(axis=(1, 2))\n"
        "prediction = classes[((colour[:, None, :] - centre[None]) ** 2).sum(axis=2).argmin(axis=1)]"
    ),
}

# Feature recipes: each defines `features(images)` -> 2-D array.
FEATURES = {
    "pixels": "def features(images):\n    return images.reshape(len(images), -1)\n",
    "thumbnail": (
        "def features(images):\n"
        "    return images.reshape(len(images), 4, 4, 4, 4, 3).mean(axis=(2, 4)).reshape(len(images), -1)\n"
    ),
    "moments": (
        "def features(images):\n"
        "    flat = images.reshape(len(images), -1, 3)\n"
        "    return np.hstack([flat.mean(axis=1), flat.std(axis=1), *np.percentile(flat, [10, 50, 90], axis=1)])\n"
    ),
    "histogram": (
        "def features(images):\n"
        "    flat = images.reshape(len(images), -1, 3)\n"
        "    bins = np.minimum((flat * 4).astype(int), 3)\n"
        "    joint = bins[:, :, 0] * 16 + bins[:, :, 1] * 4 + bins[:, :, 2]\n"
        "    return np.stack([np.bincount(row, minlength=64) for row in joint]) / joint.shape[1]\n"
    ),
    "hsv": (
        "from skimage.color import rgb2hsv\n"
        "def features(images):\n"
        "    hsv = rgb2hsv(images).reshape(len(images), -1, 3)\n"
        "    hue = hsv[:, :, 0] * 2 * np.pi\n"
        "    return np.column_stack([np.cos(hue).mean(axis=1), np.sin(hue).mean(axis=1), hsv[:, :, 1].mean(axis=1),"
        " hsv[:, :, 1].std(axis=1), hsv[:, :, 2].mean(axis=1), hsv[:, :, 2].std(axis=1)])\n"
    ),
    "edges": (
        "def features(images):\n"
        "    grey = images.mean(axis=3)\n"
        "    gy, gx = np.gradient(grey, axis=(1, 2))\n"
        "    magnitude = np.hypot(gx, gy)\n"
        "    orientation = np.minimum(((np.arctan2(gy, gx) % np.pi) / np.pi * 6).astype(int), 5)\n"
        "    hist = np.stack([(magnitude * (orientation == b)).mean(axis=(1, 2)) for b in range(6)], axis=1)\n"
        "    return np.column_stack([hist, magnitude.mean(axis=(1, 2)), magnitude.std(axis=(1, 2)),"
        " grey.std(axis=(1, 2))])\n"
    ),
}
FEATURES["colour-texture"] = (
    "\n".join(FEATURES[name].replace("def features(", f"def features_{name}(")
              for name in ("moments", "histogram", "hsv", "edges"))
    + "\ndef features(images):\n"
    "    return np.hstack([features_moments(images), features_histogram(images), features_hsv(images),"
    " features_edges(images)])\n"
)

SCALED = "make_pipeline(StandardScaler(), {})"
MODELS = {
    "nb": "GaussianNB()",
    "stump": "DecisionTreeClassifier(max_depth=3, random_state=0)",
    "tree": "DecisionTreeClassifier(min_samples_leaf=3, random_state=0)",
    "knn1": SCALED.format("KNeighborsClassifier(n_neighbors=1)"),
    "knn15": SCALED.format("KNeighborsClassifier(n_neighbors=15)"),
    "logreg-weak": SCALED.format("LogisticRegression(C=0.01, max_iter=3000)"),
    "logreg": SCALED.format("LogisticRegression(C=1.0, max_iter=3000)"),
    "forest50": "RandomForestClassifier(n_estimators=50, random_state=0, n_jobs=1)",
    "forest300": "RandomForestClassifier(n_estimators=300, random_state=0, n_jobs=1)",
    "extra300": "ExtraTreesClassifier(n_estimators=300, random_state=0, n_jobs=1)",
    "lgbm": "lgb.LGBMClassifier(n_estimators=150, learning_rate=0.05, num_leaves=15, n_jobs=1, verbose=-1, "
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
x_train = torch.tensor(images_train.transpose(0, 3, 1, 2) - 0.5, dtype=torch.float32)
x_test = torch.tensor(images_test.transpose(0, 3, 1, 2) - 0.5, dtype=torch.float32)
net = nn.Sequential(
    nn.Conv2d(3, {width}, 3, padding=1), nn.BatchNorm2d({width}), nn.ReLU(), nn.MaxPool2d(2),
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
        if {augment} and rng.random() < 0.5:  # a mirrored patch comes from the same photo
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
POPULATION += [(f"{features}-{model}", sklearn_member(features, model)) for features in FEATURES for model in MODELS]
POPULATION += [(f"cnn-w{width}-e{epochs}{'-aug' if augment else ''}-s{seed}", cnn(width, epochs, augment, seed))
               for width, epochs, augment in ((16, 15, True),) for seed in (0,)]
