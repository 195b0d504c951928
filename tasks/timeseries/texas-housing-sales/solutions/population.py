"""The leaderboard population: (team, code) pairs from constant forecasts to a global gradient-boosting model on
rolling forecast origins.

Each code string is a standalone script: it reads ./input/train.csv and ./input/test.csv and writes
./submission.csv (id, sales). The scripts are a sweep: rule-based forecasts per city (constants, last values,
seasonal naive, seasonal profiles with and without growth), then one template for a model shared by all cities,
trained on rolling origins, over model families, feature sets, training windows and seeds.
"""

from __future__ import annotations

from pathlib import Path

# Members that are one of the task's own solutions: read from that file (team -> file name next to
# this one), so that the leaderboard scores exactly the code the baseline agent plays.
SOLUTIONS = {"year-ago": "simple.py", "rolling-origin-boost": "reference.py"}


def _solution(team: str) -> str:
    return (Path(__file__).parent / SOLUTIONS[team]).read_text(encoding="utf-8")


HEADER = """\
import warnings

import numpy as np
import pandas as pd

warnings.filterwarnings("ignore")
train = pd.read_csv("input/train.csv")
test = pd.read_csv("input/test.csv")


def month_index(month):
    stamp = pd.to_datetime(month)
    return (stamp.dt.year * 12 + stamp.dt.month - 1).to_numpy()


train["t"], test["t"] = month_index(train["month"]), month_index(test["month"])
cities = sorted(set(train["city"]) | set(test["city"]))
first, last = int(train["t"].min()), int(train["t"].max())
wide = np.log1p(train.pivot(index="t", columns="city", values="sales").reindex(index=range(first, last + 1),
                                                                               columns=cities))
W = wide.to_numpy()
level = wide.rolling(12, min_periods=1).mean().to_numpy()
deviation = W - level
column_of = {city: k for k, city in enumerate(cities)}
rows_city = np.array([column_of[c] for c in test["city"]])
horizon = test["t"].to_numpy() - last
"""

FOOTER = """
prediction = np.nan_to_num(np.asarray(prediction, dtype=float), nan=float(train["sales"].median()))
pd.DataFrame({"id": test["id"], "sales": np.clip(prediction, 0, None)}).to_csv("submission.csv", index=False)
"""

# Rules that need no model: each sets `prediction` (one value per test row).
RULES = {
    "zeros": "prediction = np.zeros(len(test))",
    "global-mean": "prediction = np.full(len(test), train['sales'].mean())",
    "global-median": "prediction = np.full(len(test), train['sales'].median())",
    "city-mean": "prediction = test['city'].map(train.groupby('city')['sales'].mean())",
    "city-last": "prediction = np.expm1(pd.DataFrame(W).ffill().to_numpy()[-1][rows_city])",
    "city-last-year": "prediction = np.expm1(np.nanmean(W[-12:], axis=0)[rows_city])",
    "city-last-quarter": "prediction = np.expm1(np.nanmean(W[-3:], axis=0)[rows_city])",
}

# Seasonal profile: the city's level (mean log sales of the last 12 months) plus the mean deviation of the same
# calendar month over the last `years` years, with `drift` times the last year-on-year growth per year ahead.
PROFILE = """
base = np.nanmean(W[-12:], axis=0)
growth = base - np.nanmean(W[-24:-12], axis=0)
season = []
for k in range(1, {years} + 1):
    j = len(W) - 1 + horizon - 12 * k
    j = np.where(j > len(W) - 1, j - 12, j)
    season.append(deviation[j, rows_city] if {use_deviation} else W[j, rows_city] - base[rows_city])
prediction = np.expm1(base[rows_city] + np.nanmean(season, axis=0) + {drift} * growth[rows_city] * horizon / 12)
"""

MODEL = """
growth = level - np.roll(level, 12, axis=0)
growth[:12] = np.nan
recent = wide.rolling(3, min_periods=1).mean().to_numpy() - level
n_cities = len(cities)


def block(c, horizons):
    i = c - first
    parts = []
    for h in horizons:
        seasonal = []
        for k in (1, 2, 3):
            j = i + h - 12 * k
            seasonal.append(deviation[j] if 0 <= j <= i else np.full(n_cities, np.nan))
        parts.append(pd.DataFrame({{
            "city": np.arange(n_cities), "calendar_month": (c + h) % 12, "horizon": h, "level": level[i],
            "growth": growth[i], "recent": recent[i], "season_1": seasonal[0], "season_2": seasonal[1],
            "season_3": seasonal[2], "season_mean": np.nanmean(seasonal, axis=0), "target_t": c + h,
        }}))
    return pd.concat(parts, ignore_index=True)


origins = range(max(first + 24, last - {window}), last)
examples = pd.concat([block(c, range(1, min(12, last - c) + 1)) for c in origins], ignore_index=True)
examples["y"] = W[examples["target_t"] - first, examples["city"]] - examples["level"]
examples = examples.dropna(subset=["y"])
columns = {columns}
future = block(last, range(1, int(horizon.max()) + 1))
X, X_future = examples[columns], future[columns]
if {fill}:
    X, X_future = X.fillna(0), X_future.fillna(0)
{imports}
model = {model}
model.fit(X, examples["y"])
future["sales"] = np.expm1(future["level"] + model.predict(X_future))
lookup = dict(zip(zip(future["city"], future["target_t"]), future["sales"]))
prediction = [lookup.get((k, t), np.nan) for k, t in zip(rows_city, test["t"])]
"""

FEATURES = {
    "calendar": ["calendar_month", "horizon", "level"],
    "season": ["calendar_month", "horizon", "level", "season_1", "season_2", "season_3", "season_mean"],
    "full": ["city", "calendar_month", "horizon", "level", "growth", "recent", "season_1", "season_2", "season_3",
             "season_mean"],
}

MODELS = {
    "ridge": ("from sklearn.linear_model import Ridge", "Ridge(alpha={alpha})", True),
    "knn": ("from sklearn.pipeline import make_pipeline\nfrom sklearn.preprocessing import StandardScaler\n"
            "from sklearn.neighbors import KNeighborsRegressor",
            "make_pipeline(StandardScaler(), KNeighborsRegressor(n_neighbors={k}))", True),
    "tree": ("from sklearn.tree import DecisionTreeRegressor",
             "DecisionTreeRegressor(max_depth={depth}, min_samples_leaf=20, random_state={seed})", True),
    "forest": ("from sklearn.ensemble import RandomForestRegressor",
               "RandomForestRegressor(n_estimators=60, min_samples_leaf={leaf}, max_features=0.5, "
               "random_state={seed}, n_jobs=1)", True),
    "extra": ("from sklearn.ensemble import ExtraTreesRegressor",
              "ExtraTreesRegressor(n_estimators=60, min_samples_leaf={leaf}, max_features=0.7, random_state={seed}, "
              "n_jobs=1)", True),
    "lgbm": ("import lightgbm as lgb",
             "lgb.LGBMRegressor(objective='{objective}', n_estimators={trees}, learning_rate={rate}, "
             "num_leaves={leaves}, min_child_samples=40, subsample=0.8, subsample_freq=1, colsample_bytree=0.8, "
             "random_state={seed}, n_jobs=1, verbose=-1)", False),
}


def _rule(name: str) -> str:
    return HEADER + RULES[name] + FOOTER


def _profile(years: int, drift: float, use_deviation: bool = True) -> str:
    return HEADER + PROFILE.format(years=years, drift=drift, use_deviation=use_deviation) + FOOTER


def _model(model: str, features: str, window: int = 400, **params: object) -> str:
    imports, constructor, fill = MODELS[model]
    params.setdefault("seed", 0)
    params.setdefault("objective", "regression")
    body = MODEL.format(window=window, columns=FEATURES[features], fill=fill, imports=imports,
                        model=constructor.format(**params))
    return HEADER + body + FOOTER


def _sweep() -> list[tuple[str, str]]:
    members = [(f"rule-{name}", _rule(name)) for name in RULES]
    for years in (1, 2, 3, 5):
        for drift in (0.0, 0.5, 1.0):
            members.append((f"profile-{years}y-drift{drift}", _profile(years, drift)))
        members.append((f"raw-profile-{years}y", _profile(years, 0.0, use_deviation=False)))
    for features in FEATURES:
        for window in (36, 400):
            for alpha in (1.0, 100.0):
                members.append((f"ridge-a{alpha:g}-{features}-{window}", _model("ridge", features, window,
                                                                                 alpha=alpha)))
            for depth in (4, 8):
                members.append((f"tree-d{depth}-{features}-{window}", _model("tree", features, window,
                                                                             depth=depth)))
        for k in (10, 50):
            members.append((f"knn{k}-{features}", _model("knn", features, 60, k=k)))
        for leaf in (5, 30):
            members.append((f"forest-l{leaf}-{features}", _model("forest", features, 48, leaf=leaf)))
        members.append((f"extra-{features}", _model("extra", features, 48, leaf=10)))
        for window in (48, 400):
            for trees, rate, leaves in ((60, 0.05, 7), (300, 0.05, 31), (300, 0.05, 63)):
                for seed in (0, 1):
                    members.append((f"boost-{trees}x{leaves}-{features}-{window}-s{seed}",
                                    _model("lgbm", features, window, trees=trees, rate=rate, leaves=leaves,
                                           seed=seed)))
    for seed in (0, 1, 2):
        for objective in ("l1", "huber"):
            members.append((f"boost-{objective}-full-s{seed}", _model("lgbm", "full", objective=objective,
                                                                       trees=300, rate=0.05, leaves=31,
                                                                       seed=seed)))
    return members


POPULATION: list[tuple[str, str]] = _sweep() + [(team, _solution(team)) for team in SOLUTIONS]
