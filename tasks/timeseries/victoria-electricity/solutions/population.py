"""The leaderboard population: (team, code) pairs from constant forecasts to gradient boosting on the calendar
and the temperature.

Each code string is a standalone script: it reads ./input/train.csv and ./input/test.csv and writes
./submission.csv (id, demand). The scripts are a sweep: rule-based forecasts (constants, repeated days and
weeks, hour-of-day profiles over several windows), then one regression template over model families, feature
sets, history windows and seeds.
"""

from __future__ import annotations

from pathlib import Path

# Members that are one of the task's own solutions: read from that file (team -> file name next to
# this one), so that the leaderboard scores exactly the code the baseline agent plays.
SOLUTIONS = {"four-week-profile": "simple.py", "temperature-boost": "reference.py"}


def _solution(team: str) -> str:
    return (Path(__file__).parent / SOLUTIONS[team]).read_text(encoding="utf-8")


HEADER = """\
import numpy as np
import pandas as pd

train = pd.read_csv("input/train.csv", parse_dates=["timestamp"])
test = pd.read_csv("input/test.csv", parse_dates=["timestamp"])
y = train["demand"].to_numpy(dtype=float)
horizon = len(test)
"""

FOOTER = """
prediction = np.nan_to_num(np.asarray(prediction, dtype=float), nan=float(np.median(y)))
pd.DataFrame({"id": test["id"], "demand": np.clip(prediction, 0, None)}).to_csv("submission.csv", index=False)
"""

RULES = {
    "zeros": "prediction = np.zeros(horizon)",
    "mean": "prediction = np.full(horizon, y.mean())",
    "median": "prediction = np.full(horizon, np.median(y))",
    "last": "prediction = np.full(horizon, y[-1])",
    "last-week-mean": "prediction = np.full(horizon, y[-168:].mean())",
    "repeat-day": "prediction = np.resize(y[-24:], horizon)",
    "repeat-week": "prediction = np.resize(y[-168:], horizon)",
}

PROFILE = """
recent = train[train["timestamp"] > train["timestamp"].max() - pd.Timedelta(weeks={weeks})]
keys_train = [recent["timestamp"].dt.hour] + ([recent["{by}"]] if "{by}" != "none" else [])
profile = recent.groupby(keys_train)["demand"].{stat}()
keys = list(zip(test["timestamp"].dt.hour, test["{by}"])) if "{by}" != "none" else list(test["timestamp"].dt.hour)
prediction = [profile.get(key, np.nan) for key in keys]
"""

REGRESSION = """
both = pd.concat([train, test], ignore_index=True)


def features(frame):
    stamp = frame["timestamp"]
    out = pd.DataFrame(index=frame.index)
    if {one_hot}:
        for h in range(24):
            out[f"hour_{{h}}"] = (stamp.dt.hour == h).astype(int)
            out[f"hour_work_{{h}}"] = ((stamp.dt.hour == h) & (frame["workday"] == 1)).astype(int)
    else:
        out["hour"] = stamp.dt.hour
        out["weekday"] = stamp.dt.day_of_week
    out["workday"] = frame["workday"]
    if {season}:
        out["season_cos"] = np.cos(2 * np.pi * stamp.dt.day_of_year / 365.25)
        out["season_sin"] = np.sin(2 * np.pi * stamp.dt.day_of_year / 365.25)
    if {temperature} >= 1:
        t = frame["temperature"]
        out["temperature"] = t
        out["heat"] = np.clip(t - 20, 0, None)
        out["cold"] = np.clip(15 - t, 0, None)
    if {temperature} >= 2:
        t = frame["temperature"]
        day = stamp.dt.floor("D")
        out["temperature_lag2"] = t.shift(2).bfill()
        out["temperature_24h"] = t.rolling(24, min_periods=1).mean()
        out["day_max"] = t.groupby(day).transform("max")
        out["day_min"] = t.groupby(day).transform("min")
    return out


X = features(both)
X_train, X_test = X.iloc[:len(train)], X.iloc[len(train):]
keep = (train["timestamp"] > train["timestamp"].max() - pd.Timedelta(weeks={weeks})).to_numpy()
{imports}
model = {model}
model.fit(X_train[keep], y[keep])
prediction = model.predict(X_test)
"""

MODELS = {
    "ridge": ("from sklearn.linear_model import Ridge", "Ridge(alpha=1.0)"),
    "knn": ("from sklearn.pipeline import make_pipeline\nfrom sklearn.preprocessing import StandardScaler\n"
            "from sklearn.neighbors import KNeighborsRegressor",
            "make_pipeline(StandardScaler(), KNeighborsRegressor(n_neighbors={k}))"),
    "tree": ("from sklearn.tree import DecisionTreeRegressor",
             "DecisionTreeRegressor(max_depth={depth}, min_samples_leaf=10, random_state={seed})"),
    "forest": ("from sklearn.ensemble import RandomForestRegressor",
               "RandomForestRegressor(n_estimators=120, min_samples_leaf={leaf}, max_features=0.6, "
               "random_state={seed}, n_jobs=1)"),
    "extra": ("from sklearn.ensemble import ExtraTreesRegressor",
              "ExtraTreesRegressor(n_estimators=120, min_samples_leaf={leaf}, random_state={seed}, n_jobs=1)"),
    "lgbm": ("import lightgbm as lgb",
             "lgb.LGBMRegressor(n_estimators={trees}, learning_rate={rate}, num_leaves={leaves}, "
             "min_child_samples=20, subsample=0.8, subsample_freq=1, colsample_bytree=0.8, random_state={seed}, "
             "n_jobs=1, verbose=-1)"),
}


def _rule(name: str) -> str:
    return HEADER + RULES[name] + FOOTER


def _profile(weeks: int, by: str, stat: str) -> str:
    return HEADER + PROFILE.format(weeks=weeks, by=by, stat=stat) + FOOTER


def _regression(model: str, *, temperature: int, season: bool = True, one_hot: bool = False, weeks: int = 60,
                **params: object) -> str:
    imports, constructor = MODELS[model]
    params.setdefault("seed", 0)
    body = REGRESSION.format(one_hot=one_hot, season=season, temperature=temperature, weeks=weeks,
                             imports=imports, model=constructor.format(**params))
    return HEADER + body + FOOTER


def _sweep() -> list[tuple[str, str]]:
    members = [(f"rule-{name}", _rule(name)) for name in RULES]
    for weeks in (1, 2, 8, 16):
        for by in ("none", "workday"):
            for stat in ("mean", "median"):
                members.append((f"profile-{by}-{weeks}w-{stat}", _profile(weeks, by, stat)))
    for temperature in (0, 1, 2):
        for weeks in (8, 60):
            members.append((f"ridge-onehot-t{temperature}-{weeks}w",
                            _regression("ridge", temperature=temperature, one_hot=True, weeks=weeks)))
        for k in (5, 25):
            members.append((f"knn{k}-t{temperature}", _regression("knn", temperature=temperature, k=k)))
        for depth in (4, 8, 12):
            members.append((f"tree-d{depth}-t{temperature}", _regression("tree", temperature=temperature,
                                                                         depth=depth)))
        for leaf in (1, 5):
            members.append((f"forest-l{leaf}-t{temperature}", _regression("forest", temperature=temperature,
                                                                          leaf=leaf)))
            members.append((f"extra-l{leaf}-t{temperature}", _regression("extra", temperature=temperature,
                                                                         leaf=leaf)))
    for temperature in (0, 1, 2):
        for weeks in (12, 60):
            for trees, rate, leaves in ((100, 0.05, 7), (300, 0.05, 15), (600, 0.03, 31), (400, 0.05, 63)):
                for seed in (0, 1):
                    members.append((f"boost-{trees}x{leaves}-t{temperature}-{weeks}w-s{seed}",
                                    _regression("lgbm", temperature=temperature, weeks=weeks, trees=trees,
                                                rate=rate, leaves=leaves, seed=seed)))
    for seed in (2, 3, 4):
        members.append((f"boost-600x31-t2-60w-s{seed}", _regression("lgbm", temperature=2, weeks=60, trees=600,
                                                                     rate=0.03, leaves=31, seed=seed)))
        members.append((f"boost-900x31-t2-30w-s{seed}", _regression("lgbm", temperature=2, weeks=30, trees=900,
                                                                     rate=0.02, leaves=31, seed=seed)))
    for trees, rate, leaves in ((800, 0.02, 31), (1000, 0.02, 31), (600, 0.03, 23)):
        for seed in (0, 1):
            members.append((f"boost-{trees}x{leaves}-lr{rate}-t2-60w-s{seed}",
                            _regression("lgbm", temperature=2, weeks=60, trees=trees, rate=rate, leaves=leaves,
                                        seed=seed)))
    for seed in (0, 1, 2):
        members.append((f"boost-no-season-s{seed}", _regression("lgbm", temperature=2, season=False, trees=600,
                                                                rate=0.03, leaves=31, seed=seed)))
    return members


POPULATION: list[tuple[str, str]] = _sweep() + [(team, _solution(team)) for team in SOLUTIONS]
