"""The leaderboard population: (team, code) pairs from constant predictions to blended gradient boosting.

Each code string is a standalone script: it reads ./input/train.csv and ./input/test.csv and writes
./submission.csv (Id, Sale_Price). The scripts are assembled from a few feature recipes, targets and models.
"""

from __future__ import annotations

from pathlib import Path

# Members that are one of the task's own solutions: read from that file (team -> file name next to
# this one), so that the leaderboard scores exactly the code the baseline agent plays.
SOLUTIONS = {"simple-baseline": "simple.py", "reference": "reference.py"}


def _solution(team: str) -> str:
    return (Path(__file__).parent / SOLUTIONS[team]).read_text(encoding="utf-8")


HEADER = """\
train = pd.read_csv("input/train.csv")
test = pd.read_csv("input/test.csv")
"""

FOOTER = """
prediction = np.clip(np.asarray(prediction, dtype=float), train["Sale_Price"].min(), None)
pd.DataFrame({"Id": test["Id"], "Sale_Price": prediction}).to_csv("submission.csv", index=False)
"""

# Rules that need no model: each sets `prediction` from `train` and `test`.
RULES = {
    "average-joes": "prediction = np.full(len(test), train['Sale_Price'].mean())",
    "middle-of-the-road": "prediction = np.full(len(test), train['Sale_Price'].median())",
    "location-location": (
        "medians = train.groupby('Neighborhood')['Sale_Price'].median()\n"
        "prediction = test['Neighborhood'].map(medians).fillna(train['Sale_Price'].median())"
    ),
    "dollars-per-square-foot": (
        "rate = (train['Sale_Price'] / train['Gr_Liv_Area']).median()\n"
        "prediction = rate * test['Gr_Liv_Area']"
    ),
    "neighbourhood-square-feet": (
        "rate = (train['Sale_Price'] / train['Gr_Liv_Area']).groupby(train['Neighborhood']).median()\n"
        "overall = (train['Sale_Price'] / train['Gr_Liv_Area']).median()\n"
        "prediction = test['Neighborhood'].map(rate).fillna(overall) * test['Gr_Liv_Area']"
    ),
}

_DATA = """
data = pd.concat([train.drop(columns=["Sale_Price"]), test], ignore_index=True).drop(columns=["Id"])
categorical = list(data.select_dtypes(exclude="number").columns)
numeric = [column for column in data.columns if column not in categorical]
"""
_ENGINEER = """
QUALITY = {"Very_Poor": 1, "Poor": 1, "Fair": 2, "Below_Average": 3, "Typical": 3, "Average": 3,
           "Above_Average": 4, "Good": 4, "Very_Good": 5, "Excellent": 5}
for column in ["Overall_Cond", "Exter_Cond", "Bsmt_Cond", "Heating_QC", "Garage_Cond", "Pool_QC"]:
    data[column + "_score"] = data[column].map(QUALITY).fillna(0)
data["Total_SF"] = data["Total_Bsmt_SF"] + data["First_Flr_SF"] + data["Second_Flr_SF"]
data["Age"] = data["Year_Sold"] - data["Year_Built"]
data["Remod_Age"] = data["Year_Sold"] - data["Year_Remod_Add"]
data["Baths"] = data["Full_Bath"] + 0.5 * data["Half_Bath"] + data["Bsmt_Full_Bath"] + 0.5 * data["Bsmt_Half_Bath"]
numeric = [column for column in data.columns if column not in categorical]
"""

# Feature recipes: each defines X (train rows first, then test rows) without missing values unless for LightGBM.
FEATURES = {
    "area": """
X = pd.concat([train, test], ignore_index=True)[["Gr_Liv_Area"]]
""",
    "few": """
X = pd.concat([train, test], ignore_index=True)[
    ["Gr_Liv_Area", "Lot_Area", "Total_Bsmt_SF", "Garage_Cars", "Full_Bath", "Year_Built", "Year_Remod_Add"]
]
""",
    "numeric": _DATA + """
X = data[numeric].fillna(data[numeric].median())
""",
    "onehot": _DATA + _ENGINEER + """
X = data[numeric].fillna(data[numeric].median())
skewed = [column for column in numeric if X[column].min() >= 0 and X[column].skew() > 0.75]
X[skewed] = np.log1p(X[skewed])
X = pd.concat([X, pd.get_dummies(data[categorical].fillna("None"), dtype=float)], axis=1)
""",
    "category": _DATA + """
X = data.copy()
for column in categorical:
    X[column] = X[column].astype("category")
""",
    "engineered": _DATA + _ENGINEER + """
X = data.copy()
for column in categorical:
    X[column] = X[column].astype("category")
""",
}
SPLIT = """
X_train, X_test = X.iloc[: len(train)], X.iloc[len(train) :]
"""

_SCALED = "from sklearn.pipeline import make_pipeline\nfrom sklearn.preprocessing import StandardScaler\n"
# Models: (imports, constructor expression); every one is single-threaded and seeded.
MODELS = {
    "linear": ("from sklearn.linear_model import LinearRegression", "LinearRegression()"),
    "ridge": (_SCALED + "from sklearn.linear_model import Ridge",
              "make_pipeline(StandardScaler(), Ridge(alpha={alpha}))"),
    "lasso": (_SCALED + "from sklearn.linear_model import Lasso",
              "make_pipeline(StandardScaler(), Lasso(alpha={alpha}, max_iter=20000))"),
    "knn": (_SCALED + "from sklearn.neighbors import KNeighborsRegressor",
            "make_pipeline(StandardScaler(), KNeighborsRegressor(n_neighbors={k}, weights='distance'))"),
    "tree": ("from sklearn.tree import DecisionTreeRegressor",
             "DecisionTreeRegressor(max_depth={depth}, min_samples_leaf={leaf}, random_state=0)"),
    "forest": ("from sklearn.ensemble import RandomForestRegressor",
               "RandomForestRegressor(\n"
               "    n_estimators={trees}, max_features={features}, min_samples_leaf=1, random_state=0, n_jobs=1\n"
               ")"),
    "gbm": ("from sklearn.ensemble import GradientBoostingRegressor",
            "GradientBoostingRegressor(\n"
            "    n_estimators={trees}, max_depth={depth}, learning_rate={lr}, subsample=0.8, random_state=0\n"
            ")"),
    "lgbm": ("import lightgbm as lgb",
             "lgb.LGBMRegressor(\n"
             "    n_estimators={trees}, learning_rate={lr}, num_leaves={leaves}, min_child_samples=10, subsample=0.7,\n"
             "    subsample_freq=1, colsample_bytree={colsample}, n_jobs=1, verbose=-1, random_state={seed},\n"
             ")"),
}

# (team, features, target, model, parameters)
MODEL_ENTRIES = [
    ("one-feature-wonder", "area", "raw", "linear", {}),
    ("back-of-the-envelope", "few", "raw", "linear", {}),
    ("log-and-line", "few", "log", "linear", {}),
    ("all-numbers-ridge", "numeric", "log", "ridge", {"alpha": 10}),
    ("dummies-ridge-light", "onehot", "log", "ridge", {"alpha": 10}),
    ("dummies-ridge-heavy", "onehot", "log", "ridge", {"alpha": 300}),
    ("lasso-lassoers", "onehot", "log", "lasso", {"alpha": 0.003}),
    ("neighbours-next-door", "numeric", "log", "knn", {"k": 10}),
    ("single-oak", "numeric", "log", "tree", {"depth": 8, "leaf": 5}),
    ("overgrown-tree", "numeric", "raw", "tree", {"depth": "None", "leaf": 1}),
    ("random-woods", "numeric", "log", "forest", {"trees": 200, "features": 0.33}),
    ("raw-forest", "onehot", "raw", "forest", {"trees": 150, "features": 1.0}),
    ("gradient-descenders", "numeric", "log", "gbm", {"trees": 600, "depth": 3, "lr": 0.05}),
    ("lgbm-raw-dollars", "category", "raw", "lgbm", {"trees": 600, "lr": 0.05, "leaves": 31, "colsample": 0.8}),
    ("lgbm-logged", "category", "log", "lgbm", {"trees": 600, "lr": 0.05, "leaves": 31, "colsample": 0.8}),
    ("lgbm-too-eager", "category", "log", "lgbm", {"trees": 3000, "lr": 0.3, "leaves": 127, "colsample": 1.0}),
    ("lgbm-slow-and-steady", "engineered", "log", "lgbm", {"trees": 2000, "lr": 0.02, "leaves": 15, "colsample": 0.3}),
]

# The sweep: (features, target, model, settings) from one column to engineered boosting, on dollars and on logs.
_LGBM = [(300, 0.1, 7, 0.5), (1000, 0.03, 31, 0.5), (1500, 0.01, 63, 0.8), (500, 0.05, 15, 0.3), (300, 0.05, 255, 1.0)]
SWEEP = (
    [("onehot", "log", "ridge", {"alpha": alpha}) for alpha in (1, 3, 30, 100, 1000, 3000)]
    + [("onehot", "log", "lasso", {"alpha": alpha}) for alpha in (0.0002, 0.0005, 0.001, 0.01, 0.03)]
    + [("onehot", "raw", "ridge", {"alpha": alpha}) for alpha in (10, 300)]
    + [("onehot", "log", "forest", {"trees": 200, "features": 0.33}), ("onehot", "log", "gbm",
                                                                       {"trees": 300, "depth": 3, "lr": 0.1})]
    + [("numeric", "log", "linear", {}), ("numeric", "log", "lasso", {"alpha": 0.001})]
    + [("numeric", "log", "ridge", {"alpha": alpha}) for alpha in (1, 100)]
    + [("numeric", target, "knn", {"k": k}) for target, k in (("log", 5), ("log", 20), ("log", 50), ("raw", 10))]
    + [("numeric", "log", "tree", {"depth": depth, "leaf": leaf}) for depth, leaf in ((4, 10), (12, 3), (8, 1))]
    + [("numeric", target, "forest", {"trees": trees, "features": features})
       for target, trees, features in (("log", 100, 0.5), ("log", 300, 0.2), ("raw", 200, 0.33))]
    + [("numeric", target, "gbm", {"trees": trees, "depth": depth, "lr": lr})
       for target, trees, depth, lr in (("log", 200, 2, 0.1), ("log", 400, 4, 0.05), ("raw", 600, 3, 0.05))]
    + [("few", "log", "linear", {}), ("few", "log", "ridge", {"alpha": 10}), ("few", "log", "knn", {"k": 10}),
       ("few", "log", "tree", {"depth": 6, "leaf": 5}), ("few", "log", "forest", {"trees": 200, "features": 1.0}),
       ("few", "log", "gbm", {"trees": 300, "depth": 3, "lr": 0.05}), ("few", "raw", "knn", {"k": 10}),
       ("few", "raw", "forest", {"trees": 200, "features": 1.0}), ("few", "raw", "gbm",
                                                                   {"trees": 300, "depth": 3, "lr": 0.05})]
    + [("area", "log", "linear", {}), ("area", "log", "knn", {"k": 30}),
       ("area", "log", "tree", {"depth": 4, "leaf": 20})]
    + [("category", "log", "lgbm", {"trees": trees, "lr": lr, "leaves": leaves, "colsample": colsample, "seed": seed})
       for trees, lr, leaves, colsample in _LGBM for seed in (0, 1, 2)]
    + [("category", "raw", "lgbm", {"trees": trees, "lr": lr, "leaves": leaves, "colsample": colsample})
       for trees, lr, leaves, colsample in _LGBM[:3]]
    + [("engineered", "log", "lgbm", {"trees": trees, "lr": lr, "leaves": leaves, "colsample": colsample, "seed": seed})
       for trees, lr, leaves, colsample in ((1000, 0.03, 7, 0.3), (3000, 0.01, 15, 0.2), (800, 0.05, 31, 0.5),
                                            (1500, 0.02, 15, 0.5), (600, 0.05, 7, 0.8)) for seed in (0, 1, 2)]
    + [("engineered", "raw", "lgbm", {"trees": trees, "lr": lr, "leaves": 15, "colsample": 0.3})
       for trees, lr in ((2000, 0.02), (800, 0.05))]
)
MODEL_ENTRIES += [
    ("-".join(["sweep", features, target, model, *(f"{key}{value}" for key, value in parameters.items())]), features,
     target, model, parameters)
    for features, target, model, parameters in SWEEP
    if (features, target, model, parameters) not in [entry[1:] for entry in MODEL_ENTRIES]  # no second copy
]


def _fit(features: str, target: str, model: str, parameters: dict, name: str = "prediction") -> tuple[str, str]:
    """(imports, code) fitting one model on one feature recipe and setting `name` to its test predictions."""
    imports, constructor = MODELS[model]
    fit_target = 'np.log1p(train["Sale_Price"])' if target == "log" else 'train["Sale_Price"]'
    predicted = "model.predict(X_test)"
    if target == "log":
        predicted = f"np.expm1({predicted})"
    constructor = constructor.format(**{"seed": 0, **parameters})
    fit = f"\nmodel = {constructor}\nmodel.fit(X_train, {fit_target})\n{name} = {predicted}\n"
    return imports, FEATURES[features] + SPLIT + fit


def _script(imports: str, body: str) -> str:
    """A whole script: its imports (numpy and pandas too), sorted and deduplicated, then the body."""
    lines = {"import numpy as np", "import pandas as pd", *filter(None, imports.splitlines())}
    return "\n".join(sorted(lines, key=lambda line: (line.startswith("from"), line.split()[1]))) + "\n\n" + body


def _model_source(features: str, target: str, model: str, parameters: dict) -> str:
    imports, code = _fit(features, target, model, parameters)
    return _script(imports, HEADER + code + FOOTER)


def _blend() -> str:
    """A geometric blend of boosting and a ridge on one-hot columns, as strong Kaggle kernels do."""
    parameters = {"trees": 2000, "lr": 0.02, "leaves": 15, "colsample": 0.3}
    boost_imports, boost = _fit("engineered", "log", "lgbm", parameters, "boosted")
    ridge_imports, ridge = _fit("onehot", "log", "ridge", {"alpha": 300}, "linear")
    mix = "\nprediction = np.exp(0.6 * np.log(boosted) + 0.4 * np.log(np.clip(linear, 1.0, None)))\n"
    return _script(boost_imports + "\n" + ridge_imports, HEADER + boost + ridge + mix + FOOTER)


POPULATION: list[tuple[str, str]] = (
    [(team, _script("", HEADER + "\n" + rule + "\n" + FOOTER)) for team, rule in RULES.items()]
    + [(team, _model_source(*entry)) for team, *entry in MODEL_ENTRIES]
    + [("boost-and-ridge", _blend())]
    + [(team, _solution(team)) for team in SOLUTIONS]
)
