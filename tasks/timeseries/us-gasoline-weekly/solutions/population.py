"""The leaderboard population: (team, code) pairs from constant forecasts to harmonic regressions.

Each code string is a standalone script: it reads ./input/train.csv and ./input/test.csv and writes
./submission.csv (id, barrels). The scripts are a sweep: rule-based forecasts (constants, seasonal naive over one
to five years, with and without a level correction), harmonic regressions (Fourier terms of the date and a trend)
over numbers of harmonics, history windows and penalties, and detrended models of the time of year (k-NN, trees,
forests, LightGBM) over windows and seeds.
"""

from __future__ import annotations

from pathlib import Path

# Members that are one of the task's own solutions: read from that file (team -> file name next to
# this one), so that the leaderboard scores exactly the code the baseline agent plays.
SOLUTIONS = {"year-ago": "simple.py", "harmonic-ridge": "reference.py"}


def _solution(team: str) -> str:
    return (Path(__file__).parent / SOLUTIONS[team]).read_text(encoding="utf-8")


HEADER = """\
import numpy as np
import pandas as pd

train = pd.read_csv("input/train.csv", parse_dates=["week"])
test = pd.read_csv("input/test.csv", parse_dates=["week"])
y = train["barrels"].to_numpy(dtype=float)
origin = train["week"].max()
horizon = len(test)
steps = np.arange(1, horizon + 1)
"""

FOOTER = """
prediction = np.nan_to_num(np.asarray(prediction, dtype=float), nan=float(np.median(y)))
pd.DataFrame({"id": test["id"], "barrels": np.clip(prediction, 0, None)}).to_csv("submission.csv", index=False)
"""

RULES = {
    "zeros": "prediction = np.zeros(horizon)",
    "mean": "prediction = np.full(horizon, y.mean())",
    "last": "prediction = np.full(horizon, y[-1])",
    "last-year-mean": "prediction = np.full(horizon, y[-52:].mean())",
    "last-quarter-mean": "prediction = np.full(horizon, y[-13:].mean())",
    "drift": "prediction = y[-1] + steps * (y[-1] - y[0]) / (len(y) - 1)",
}

# The same week 52 * k weeks earlier, for k = 1..years, averaged; with `level`, each year's values are shifted
# by the difference between the last 52 weeks' mean and that year's mean.
SEASONAL = """
back = steps - 52 * np.ceil(steps / 52).astype(int)
paths = []
for k in range(1, {years} + 1):
    index = len(y) - 1 + back - 52 * (k - 1)
    path = y[index]
    if {level}:
        path = path + y[-52:].mean() - y[len(y) - 52 * k:len(y) - 52 * (k - 1)].mean()
    paths.append(path)
prediction = np.mean(paths, axis=0)
"""

HARMONIC = """
from sklearn.linear_model import Ridge


def features(frame):
    days = (frame["week"] - origin).dt.days.to_numpy(dtype=float)
    phase = 2 * np.pi * days / 365.25
    columns = {{"trend": days / 365.25 * {trend}}}
    for k in range(1, {harmonics} + 1):
        columns[f"cos{{k}}"] = np.cos(k * phase)
        columns[f"sin{{k}}"] = np.sin(k * phase)
    return pd.DataFrame(columns)


history = train[train["week"] > origin - pd.Timedelta(days=int(365.25 * {years}))]
model = Ridge(alpha={alpha}).fit(features(history), history["barrels"])
prediction = model.predict(features(test))
"""

# A straight line over the window, then a model of what is left from the time of year
DETRENDED = """
history = train[train["week"] > origin - pd.Timedelta(days=int(365.25 * {years}))]
t_hist = (history["week"] - origin).dt.days.to_numpy(dtype=float) / 365.25
t_test = (test["week"] - origin).dt.days.to_numpy(dtype=float) / 365.25
slope, intercept = np.polyfit(t_hist, history["barrels"].to_numpy(), 1)
residual = history["barrels"].to_numpy() - (intercept + slope * t_hist)


def features(frame):
    day = frame["week"].dt.day_of_year.to_numpy(dtype=float)
    return pd.DataFrame({{"cos": np.cos(2 * np.pi * day / 365.25), "sin": np.sin(2 * np.pi * day / 365.25)}})


{imports}
model = {model}
model.fit(features(history), residual)
prediction = intercept + slope * t_test + model.predict(features(test))
"""

MODELS = {
    "knn": ("from sklearn.neighbors import KNeighborsRegressor", "KNeighborsRegressor(n_neighbors={k})"),
    "tree": ("from sklearn.tree import DecisionTreeRegressor",
             "DecisionTreeRegressor(max_depth={depth}, min_samples_leaf=3, random_state={seed})"),
    "forest": ("from sklearn.ensemble import RandomForestRegressor",
               "RandomForestRegressor(n_estimators=200, min_samples_leaf={leaf}, random_state={seed}, n_jobs=1)"),
    "lgbm": ("import lightgbm as lgb",
             "lgb.LGBMRegressor(n_estimators={trees}, learning_rate=0.03, num_leaves={leaves}, min_child_samples=5, "
             "subsample=0.8, subsample_freq=1, random_state={seed}, n_jobs=1, verbose=-1)"),
}


def _rule(name: str) -> str:
    return HEADER + RULES[name] + FOOTER


def _seasonal(years: int, level: bool) -> str:
    return HEADER + SEASONAL.format(years=years, level=level) + FOOTER


def _harmonic(harmonics: int, years: float, trend: bool = True, alpha: float = 0.1) -> str:
    return HEADER + HARMONIC.format(harmonics=harmonics, years=years, trend=int(trend), alpha=alpha) + FOOTER


def _detrended(model: str, years: float, **params: object) -> str:
    imports, constructor = MODELS[model]
    params.setdefault("seed", 0)
    return HEADER + DETRENDED.format(years=years, imports=imports, model=constructor.format(**params)) + FOOTER


def _sweep() -> list[tuple[str, str]]:
    members = [(f"rule-{name}", _rule(name)) for name in RULES]
    for years in (1, 2, 3, 5):
        for level in (False, True):
            members.append((f"seasonal-{years}y{'-level' if level else ''}", _seasonal(years, level)))
    for harmonics in (1, 3, 6, 12, 20):
        for years in (2, 3, 5, 8, 15):
            members.append((f"harmonic-k{harmonics}-{years}y", _harmonic(harmonics, years)))
        for years in (3, 8):
            members.append((f"harmonic-k{harmonics}-{years}y-flat", _harmonic(harmonics, years, trend=False)))
            members.append((f"harmonic-k{harmonics}-{years}y-stiff", _harmonic(harmonics, years, alpha=30.0)))
    for years in (3, 5, 10):
        for k in (5, 20, 60):
            members.append((f"detrended-knn{k}-{years}y", _detrended("knn", years, k=k)))
        for depth in (3, 6):
            members.append((f"detrended-tree-d{depth}-{years}y", _detrended("tree", years, depth=depth)))
        for leaf in (2, 10):
            members.append((f"detrended-forest-l{leaf}-{years}y", _detrended("forest", years, leaf=leaf)))
        for trees, leaves in ((100, 4), (300, 8), (600, 16)):
            for seed in (0, 1, 2):
                members.append((f"detrended-boost-{trees}x{leaves}-{years}y-s{seed}",
                                _detrended("lgbm", years, trees=trees, leaves=leaves, seed=seed)))
    return members


POPULATION: list[tuple[str, str]] = _sweep() + [(team, _solution(team)) for team in SOLUTIONS]
