"""The leaderboard population: (team, code) pairs from trivial rules to tuned gradient boosting.

Each code string is a standalone script: it reads ./input/train.csv and ./input/test.csv and writes
./submission.csv (PassengerId, Survived). The scripts are assembled from a few feature recipes and models.
"""

from __future__ import annotations

from pathlib import Path

# Members that are one of the task's own solutions: read from that file (team -> file name next to
# this one), so that the leaderboard scores exactly the code the baseline agent plays.
SOLUTIONS = {"simple-baseline": "simple.py", "surname-sleuths-lgbm": "reference.py"}


def _solution(team: str) -> str:
    return (Path(__file__).parent / SOLUTIONS[team]).read_text(encoding="utf-8")


HEADER = """\
train = pd.read_csv("input/train.csv")
test = pd.read_csv("input/test.csv")
"""

FOOTER = """
pd.DataFrame({"PassengerId": test["PassengerId"], "Survived": np.asarray(prediction).astype(int)}).to_csv(
    "submission.csv", index=False
)
"""

# Rules that need no model: each sets `prediction` from `train` and `test`.
RULES = {
    "all-hands-lost": "prediction = np.zeros(len(test), dtype=int)",
    "unsinkable-optimists": "prediction = np.ones(len(test), dtype=int)",
    "coin-flippers": "prediction = np.random.default_rng(7).integers(0, 2, len(test))",
    "base-rate-dice": (
        "rate = train['Survived'].mean()\n"
        "prediction = (np.random.default_rng(11).random(len(test)) < rate).astype(int)"
    ),
    "first-class-tickets": "prediction = (test['Pclass'] == 1).astype(int)",
    "kids-only": "prediction = (test['Age'] < 12).astype(int)",
    "women-first": "prediction = (test['Sex'] == 'female').astype(int)",
    "women-and-children": "prediction = ((test['Sex'] == 'female') | (test['Age'] < 10)).astype(int)",
    "women-above-steerage": "prediction = ((test['Sex'] == 'female') & (test['Pclass'] < 3)).astype(int)",
    "group-by-cell-majority": (
        "rate = train.groupby(['Sex', 'Pclass'])['Survived'].mean()\n"
        "cells = pd.MultiIndex.from_frame(test[['Sex', 'Pclass']])\n"
        "prediction = (rate.reindex(cells).fillna(0).to_numpy() > 0.5).astype(int)"
    ),
}

# Feature recipes: each defines X_train and X_test (no missing values) from `train` and `test`.
FEATURES = {
    "sex-class": """
data = pd.concat([train.drop(columns=["Survived"]), test], ignore_index=True)
X = pd.DataFrame({"female": (data["Sex"] == "female").astype(int), "Pclass": data["Pclass"]})
""",
    "basic": """
data = pd.concat([train.drop(columns=["Survived"]), test], ignore_index=True)
X = pd.DataFrame(
    {
        "female": (data["Sex"] == "female").astype(int),
        "Pclass": data["Pclass"],
        "Age": data["Age"].fillna(train["Age"].median()),
    }
)
""",
    "title": """
data = pd.concat([train.drop(columns=["Survived"]), test], ignore_index=True)
title = data["Title"].replace({"Mlle": "Miss", "Ms": "Miss", "Mme": "Mrs"})
title = title.where(title.isin(["Mr", "Mrs", "Miss", "Master"]), "Rare")
X = pd.DataFrame(
    {
        "female": (data["Sex"] == "female").astype(int),
        "Pclass": data["Pclass"],
        "Age": data["Age"].fillna(data["Age"].groupby(title).transform("median")).fillna(data["Age"].median()),
        "age_missing": data["Age"].isna().astype(int),
    }
)
for value in ["Mr", "Mrs", "Miss", "Master", "Rare"]:
    X["title_" + value] = (title == value).astype(int)
""",
    "family": """
data = pd.concat([train.drop(columns=["Survived"]), test], ignore_index=True)
title = data["Title"].replace({"Mlle": "Miss", "Ms": "Miss", "Mme": "Mrs"})
title = title.where(title.isin(["Mr", "Mrs", "Miss", "Master"]), "Rare")
family = data["FamilyGroup"]
X = pd.DataFrame(
    {
        "female": (data["Sex"] == "female").astype(int),
        "Pclass": data["Pclass"],
        "Age": data["Age"].fillna(data["Age"].groupby(title).transform("median")).fillna(data["Age"].median()),
        "age_missing": data["Age"].isna().astype(int),
        "family_size": family.map(family.value_counts()),
    }
)
for value in ["Mr", "Mrs", "Miss", "Master", "Rare"]:
    X["title_" + value] = (title == value).astype(int)
""",
}
# "group" adds how the other passengers of the same family fared in train (leave-one-out on train rows).
FEATURES["group"] = FEATURES["family"] + """
y_known = pd.Series(np.r_[train["Survived"].to_numpy(), np.full(len(test), np.nan)])
group_sum = y_known.fillna(0).groupby(family).transform("sum") - y_known.fillna(0)
group_count = y_known.notna().astype(int).groupby(family).transform("sum") - y_known.notna().astype(int)
X["group_survival"] = (group_sum / group_count.replace(0, np.nan)).fillna(train["Survived"].mean()).to_numpy()
X["group_known"] = group_count.to_numpy()
"""
SPLIT = """
X_train, X_test = X.iloc[: len(train)], X.iloc[len(train) :]
y = train["Survived"].to_numpy()
"""

_SCALED = "from sklearn.pipeline import make_pipeline\nfrom sklearn.preprocessing import StandardScaler\n"
# Models: (imports, constructor expression); every one is single-threaded and seeded.
MODELS = {
    "logreg": (_SCALED + "from sklearn.linear_model import LogisticRegression",
               "make_pipeline(StandardScaler(), LogisticRegression(C={C}, max_iter=2000))"),
    "knn": (_SCALED + "from sklearn.neighbors import KNeighborsClassifier",
            "make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors={k}))"),
    "nb": ("from sklearn.naive_bayes import GaussianNB", "GaussianNB()"),
    "tree": ("from sklearn.tree import DecisionTreeClassifier",
             "DecisionTreeClassifier(max_depth={depth}, random_state=0)"),
    "forest": ("from sklearn.ensemble import RandomForestClassifier",
               "RandomForestClassifier(\n"
               "    n_estimators={trees}, max_depth={depth}, min_samples_leaf=2, random_state=0, n_jobs=1\n"
               ")"),
    "gbm": ("from sklearn.ensemble import GradientBoostingClassifier",
            "GradientBoostingClassifier(\n"
            "    n_estimators={trees}, max_depth={depth}, learning_rate={lr}, random_state=0\n"
            ")"),
    "lgbm": ("import lightgbm as lgb",
             "lgb.LGBMClassifier(\n"
             "    n_estimators={trees}, learning_rate={lr}, num_leaves={leaves}, min_child_samples=10,\n"
             "    subsample=0.8, subsample_freq=1, colsample_bytree=0.8, n_jobs=1, verbose=-1, random_state={seed},\n"
             ")"),
}

# (team, features, model, parameters)
MODEL_ENTRIES = [
    ("lonely-logit", "sex-class", "logreg", {"C": 1.0}),
    ("logit-with-age", "basic", "logreg", {"C": 1.0}),
    ("naive-bayesians", "basic", "nb", {}),
    ("nearest-neighbours-3", "basic", "knn", {"k": 3}),
    ("stump-and-branches", "basic", "tree", {"depth": 3}),
    ("deep-roots", "title", "tree", {"depth": "None"}),
    ("title-logit", "title", "logreg", {"C": 1.0}),
    ("title-knn-15", "title", "knn", {"k": 15}),
    ("forest-of-basics", "basic", "forest", {"trees": 300, "depth": 5}),
    ("family-forest", "family", "forest", {"trees": 400, "depth": 6}),
    ("family-gbm", "family", "gbm", {"trees": 200, "depth": 3, "lr": 0.05}),
    ("lgbm-basic", "basic", "lgbm", {"trees": 200, "lr": 0.05, "leaves": 8}),
    ("lgbm-overfit", "family", "lgbm", {"trees": 1500, "lr": 0.1, "leaves": 63}),
    ("lgbm-family", "family", "lgbm", {"trees": 300, "lr": 0.02, "leaves": 8}),
    ("surname-sleuths-logit", "group", "logreg", {"C": 1.0}),
    ("surname-sleuths-forest", "group", "forest", {"trees": 500, "depth": 6}),
    ("surname-sleuths-gbm", "group", "gbm", {"trees": 200, "depth": 3, "lr": 0.05}),
]

# The sweep: each feature recipe x model family x setting (x seed for boosting), from underfit to overfit.
GRID = {
    "logreg": [{"C": C} for C in (0.01, 0.1, 10.0)],
    "knn": [{"k": k} for k in (5, 9, 25)],
    "tree": [{"depth": depth} for depth in (2, 4, 6)],
    "forest": [{"trees": 200, "depth": depth} for depth in (4, 8)],
    "gbm": [{"trees": trees, "depth": depth, "lr": 0.1} for trees, depth in ((100, 2), (100, 3), (300, 4))],
    "lgbm": [{"trees": trees, "lr": lr, "leaves": leaves, "seed": seed}
             for trees, lr, leaves in ((100, 0.05, 4), (300, 0.03, 16), (400, 0.1, 31)) for seed in (1, 2)],
}
MODEL_ENTRIES += [
    ("-".join(["sweep", features, model, *(f"{key}{value}" for key, value in parameters.items())]), features, model,
     parameters)
    for features in ("basic", "title", "family", "group") for model, settings in GRID.items() for parameters in settings
]


def _script(imports: str, body: str) -> str:
    """A whole script: its imports (numpy and pandas too), sorted and deduplicated, then the body."""
    lines = {"import numpy as np", "import pandas as pd", *filter(None, imports.splitlines())}
    return "\n".join(sorted(lines, key=lambda line: (line.startswith("from"), line.split()[1]))) + "\n\n" + body


def _model_source(features: str, model: str, parameters: dict) -> str:
    imports, constructor = MODELS[model]
    constructor = constructor.format(**{"seed": 0, **parameters})
    fit = f"\nmodel = {constructor}\nmodel.fit(X_train, y)\nprediction = model.predict(X_test)\n"
    return _script(imports, HEADER + FEATURES[features] + SPLIT + fit + FOOTER)


POPULATION: list[tuple[str, str]] = [
    (team, _script("", HEADER + "\n" + rule + "\n" + FOOTER)) for team, rule in RULES.items()
] + [(team, _model_source(features, model, parameters)) for team, features, model, parameters in MODEL_ENTRIES] + [
    (team, _solution(team)) for team in SOLUTIONS
]
