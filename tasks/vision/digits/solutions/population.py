"""The leaderboard population: (team, code) pairs from trivial rules to small convolutional networks.

Each code string is a standalone script: it reads ./input/ (the image arrays and the CSV files) and writes
./submission.csv (id, label). The scripts are assembled from a few rules, feature recipes (raw pixels, blurred
pixels, pooled pixels, gradient histograms), models, one-pixel-shift augmentation, seeds and a CNN template: a
sweep, from the trivial to the strong.
"""

from __future__ import annotations

from pathlib import Path

# Members that are one of the task's own solutions: read from that file (team -> file name next to
# this one), so that the leaderboard scores exactly the code the baseline agent plays.
SOLUTIONS = {"logit-lane": "simple.py", "deep-shifters": "reference.py"}


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
    "most-common-digit": "prediction = np.full(len(test), pd.Series(y).mode()[0])",
    "dice-rollers": "prediction = np.random.default_rng(3).integers(0, 10, len(test))",
    "ink-counters": (
        "ink_train = images_train.sum(axis=(1, 2))\n"
        "ink_test = images_test.sum(axis=(1, 2))\n"
        "classes = np.unique(y)\n"
        "centre = np.array([ink_train[y == c].mean() for c in classes])\n"
        "prediction = classes[np.abs(ink_test[:, None] - centre).argmin(axis=1)]"
    ),
    "template-matchers": (  # correlation with each digit's mean training image
        "def unit(a):\n"
        "    a = a.reshape(len(a), -1)\n"
        "    a = a - a.mean(axis=1, keepdims=True)\n"
        "    return a / (np.linalg.norm(a, axis=1, keepdims=True) + 1e-9)\n"
        "classes = np.unique(y)\n"
        "templates = unit(np.stack([images_train[y == c].mean(axis=0) for c in classes]))\n"
        "prediction = classes[(unit(images_test) @ templates.T).argmax(axis=1)]"
    ),
}

# Feature recipes: each defines `features(images)` (n, 8, 8) -> a 2-D array.
BLUR = """\
def blur(images):
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1)))
    rows = 0.25 * padded[:, :-2] + 0.5 * padded[:, 1:-1] + 0.25 * padded[:, 2:]
    return 0.25 * rows[:, :, :-2] + 0.5 * rows[:, :, 1:-1] + 0.25 * rows[:, :, 2:]
"""
HOG = """\
def hog(images, cell=4, step=2, bins=8):
    gy, gx = np.gradient(images, axis=(1, 2))
    magnitude = np.hypot(gx, gy)
    orientation = np.minimum((np.mod(np.arctan2(gy, gx), 2 * np.pi) / (2 * np.pi) * bins).astype(int), bins - 1)
    n, h, w = images.shape
    cells = []
    for i in range(0, h - cell + 1, step):
        for j in range(0, w - cell + 1, step):
            m = magnitude[:, i:i + cell, j:j + cell]
            o = orientation[:, i:i + cell, j:j + cell]
            hist = np.stack([(m * (o == b)).sum(axis=(1, 2)) for b in range(bins)], axis=1)
            cells.append(hist / (np.linalg.norm(hist, axis=1, keepdims=True) + 0.1))
    return np.hstack(cells)
"""
FEATURES = {
    "pixels": "def features(images):\n    return images.reshape(len(images), -1)\n",
    "blur": BLUR + "\ndef features(images):\n    return blur(images).reshape(len(images), -1)\n",
    "pooled": (
        "def features(images):\n"
        "    return images.reshape(len(images), 4, 2, 4, 2).mean(axis=(2, 4)).reshape(len(images), -1)\n"
    ),
    "hog": HOG + "\ndef features(images):\n    return hog(images)\n",
    "hog-blur": BLUR + HOG + (
        "\ndef features(images):\n"
        "    smooth = blur(images)\n"
        "    return np.hstack([hog(smooth), smooth.reshape(len(images), -1)])\n"
    ),
}

# Models: (import lines, constructor expression with {seed}).
MODELS = {
    "stump": ("from sklearn.tree import DecisionTreeClassifier",
              "DecisionTreeClassifier(max_depth=2, random_state={seed})"),
    "tree": ("from sklearn.tree import DecisionTreeClassifier",
             "DecisionTreeClassifier(max_depth=8, random_state={seed})"),
    "nb": ("from sklearn.naive_bayes import GaussianNB", "GaussianNB()"),
    "centroid": ("from sklearn.neighbors import NearestCentroid", "NearestCentroid()"),
    "knn1": ("from sklearn.neighbors import KNeighborsClassifier", "KNeighborsClassifier(n_neighbors=1)"),
    "knn5": ("from sklearn.neighbors import KNeighborsClassifier",
             "KNeighborsClassifier(n_neighbors=5, weights='distance')"),
    "logreg-weak": ("from sklearn.linear_model import LogisticRegression", "LogisticRegression(C=0.01, max_iter=3000)"),
    "logreg": ("from sklearn.linear_model import LogisticRegression", "LogisticRegression(C=0.3, max_iter=3000)"),
    "linear-svm": ("from sklearn.svm import LinearSVC", "LinearSVC(C=0.1, max_iter=20000, random_state={seed})"),
    "forest": ("from sklearn.ensemble import RandomForestClassifier",
               "RandomForestClassifier(n_estimators=200, random_state={seed}, n_jobs=1)"),
    "extra": ("from sklearn.ensemble import ExtraTreesClassifier",
              "ExtraTreesClassifier(n_estimators=200, random_state={seed}, n_jobs=1)"),
    "lgbm": ("import lightgbm as lgb",
             "lgb.LGBMClassifier(n_estimators=100, learning_rate=0.1, num_leaves=15, n_jobs=1, verbose=-1, "
             "random_state={seed})"),
    "mlp": ("from sklearn.neural_network import MLPClassifier",
            "MLPClassifier(hidden_layer_sizes=(128,), alpha=1e-2, max_iter=500, random_state={seed})"),
    "svm": ("from sklearn.svm import SVC", "SVC(C=10.0, gamma='scale')"),
    "svm-soft": ("from sklearn.svm import SVC", "SVC(C=1.0, gamma='scale')"),
}

SKLEARN = """
{imports}
{features}
X_train = features(images_train)
X_test = features(images_test)
if {augment}:  # every training image also moved by one pixel each way
    moves = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
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
    nn.Flatten(), nn.Dropout(0.2), nn.Linear(2 * width * 4, 64), nn.ReLU(), nn.Linear(64, 10),
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

# A deeper network (three convolution layers, dropout, a one-cycle schedule): `seeds` networks averaged.
DEEP = """
import torch
from torch import nn

torch.set_num_threads(1)
targets = torch.tensor(y, dtype=torch.long)


def train_one(seed, epochs, batch=64):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 128, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.3), nn.Linear(128 * 2 * 2, 128), nn.ReLU(), nn.Linear(128, 10),
    )
    steps = epochs * ((len(images_train) + batch - 1) // batch)
    optimizer = torch.optim.AdamW(net.parameters(), lr=2e-3, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=5e-3, total_steps=steps)
    for _ in range(epochs):
        net.train()
        order = rng.permutation(len(images_train))
        for start in range(0, len(order), batch):
            idx = order[start:start + batch]
            dy, dx = rng.integers(-1, 2, size=2)
            xb = torch.from_numpy(shift(images_train[idx], int(dy), int(dx)))[:, None]
            loss = nn.functional.cross_entropy(net(xb), targets[idx], label_smoothing=0.05)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
    net.eval()
    with torch.no_grad():
        return torch.softmax(net(torch.from_numpy(images_test)[:, None]), dim=1).numpy()


prediction = sum(train_one(seed, {epochs}) for seed in {seeds}).argmax(axis=1)
"""


def _rule(name: str) -> str:
    return HEADER + "\n" + RULES[name] + "\n" + FOOTER


def _sklearn(features: str, model: str, augment: bool = False, seed: int = 0) -> str:
    imports, constructor = MODELS[model]
    body = SKLEARN.format(imports=imports, features=FEATURES[features], model=constructor.format(seed=seed),
                          augment=augment)
    return HEADER + body + FOOTER


def _deep(epochs: int, seeds: tuple[int, ...]) -> str:
    return HEADER + DEEP.format(epochs=epochs, seeds=seeds) + FOOTER


def _cnn(epochs: int, width: int = 16, lr: float = 3e-3, augment: bool = False, seed: int = 0) -> str:
    return HEADER + CNN.format(epochs=epochs, width=width, lr=lr, augment=augment, seed=seed) + FOOTER


POPULATION: list[tuple[str, str]] = [(name, _rule(name)) for name in RULES]
POPULATION += [("logit-lane", _solution("logit-lane")), ("deep-shifters", _solution("deep-shifters"))]
# Every feature recipe x every model, without augmentation (seed 0 where the model takes one).
POPULATION += [(f"{features}-{model}", _sklearn(features, model))
               for features in FEATURES for model in MODELS if (features, model) != ("pixels", "logreg")]
# One-pixel-shift augmentation for the models that stay fast on nine times the rows.
POPULATION += [(f"{features}-{model}-shifted", _sklearn(features, model, augment=True))
               for features in ("pixels", "blur", "hog-blur") for model in ("centroid", "knn5", "logreg", "svm")]
POPULATION += [("blur-extra-shifted", _sklearn("blur", "extra", augment=True))]
# Other seeds of the seeded models.
POPULATION += [(f"{features}-{model}-seed{seed}", _sklearn(features, model, seed=seed))
               for features in ("blur", "hog-blur") for model in ("forest", "mlp") for seed in (1, 2)]
# Small convolutional networks: short and long, narrow and wide, with and without shifts, a few seeds.
POPULATION += [
    ("conv-sprint", _cnn(epochs=3, width=8)),
    ("conv-jog", _cnn(epochs=10, width=8)),
    ("conv-net", _cnn(epochs=25)),
    ("conv-shifters", _cnn(epochs=30, augment=True)),
    ("conv-shifters-wide", _cnn(epochs=30, width=32, augment=True)),
    ("conv-shifters-slow", _cnn(epochs=30, lr=1e-3, augment=True)),
]
POPULATION += [(f"conv-shifters-s{seed}", _cnn(epochs=30, augment=True, seed=seed)) for seed in (1, 2)]
# The deeper network: shorter and longer runs, other seeds, two or three seeds averaged (the reference is 20 epochs,
# seed 0).
POPULATION += [(f"deep-e{epochs}-s{'+'.join(map(str, seeds))}", _deep(epochs, seeds))
               for epochs, seeds in ((8, (0,)), (20, (1,)), (20, (2,)), (30, (0,)), (45, (0,)),
                                     (20, (1, 2)), (30, (1, 2)), (35, (0, 1)), (40, (0, 1)), (25, (0, 1, 2)))]
