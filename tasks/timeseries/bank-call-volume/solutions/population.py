"""The leaderboard population: (team, code) pairs from constant forecasts to gradient boosting on the calendar and
its gaps.

Each code string is a standalone script: it reads ./input/train.csv and ./input/test.csv and writes
./submission.csv (id, calls). The scripts are a sweep: rule-based forecasts (constants, repeated days and weeks,
weekday-by-half-hour profiles, daily totals times intraday shares, over several windows), then one regression
template over model families, feature sets, history windows and seeds.
"""

from __future__ import annotations

from pathlib import Path

# Members that are one of the task's own solutions: read from that file (team -> file name next to
# this one), so that the leaderboard scores exactly the code the baseline agent plays.
SOLUTIONS = {"four-week-profile": "simple.py", "gap-aware-boost": "reference.py"}


def _solution(team: str) -> str:
    return (Path(__file__).parent / SOLUTIONS[team]).read_text(encoding="utf-8")


HEADER = """\
import numpy as np
import pandas as pd

train = pd.read_csv("input/train.csv", parse_dates=["timestamp"])
test = pd.read_csv("input/test.csv", parse_dates=["timestamp"])
y = train["calls"].to_numpy(dtype=float)
origin = train["timestamp"].max()
per_day = int(train.groupby(train["timestamp"].dt.normalize()).size().max())
for frame in (train, test):
    frame["day"] = frame["timestamp"].dt.normalize()
    frame["weekday"] = frame["timestamp"].dt.day_of_week
    frame["period"] = frame["timestamp"].dt.hour * 2 + frame["timestamp"].dt.minute // 30
"""

FOOTER = """
prediction = np.nan_to_num(np.asarray(prediction, dtype=float), nan=float(np.median(y)))
pd.DataFrame({"id": test["id"], "calls": np.clip(prediction, 0, None)}).to_csv("submission.csv", index=False)
"""

RULES = {
    "zeros": "prediction = np.zeros(len(test))",
    "mean": "prediction = np.full(len(test), y.mean())",
    "last-day-mean": "prediction = np.full(len(test), y[-per_day:].mean())",
    "repeat-day": "prediction = np.resize(y[-per_day:], len(test))",
    "repeat-week": (  # the same weekday and half-hour in the last five days of history
        "last_week = train.iloc[-5 * per_day:]\n"
        "lookup = dict(zip(zip(last_week['weekday'], last_week['period']), last_week['calls']))\n"
        "prediction = [lookup.get(key, np.nan) for key in zip(test['weekday'], test['period'])]"
    ),
    "period-profile": "prediction = test['period'].map(train.groupby('period')['calls'].mean())",
}

PROFILE = """
recent = train[train["timestamp"] > origin - pd.Timedelta(weeks={weeks})]
profile = recent.groupby(["weekday", "period"])["calls"].{stat}()
prediction = [profile.get(key, np.nan) for key in zip(test["weekday"], test["period"])]
"""

# A day's total (the mean total of that weekday over `total_weeks`) times the half-hour's share of the day (over
# `share_weeks`, by weekday or pooled)
SHARES = """
totals = train.groupby("day")["calls"].sum()
train["share"] = train["calls"] / train["day"].map(totals)
recent_totals = totals[totals.index > origin - pd.Timedelta(weeks={total_weeks})]
by_weekday = recent_totals.groupby(recent_totals.index.day_of_week).mean()
recent = train[train["timestamp"] > origin - pd.Timedelta(weeks={share_weeks})]
if {by_weekday}:
    share = recent.groupby(["weekday", "period"])["share"].mean()
    shares = [share.get(key, np.nan) for key in zip(test["weekday"], test["period"])]
else:
    shares = test["period"].map(recent.groupby("period")["share"].mean())
prediction = test["weekday"].map(by_weekday).to_numpy() * np.asarray(shares, dtype=float)
"""

REGRESSION = """
days = pd.Series(sorted(pd.concat([train["day"], test["day"]]).unique()))
previous = days.shift(1).fillna(days[0] - pd.Timedelta(days=1))
skipped = [max(int(np.busday_count(p.date(), d.date())) - 1, 0) for p, d in zip(previous, days)]
skipped_before = dict(zip(days, skipped))
first_of_month = dict(zip(days, (days.dt.month != previous.dt.month).astype(int)))


def features(frame):
    out = pd.DataFrame({{"trend": (frame["timestamp"] - origin).dt.days / 7.0}})
    if {one_hot}:
        for p in sorted(train["period"].unique()):
            out[f"period_{{p}}"] = (frame["period"] == p).astype(int)
        for d in range(5):
            out[f"weekday_{{d}}"] = (frame["weekday"] == d).astype(int)
    else:
        out["period"] = frame["period"]
        out["weekday"] = frame["weekday"]
    if "month" in "{features}":
        out["day_of_month"] = frame["timestamp"].dt.day
    if "gaps" in "{features}":
        out["skipped_before"] = frame["day"].map(skipped_before)
        out["first_of_month"] = frame["day"].map(first_of_month)
    return out


history = train[train["timestamp"] > origin - pd.Timedelta(weeks={weeks})]
target = np.log1p(history["calls"].to_numpy(dtype=float)) if {log} else history["calls"].to_numpy(dtype=float)
{imports}
model = {model}
model.fit(features(history), target)
prediction = model.predict(features(test))
if {log}:
    prediction = np.expm1(prediction)
"""

MODELS = {
    "ridge": ("from sklearn.linear_model import Ridge", "Ridge(alpha=1.0)"),
    "knn": ("from sklearn.pipeline import make_pipeline\nfrom sklearn.preprocessing import StandardScaler\n"
            "from sklearn.neighbors import KNeighborsRegressor",
            "make_pipeline(StandardScaler(), KNeighborsRegressor(n_neighbors={k}))"),
    "tree": ("from sklearn.tree import DecisionTreeRegressor",
             "DecisionTreeRegressor(max_depth={depth}, min_samples_leaf=5, random_state={seed})"),
    "forest": ("from sklearn.ensemble import RandomForestRegressor",
               "RandomForestRegressor(n_estimators=150, min_samples_leaf={leaf}, random_state={seed}, n_jobs=1)"),
    "extra": ("from sklearn.ensemble import ExtraTreesRegressor",
              "ExtraTreesRegressor(n_estimators=150, min_samples_leaf={leaf}, random_state={seed}, n_jobs=1)"),
    "lgbm": ("import lightgbm as lgb",
             "lgb.LGBMRegressor(objective='{objective}', n_estimators={trees}, learning_rate=0.03, "
             "num_leaves={leaves}, min_child_samples=10, subsample=0.8, subsample_freq=1, random_state={seed}, "
             "n_jobs=1, verbose=-1)"),
}


def _rule(name: str) -> str:
    return HEADER + RULES[name] + FOOTER


def _profile(weeks: int, stat: str) -> str:
    return HEADER + PROFILE.format(weeks=weeks, stat=stat) + FOOTER


def _shares(total_weeks: int, share_weeks: int, by_weekday: bool) -> str:
    return HEADER + SHARES.format(total_weeks=total_weeks, share_weeks=share_weeks, by_weekday=by_weekday) + FOOTER


def _regression(model: str, features: str, *, weeks: int = 60, log: bool = True, one_hot: bool = False,
                **params: object) -> str:
    imports, constructor = MODELS[model]
    params.setdefault("seed", 0)
    params.setdefault("objective", "regression")
    body = REGRESSION.format(one_hot=one_hot, features=features, weeks=weeks, log=log, imports=imports,
                             model=constructor.format(**params))
    return HEADER + body + FOOTER


def _sweep() -> list[tuple[str, str]]:
    members = [(f"rule-{name}", _rule(name)) for name in RULES]
    for weeks in (1, 2, 8, 16):
        for stat in ("mean", "median"):
            members.append((f"profile-{weeks}w-{stat}", _profile(weeks, stat)))
    for total_weeks in (2, 4, 8):
        for share_weeks in (4, 16):
            for by_weekday in (False, True):
                members.append((f"shares-{total_weeks}w-{share_weeks}w{'-weekday' if by_weekday else ''}",
                                _shares(total_weeks, share_weeks, by_weekday)))
    for features in ("calendar", "calendar+month", "calendar+gaps", "calendar+month+gaps"):
        tag = features.replace("calendar", "cal").replace("+", "-")
        for log in (False, True):
            members.append((f"ridge-{tag}{'-log' if log else ''}", _regression("ridge", features, log=log,
                                                                                 one_hot=True)))
        members.append((f"knn15-{tag}", _regression("knn", features, weeks=12, k=15)))
        for depth in (6, 10):
            members.append((f"tree-d{depth}-{tag}", _regression("tree", features, depth=depth)))
        members.append((f"forest-{tag}", _regression("forest", features, leaf=3)))
        members.append((f"extra-{tag}", _regression("extra", features, leaf=3)))
        for weeks in (12, 60):
            for trees, leaves in ((150, 7), (500, 15), (800, 31)):
                for objective in ("l2", "l1"):
                    members.append((f"boost-{objective}-{trees}x{leaves}-{tag}-{weeks}w",
                                    _regression("lgbm", features, weeks=weeks, trees=trees, leaves=leaves,
                                                objective=objective)))
    return members


POPULATION: list[tuple[str, str]] = _sweep() + [(team, _solution(team)) for team in SOLUTIONS]
