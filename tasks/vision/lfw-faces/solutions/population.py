"""The leaderboard population: (team, code) pairs from constant guesses to HOG features and small CNNs.

Each code string is a standalone script: it reads ./input/ (the image arrays and the CSV files) and writes
./submission.csv (id, face). The scripts are assembled from a few feature recipes, models and a CNN template.
"""

from __future__ import annotations

from pathlib import Path

# Members that are one of the task's own solutions: read from that file (team -> file name next to
# this one), so that the leaderboard scores exactly the code the baseline agent plays.
SOLUTIONS = {"pixel-logit": "simple.py", "smooth-gradient-ensemble": "reference.py"}


def _solution(team: str) -> str:
    return (Path(__file__).parent / SOLUTIONS[team]).read_text(encoding="utf-8")


HEADER = """\
import numpy as np
import pandas as pd

train = pd.read_csv("input/train.csv")
test = pd.read_csv("input/test.csv")
images_train = np.load("input/train_images.npy").astype(np.float64)
images_test = np.load("input/test_images.npy").astype(np.float64)
y = train["face"].to_numpy()
"""

FOOTER = """
face = np.clip(np.nan_to_num(np.asarray(face, dtype=float), nan=0.5), 0, 1)
pd.DataFrame({"id": test["id"], "face": face}).to_csv("submission.csv", index=False)
"""

# Rules that need no model: each sets `face` from the images (and the train labels).
RULES = {
    "constant": "face = np.full(len(test), y.mean())",
    "random": "face = np.random.default_rng(5).random(len(test))",
    "brightness": (
        "brightness = images_test.mean(axis=(1, 2))\n"
        "sign = 1 if images_train[y == 1].mean() > images_train[y == 0].mean() else -1\n"
        "face = 1 / (1 + np.exp(-sign * 10 * (brightness - images_train.mean())))"
    ),
    "template": (  # correlation with the mean training face minus correlation with the mean non-face
        "def unit(a):\n"
        "    a = a.reshape(len(a), -1)\n"
        "    a = a - a.mean(axis=1, keepdims=True)\n"
        "    return a / (np.linalg.norm(a, axis=1, keepdims=True) + 1e-9)\n"
        "mean_face = unit(images_train[y == 1].mean(axis=0)[None])[0]\n"
        "mean_other = unit(images_train[y == 0].mean(axis=0)[None])[0]\n"
        "face = (unit(images_test) @ mean_face - unit(images_test) @ mean_other + 2) / 4"
    ),
}

# Feature recipes: each defines `features(images)` -> 2-D array.
FEATURES = {
    "pixels": "def features(images):\n    return images.reshape(len(images), -1)\n",
    "normalised": (
        "def features(images):\n"
        "    flat = images.reshape(len(images), -1)\n"
        "    flat = flat - flat.mean(axis=1, keepdims=True)\n"
        "    return flat / (flat.std(axis=1, keepdims=True) + 1e-6)\n"
    ),
    "hog": """\
def features(images, cell=5, bins=9):
    gy, gx = np.gradient(images, axis=(1, 2))
    magnitude = np.hypot(gx, gy)
    orientation = np.minimum((np.mod(np.arctan2(gy, gx), np.pi) / np.pi * bins).astype(int), bins - 1)
    n, h, w = images.shape
    cells = []
    for i in range(0, h - cell + 1, cell):
        for j in range(0, w - cell + 1, cell):
            m = magnitude[:, i:i + cell, j:j + cell]
            o = orientation[:, i:i + cell, j:j + cell]
            hist = np.stack([(m * (o == b)).sum(axis=(1, 2)) for b in range(bins)], axis=1)
            cells.append(hist / (np.linalg.norm(hist, axis=1, keepdims=True) + 1e-6))
    return np.hstack(cells)
""",
}

# The same recipes on lightly blurred images: the noise added to the images swamps raw gradients.
SMOOTH = """\
def smooth(images, sigma=1.0):
    radius = 3
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    taps /= taps.sum()
    padded = np.pad(images, ((0, 0), (radius, radius), (radius, radius)), mode="edge")
    rows = sum(t * padded[:, k:k + images.shape[1], :] for k, t in enumerate(taps))
    return sum(t * rows[:, :, k:k + images.shape[2]] for k, t in enumerate(taps))
"""
for _name in ("normalised", "hog"):
    FEATURES[f"smooth-{_name}"] = (SMOOTH + FEATURES[_name].replace("def features(", "def raw_features(")
                                   + "\ndef features(images):\n    return raw_features(smooth(images))\n")

# Models: (import lines, constructor expression).
MODELS = {
    "stump": ("from sklearn.tree import DecisionTreeClassifier", "DecisionTreeClassifier(max_depth=1, random_state=0)"),
    "tree": ("from sklearn.tree import DecisionTreeClassifier", "DecisionTreeClassifier(max_depth=4, random_state=0)"),
    "nb": ("from sklearn.naive_bayes import GaussianNB", "GaussianNB()"),
    "knn": ("from sklearn.neighbors import KNeighborsClassifier", "KNeighborsClassifier(n_neighbors=7)"),
    "logreg": ("from sklearn.linear_model import LogisticRegression", "LogisticRegression(C=1.0, max_iter=5000)"),
    "logreg-weak": ("from sklearn.linear_model import LogisticRegression",
                    "LogisticRegression(C=0.001, max_iter=5000)"),
    "pca-logreg": (
        "from sklearn.decomposition import PCA\nfrom sklearn.linear_model import LogisticRegression\n"
        "from sklearn.pipeline import make_pipeline",
        "make_pipeline(PCA(n_components=15, random_state=0), LogisticRegression(max_iter=5000))",
    ),
    "forest": ("from sklearn.ensemble import RandomForestClassifier",
               "RandomForestClassifier(n_estimators=300, random_state=0, n_jobs=1)"),
    "extra": ("from sklearn.ensemble import ExtraTreesClassifier",
              "ExtraTreesClassifier(n_estimators=300, random_state=0, n_jobs=1)"),
    "lgbm": ("import lightgbm as lgb",
             "lgb.LGBMClassifier(n_estimators=200, learning_rate=0.05, num_leaves=7, min_child_samples=5, "
             "n_jobs=1, verbose=-1, random_state=0)"),
    "svm": ("from sklearn.pipeline import make_pipeline\nfrom sklearn.preprocessing import StandardScaler\n"
            "from sklearn.svm import SVC",
            "make_pipeline(StandardScaler(), SVC(C=3.0, gamma='scale'))"),
    "mlp": ("from sklearn.neural_network import MLPClassifier",
            "MLPClassifier(hidden_layer_sizes=(64,), alpha=1e-2, max_iter=2000, random_state=0)"),
}

SKLEARN = """
{imports}
{features}
X_train = features(images_train)
X_test = features(images_test)
y_fit = y
if {mirror}:  # mirror images are faces (or non-faces) too
    X_train = np.vstack([X_train, features(images_train[:, :, ::-1].copy())])
    y_fit = np.r_[y, y]
model = {model}
model.fit(X_train, y_fit)
if hasattr(model, "predict_proba"):
    face = model.predict_proba(X_test)[:, 1]
else:
    face = 1 / (1 + np.exp(-model.decision_function(X_test)))
"""

CNN = """
import torch
from torch import nn

torch.set_num_threads(1)
torch.manual_seed({seed})
rng = np.random.default_rng({seed})
net = nn.Sequential(
    nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Dropout(0.3), nn.Linear(16 * 6 * 6, 1),
)
optimizer = torch.optim.Adam(net.parameters(), lr=3e-3, weight_decay=1e-4)
x_all = torch.tensor(images_train, dtype=torch.float32)[:, None]
x_all = (x_all - x_all.mean()) / x_all.std()
t_all = torch.tensor(y, dtype=torch.float32)
for epoch in range({epochs}):
    net.train()
    order = torch.from_numpy(rng.permutation(len(x_all)))
    for start in range(0, len(order), 16):
        idx = order[start:start + 16]
        xb = x_all[idx]
        if {augment} and rng.random() < 0.5:
            xb = xb.flip(3)
        loss = nn.functional.binary_cross_entropy_with_logits(net(xb)[:, 0], t_all[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
net.eval()
x_test = (torch.tensor(images_test, dtype=torch.float32)[:, None] - x_all.mean()) / x_all.std()
with torch.no_grad():
    face = torch.sigmoid(net(x_test)[:, 0]).numpy()
"""


def _rule(name: str) -> str:
    return HEADER + "\n" + RULES[name] + "\n" + FOOTER


def _sklearn(features: str, model: str, mirror: bool = False) -> str:
    imports, constructor = MODELS[model]
    return HEADER + SKLEARN.format(imports=imports, features=FEATURES[features], model=constructor,
                                   mirror=mirror) + FOOTER


def _cnn(epochs: int, augment: bool = False, seed: int = 0) -> str:
    return HEADER + CNN.format(epochs=epochs, augment=augment, seed=seed) + FOOTER


POPULATION: list[tuple[str, str]] = [
    ("fence-sitters", _rule("constant")),
    ("coin-flippers", _rule("random")),
    ("light-meters", _rule("brightness")),
    ("template-matchers", _rule("template")),
    ("single-split", _sklearn("pixels", "stump")),
    ("pixel-tree", _sklearn("pixels", "tree")),
    ("naive-bayesians", _sklearn("pixels", "nb")),
    ("over-regularised", _sklearn("pixels", "logreg-weak")),
    ("pixel-neighbours", _sklearn("pixels", "knn")),
    ("eigenfaces", _sklearn("pixels", "pca-logreg")),
    ("pixel-logit", _solution("pixel-logit")),
    ("contrast-logit", _sklearn("normalised", "logreg")),
    ("pixel-boosters", _sklearn("pixels", "lgbm")),
    ("pixel-forest", _sklearn("pixels", "forest")),
    ("pixel-kernels", _sklearn("normalised", "svm")),
    ("gradient-tree", _sklearn("hog", "tree")),
    ("gradient-neighbours", _sklearn("hog", "knn")),
    ("gradient-bayes", _sklearn("hog", "nb")),
    ("gradient-perceptrons", _sklearn("hog", "mlp")),
    ("gradient-extra-trees", _sklearn("hog", "extra", mirror=True)),
    ("gradient-logit", _sklearn("hog", "logreg", mirror=True)),
    ("gradient-kernels", _sklearn("hog", "svm", mirror=True)),
    ("tiny-convnet", _cnn(epochs=5)),
    ("mirror-convnet", _cnn(epochs=60, augment=True)),
    ("smooth-gradient-ensemble", _solution("smooth-gradient-ensemble")),
]
# A sweep over every feature recipe x model x mirroring, less the combinations named above.
_NAMED = {("pixels", "stump", False), ("pixels", "tree", False), ("pixels", "nb", False),
          ("pixels", "logreg-weak", False), ("pixels", "knn", False), ("pixels", "pca-logreg", False),
          ("normalised", "logreg", False), ("pixels", "lgbm", False), ("pixels", "forest", False),
          ("normalised", "svm", False), ("hog", "tree", False), ("hog", "knn", False), ("hog", "nb", False),
          ("hog", "mlp", False), ("hog", "extra", True), ("hog", "logreg", True), ("hog", "svm", True)}
POPULATION += [(f"{features}-{model}{'-mirror' if mirror else ''}", _sklearn(features, model, mirror))
               for features in FEATURES for model in MODELS for mirror in (False, True)
               if (features, model, mirror) not in _NAMED and model != "stump"]
POPULATION += [(f"convnet-e{epochs}-s{seed}", _cnn(epochs=epochs, augment=True, seed=seed))
               for epochs in (20,) for seed in (1, 2)]
