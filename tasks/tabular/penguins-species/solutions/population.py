"""The leaderboard population: (team, code) pairs from uniform guesses to blended models.

Each code string is a standalone script: it reads ./input/train.csv and ./input/test.csv and writes
./submission.csv (id and one probability column per species). The scripts are assembled from a few feature
recipes and models.
"""

from __future__ import annotations

from pathlib import Path

# Members that are one of the task's own solutions: read from that file (team -> file name next to
# this one), so that the leaderboard scores exactly the code the baseline agent plays.
SOLUTIONS = {"simple-baseline": "simple.py", "reference": "reference.py"}


def _solution(team: str) -> str:
    return (Path(__file__).parent / SOLUTIONS[team]).read_text(encoding="utf-8")


HEADER = """\
CLASSES = ["Adelie", "Chinstrap", "Gentoo"]
MEASUREMENTS = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
train = pd.read_csv("input/train.csv")
test = pd.read_csv("input/test.csv")
y = train["species"].map({name: index for index, name in enumerate(CLASSES)}).to_numpy()
"""

FOOTER = """
probabilities = np.clip(np.asarray(probabilities, dtype=float), 1e-6, 1.0)
probabilities /= probabilities.sum(axis=1, keepdims=True)
submission = pd.DataFrame(probabilities, columns=CLASSES)
submission.insert(0, "id", test["id"].to_numpy())
submission.to_csv("submission.csv", index=False)
"""

# Rules that need no model: each sets `probabilities` (one row per test bird, one column per class).
RULES = {
    "equal-odds": "probabilities = np.full((len(test), 3), 1 / 3)",
    "head-counters": (
        "prior = np.bincount(y, minlength=3) / len(y)\n"
        "probabilities = np.tile(prior, (len(test), 1))"
    ),
    "all-in-on-adelie": "probabilities = np.tile([0.98, 0.01, 0.01], (len(test), 1))",
    "island-hoppers": (
        "counts = pd.crosstab(train['island'], train['species']).reindex(columns=CLASSES, fill_value=0) + 1\n"
        "table = counts.div(counts.sum(axis=1), axis=0)\n"
        "prior = np.bincount(y, minlength=3) / len(y)\n"
        "probabilities = table.reindex(test['island']).fillna(pd.Series(prior, index=CLASSES)).to_numpy()"
    ),
}

# Feature recipes: each defines X_train and X_test without missing values.
_MEDIANS = """
medians = train[MEASUREMENTS].median()
"""
FEATURES = {
    "flipper": _MEDIANS + """
X_train, X_test = train[["flipper_length_mm"]].fillna(medians), test[["flipper_length_mm"]].fillna(medians)
""",
    "bill": _MEDIANS + """
columns = ["bill_length_mm", "bill_depth_mm"]
X_train, X_test = train[columns].fillna(medians), test[columns].fillna(medians)
""",
    "measurements": _MEDIANS + """
X_train, X_test = train[MEASUREMENTS].fillna(medians), test[MEASUREMENTS].fillna(medians)
""",
    "full": _MEDIANS + """


def features(frame):
    X = frame[MEASUREMENTS].fillna(medians)
    X["bill_ratio"] = X["bill_length_mm"] / X["bill_depth_mm"]
    for island in ["Biscoe", "Dream", "Torgersen"]:
        X["island_" + island] = (frame["island"] == island).astype(float)
    X["male"] = (frame["sex"] == "male").astype(float)
    X["sex_missing"] = frame["sex"].isna().astype(float)
    return X


X_train, X_test = features(train), features(test)
""",
}

_SCALED = "from sklearn.pipeline import make_pipeline\nfrom sklearn.preprocessing import StandardScaler\n"
# Models: (imports, constructor expression); every one is single-threaded and seeded.
MODELS = {
    "logreg": (_SCALED + "from sklearn.linear_model import LogisticRegression",
               "make_pipeline(StandardScaler(), LogisticRegression(C={C}, max_iter=5000))"),
    "nb": ("from sklearn.naive_bayes import GaussianNB", "GaussianNB()"),
    "knn": (_SCALED + "from sklearn.neighbors import KNeighborsClassifier",
            "make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors={k}))"),
    "tree": ("from sklearn.tree import DecisionTreeClassifier",
             "DecisionTreeClassifier(max_depth={depth}, random_state=0)"),
    "forest": ("from sklearn.ensemble import RandomForestClassifier",
               "RandomForestClassifier(\n"
               "    n_estimators={trees}, min_samples_leaf={leaf}, random_state=0, n_jobs=1\n"
               ")"),
    "gbm": ("from sklearn.ensemble import GradientBoostingClassifier",
            "GradientBoostingClassifier(\n"
            "    n_estimators={trees}, max_depth={depth}, learning_rate={lr}, random_state=0\n"
            ")"),
    "lgbm": ("import lightgbm as lgb",
             "lgb.LGBMClassifier(\n"
             "    n_estimators={trees}, learning_rate={lr}, num_leaves={leaves}, min_child_samples={min_child},\n"
             "    n_jobs=1, verbose=-1, random_state=0,\n"
             ")"),
}

# (team, features, model, parameters)
MODEL_ENTRIES = [
    ("flipper-bayes", "flipper", "nb", {}),
    ("flipper-logit", "flipper", "logreg", {"C": 1.0}),
    ("bill-bayes", "bill", "nb", {}),
    ("bill-logit", "bill", "logreg", {"C": 1.0}),
    ("bill-neighbours", "bill", "knn", {"k": 5}),
    ("tape-measure-logit-shy", "measurements", "logreg", {"C": 0.05}),
    ("tape-measure-logit", "measurements", "logreg", {"C": 10.0}),
    ("shallow-tree", "measurements", "tree", {"depth": 3}),
    ("measured-boosting", "measurements", "lgbm", {"trees": 200, "lr": 0.05, "leaves": 4, "min_child": 5}),
    ("field-notes-logit-shy", "full", "logreg", {"C": 0.3}),
    ("field-notes-logit", "full", "logreg", {"C": 3.0}),
    ("field-notes-neighbours", "full", "knn", {"k": 9}),
    ("field-notes-deep-tree", "full", "tree", {"depth": "None"}),
    ("field-notes-forest", "full", "forest", {"trees": 300, "leaf": 1}),
    ("field-notes-gbm", "full", "gbm", {"trees": 150, "depth": 2, "lr": 0.1}),
    ("field-notes-lgbm-overfit", "full", "lgbm", {"trees": 1000, "lr": 0.2, "leaves": 31, "min_child": 2}),
    ("field-notes-lgbm", "full", "lgbm", {"trees": 200, "lr": 0.05, "leaves": 4, "min_child": 5}),
]

# The sweep: each feature recipe x model family x setting, from a one-measurement stump to boosting on everything.
GRID = {
    "nb": [{}],
    "logreg": [{"C": C} for C in (0.003, 0.03, 0.3, 1.0, 3.0, 100.0)],
    "knn": [{"k": k} for k in (1, 3, 15, 45)],
    "tree": [{"depth": depth} for depth in (2, 4)],
    "forest": [{"trees": trees, "leaf": leaf} for trees, leaf in ((100, 1), (400, 3))],
    "gbm": [{"trees": trees, "depth": depth, "lr": lr} for trees, depth, lr in ((50, 1, 0.1), (200, 3, 0.05))],
    "lgbm": [{"trees": trees, "lr": lr, "leaves": leaves, "min_child": min_child}
             for trees, lr, leaves, min_child in ((50, 0.1, 4, 20), (300, 0.03, 8, 5), (600, 0.05, 15, 3),
                                                  (100, 0.3, 31, 1))],
}
MODEL_ENTRIES += [
    ("-".join(["sweep", features, model, *(f"{key}{value}" for key, value in parameters.items())]), features, model,
     parameters)
    for features in FEATURES for model, settings in GRID.items() for parameters in settings
    if (features, model, parameters) not in [entry[1:] for entry in MODEL_ENTRIES]  # no second copy of a member
]


def _script(imports: str, body: str) -> str:
    """A whole script: its imports (numpy and pandas too), sorted and deduplicated, then the body."""
    lines = {"import numpy as np", "import pandas as pd", *filter(None, imports.splitlines())}
    return "\n".join(sorted(lines, key=lambda line: (line.startswith("from"), line.split()[1]))) + "\n\n" + body


def _source(*fits: tuple[str, str, dict, str], combine: str = "") -> str:
    """A script fitting each (features, model, parameters, name) in turn, then running `combine`."""
    imports, code = [], HEADER
    for features, model, parameters, name in fits:
        model_imports, constructor = MODELS[model]
        imports.append(model_imports)
        code += FEATURES[features] + f"\nmodel = {constructor.format(**parameters)}\nmodel.fit(X_train, y)\n"
        code += f"{name} = model.predict_proba(X_test)\n"
    return _script("\n".join(imports), code + combine + FOOTER)


# Hard labels dressed up as probabilities: right answers, but overconfident when wrong.
HARD_LABELS = _source(
    ("full", "logreg", {"C": 3.0}, "soft"),
    combine=(
        "\nprobabilities = np.full(soft.shape, 0.01)\n"
        "probabilities[np.arange(len(soft)), soft.argmax(axis=1)] = 0.98\n"
    ),
)
# The average of a logistic regression and a random forest.
BLEND = _source(
    ("full", "logreg", {"C": 3.0}, "linear"),
    ("full", "forest", {"trees": 300, "leaf": 1}, "forest"),
    combine="\nprobabilities = (linear + forest) / 2\n",
)

POPULATION: list[tuple[str, str]] = (
    [(team, _script("", HEADER + "\n" + rule + "\n" + FOOTER)) for team, rule in RULES.items()]
    + [(team, _source((*entry, "probabilities"))) for team, *entry in MODEL_ENTRIES]
    + [("labels-not-odds", HARD_LABELS), ("logit-in-the-woods", BLEND)]
    + [(team, _solution(team)) for team in SOLUTIONS]
)
