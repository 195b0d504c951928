"""The leaderboard population: (team, code) pairs from constant forecasts to models shared by all series.

Each code string is a standalone script: it reads ./input/train.csv and ./input/test.csv and writes
./submission.csv (id, jobs_index). The scripts are a sweep: rule-based forecasts per series (constants, last values,
seasonal naive), the seasonal-change rule (the last level plus the change between the same calendar months in
earlier years) over numbers of years, levels, drifts and averages, then one template for a model shared by all
series, trained on rolling forecast origins, over model families, feature sets and seeds.
"""

from __future__ import annotations

from pathlib import Path

# Members that are one of the task's own solutions: read from that file (team -> file name next to
# this one), so that the leaderboard scores exactly the code the baseline agent plays.
SOLUTIONS = {"year-ago": "simple.py", "seasonal-change": "reference.py"}


def _solution(team: str) -> str:
    return (Path(__file__).parent / SOLUTIONS[team]).read_text(encoding="utf-8")


HEADER = """\
import warnings

import numpy as np
import pandas as pd

warnings.filterwarnings("ignore")
train = pd.read_csv("input/train.csv")
test = pd.read_csv("input/test.csv")
wide = train.pivot(index="month", columns="series_id", values="jobs_index").sort_index()
Y = np.log(wide.ffill().bfill().to_numpy())
T = len(Y)
months = sorted(test["month"].unique())
h = test["month"].map({m: k + 1 for k, m in enumerate(months)}).to_numpy()
column = test["series_id"].map({s: k for k, s in enumerate(wide.columns)}).to_numpy()
"""

FOOTER = """
prediction = np.nan_to_num(np.asarray(prediction, dtype=float), nan=float(train["jobs_index"].median()))
pd.DataFrame({"id": test["id"], "jobs_index": np.clip(prediction, 0, None)}).to_csv("submission.csv", index=False)
"""

RULES = {
    "zeros": "prediction = np.zeros(len(test))",
    "global-median": "prediction = np.full(len(test), train['jobs_index'].median())",
    "series-mean": "prediction = np.exp(Y.mean(0)[column])",
    "series-last": "prediction = np.exp(Y[-1, column])",
    "series-last-quarter": "prediction = np.exp(Y[-3:].mean(0)[column])",
    "series-last-year": "prediction = np.exp(Y[-12:].mean(0)[column])",
    "series-drift": "prediction = np.exp(Y[-1, column] + h * ((Y[-1] - Y[0]) / (T - 1))[column])",
    "year-ago-times-growth": (
        "target = T - 12 + (h - 1) % 12\n"
        "prediction = np.exp(Y[target, column] + (Y[-12:].mean(0) - Y[-24:-12].mean(0))[column])"
    ),
}

# The level of the last `q` months plus the change, in earlier years, from the same months to the target's month
# (`stat` over up to `years` years), plus `drift` times the difference between the last year's growth and the
# growth of those years.
CHANGE = """
changes, growths = [], []
for k in [k for k in range(1, {years} + 1) if T - {q} - 12 * k >= 0]:
    origin = T - 1 - 12 * k
    target = origin + h
    target = np.where(target > T - 1, target - 12, target)
    changes.append(Y[target, column] - Y[origin - {q} + 1:origin + 1].mean(0)[column])
    if origin - 23 >= 0:
        growths.append((Y[origin - 11:origin + 1].mean(0) - Y[origin - 23:origin - 11].mean(0))[column])
change = np.{stat}(changes, axis=0)
drift = 0.0
if growths and T >= 24:
    drift = {drift} * ((Y[-12:].mean(0) - Y[-24:-12].mean(0))[column] - np.mean(growths, axis=0)) * h / 12
prediction = np.exp(Y[-{q}:].mean(0)[column] + change + drift)
"""

GLOBAL = """
n_series = Y.shape[1]


def block(i, horizons):
    parts = []
    for step in horizons:
        features = {{"series": np.arange(n_series), "horizon": step, "calendar_month": (i + step) % 12,
                    "level": Y[i], "change_3": Y[i] - Y[max(i - 3, 0)]}}
        features["growth_12"] = Y[i] - Y[i - 12] if i >= 12 else np.full(n_series, np.nan)
        for k in (1, 2):
            o = i - 12 * k
            features[f"season_{{k}}"] = Y[o + step] - Y[o] if o >= 0 else np.full(n_series, np.nan)
        parts.append(pd.DataFrame(features).assign(origin=i, step=step))
    return pd.concat(parts, ignore_index=True)


examples = pd.concat([block(i, range(1, min(12, T - 1 - i) + 1)) for i in range(12, T - 1)], ignore_index=True)
examples["y"] = Y[examples["origin"] + examples["step"], examples["series"]] - examples["level"]
future = block(T - 1, range(1, int(h.max()) + 1))
columns = {columns}
X, X_future = examples[columns], future[columns]
if {fill}:
    X, X_future = X.fillna(0), X_future.fillna(0)
{imports}
model = {model}
model.fit(X, examples["y"])
future["value"] = np.exp(future["level"] + model.predict(X_future))
lookup = dict(zip(zip(future["series"], future["step"]), future["value"]))
prediction = [lookup.get((c, s), np.nan) for c, s in zip(column, h)]
"""

FEATURES = {
    "calendar": ["horizon", "calendar_month", "level"],
    "season": ["horizon", "season_1", "season_2"],
    "full": ["series", "horizon", "calendar_month", "level", "change_3", "growth_12", "season_1", "season_2"],
}

MODELS = {
    "ridge": ("from sklearn.linear_model import Ridge", "Ridge(alpha={alpha})", True),
    "knn": ("from sklearn.pipeline import make_pipeline\nfrom sklearn.preprocessing import StandardScaler\n"
            "from sklearn.neighbors import KNeighborsRegressor",
            "make_pipeline(StandardScaler(), KNeighborsRegressor(n_neighbors={k}))", True),
    "tree": ("from sklearn.tree import DecisionTreeRegressor",
             "DecisionTreeRegressor(max_depth={depth}, min_samples_leaf=20, random_state={seed})", True),
    "forest": ("from sklearn.ensemble import RandomForestRegressor",
               "RandomForestRegressor(n_estimators=25, max_depth=10, min_samples_leaf={leaf}, max_features=0.6, "
               "random_state={seed}, n_jobs=1)", True),
    "lgbm": ("import lightgbm as lgb",
             "lgb.LGBMRegressor(objective='{objective}', n_estimators={trees}, learning_rate=0.05, "
             "num_leaves={leaves}, min_child_samples=30, subsample=0.8, subsample_freq=1, colsample_bytree=0.8, "
             "random_state={seed}, n_jobs=1, verbose=-1)", False),
}


def _rule(name: str) -> str:
    return HEADER + RULES[name] + FOOTER


def _change(years: int, q: int, drift: float, stat: str = "mean") -> str:
    return HEADER + CHANGE.format(years=years, q=q, drift=drift, stat=stat) + FOOTER


def _global(model: str, features: str, **params: object) -> str:
    imports, constructor, fill = MODELS[model]
    params.setdefault("seed", 0)
    params.setdefault("objective", "regression")
    body = GLOBAL.format(columns=FEATURES[features], fill=fill, imports=imports, model=constructor.format(**params))
    return HEADER + body + FOOTER


def _blend(weight: float, drift: float, features: str = "full", seed: int = 0) -> str:
    """The seasonal-change rule and a shared LightGBM model, averaged in logs with `weight` on the rule."""
    imports, constructor, _ = MODELS["lgbm"]
    model = constructor.format(trees=300, leaves=15, objective="l1", seed=seed)
    return (HEADER + CHANGE.format(years=3, q=1, drift=drift, stat="mean") + "rule = np.log(prediction)\n"
            + GLOBAL.format(columns=FEATURES[features], fill=False, imports=imports, model=model)
            + f"prediction = np.exp({weight} * rule + {1 - weight} * np.log(np.asarray(prediction, dtype=float)))\n"
            + FOOTER)


def _sweep() -> list[tuple[str, str]]:
    members = [(f"rule-{name}", _rule(name)) for name in RULES]
    for years in (1, 2, 3):
        for q in (1, 3, 6):
            for drift in (0.0, 0.25, 0.5, 0.75, 1.0) if years > 1 else (0.0, 0.5, 1.0):
                members.append((f"change-{years}y-q{q}-drift{drift}", _change(years, q, drift)))
    for q in (1, 3):
        for drift in (0.0, 0.5, 1.0):
            members.append((f"change-median-q{q}-drift{drift}", _change(3, q, drift, "median")))
    for features in FEATURES:
        for alpha in (0.1, 10.0):
            members.append((f"ridge-a{alpha:g}-{features}", _global("ridge", features, alpha=alpha)))
        for k in (10, 50):
            members.append((f"knn{k}-{features}", _global("knn", features, k=k)))
        for depth in (4, 8):
            members.append((f"tree-d{depth}-{features}", _global("tree", features, depth=depth)))
        for leaf in (10, 40):
            members.append((f"forest-l{leaf}-{features}", _global("forest", features, leaf=leaf)))
        for trees, leaves in ((60, 7), (300, 15), (300, 63)):
            for objective in ("l2", "l1"):
                for seed in (0, 1):
                    members.append((f"boost-{objective}-{trees}x{leaves}-{features}-s{seed}",
                                    _global("lgbm", features, trees=trees, leaves=leaves, objective=objective,
                                            seed=seed)))
    for weight in (0.3, 0.5, 0.7):
        for drift in (0.0, 0.5):
            members.append((f"blend-w{weight}-drift{drift}", _blend(weight, drift)))
    return members


POPULATION: list[tuple[str, str]] = _sweep() + [(team, _solution(team)) for team in SOLUTIONS]
