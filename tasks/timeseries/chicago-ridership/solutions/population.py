"""The leaderboard population: (team, code) pairs from constant forecasts to gradient boosting on the calendar.

Each code string is a standalone script: it reads ./input/train.csv and ./input/test.csv and writes
./submission.csv (id, ridership). The scripts are assembled from rule-based forecasts and a calendar-feature
regression template over several models, feature sets and history windows: the 21 original members first, then
`_sweep()`: the reference solution and the same templates over more windows, models, seeds and feature sets.
"""

from __future__ import annotations

from pathlib import Path

# Members that are one of the task's own solutions: read from that file (team -> file name next to
# this one), so that the leaderboard scores exactly the code the baseline agent plays.
SOLUTIONS = {"eight-week-median": "simple.py", "calendar-boost-ensemble": "reference.py"}


def _solution(team: str) -> str:
    return (Path(__file__).parent / SOLUTIONS[team]).read_text(encoding="utf-8")


HEADER = """\
import numpy as np
import pandas as pd
from pandas.tseries.holiday import USFederalHolidayCalendar

train = pd.read_csv("input/train.csv", parse_dates=["date"])
test = pd.read_csv("input/test.csv", parse_dates=["date"])
holidays = USFederalHolidayCalendar().holidays(train["date"].min() - pd.Timedelta(days=7),
                                               test["date"].max() + pd.Timedelta(days=7))
weekday_train = train["date"].dt.day_of_week
weekday_test = test["date"].dt.day_of_week
"""

FOOTER = """
prediction = np.nan_to_num(np.asarray(prediction, dtype=float), nan=float(train["ridership"].median()))
pd.DataFrame({"id": test["id"], "ridership": np.clip(prediction, 0, None)}).to_csv("submission.csv", index=False)
"""

WEEKDAY_PROFILE = """
recent = train["date"] > train["date"].max() - pd.Timedelta(weeks={weeks})
profile = train[recent].groupby(weekday_train[recent])["ridership"].{stat}()
prediction = np.array(weekday_test.map(profile), dtype=float)
if {holidays}:  # a holiday is like a Sunday
    prediction[test["date"].isin(holidays).to_numpy()] = profile.get(6, np.nan)
"""

# Rules that need no model: each sets `prediction`.
RULES = {
    "zeros": "prediction = np.zeros(len(test))",
    "mean": "prediction = np.full(len(test), train['ridership'].mean())",
    "last": "prediction = np.full(len(test), train['ridership'].iloc[-1])",
    "recent-median": "prediction = np.full(len(test), train['ridership'].iloc[-28:].median())",
    "last-week": (
        "last_week = train.iloc[-7:]\n"
        "prediction = weekday_test.map(dict(zip(last_week['date'].dt.day_of_week, last_week['ridership'])))"
    ),
    "year-ago": (  # the same weekday 52 weeks earlier, repeated if the history is shorter than the horizon
        "by_date = dict(zip(train['date'], train['ridership']))\n"
        "prediction = [by_date.get(d - pd.Timedelta(weeks=52), np.nan) for d in test['date']]"
    ),
    "all-history-weekday": (
        "prediction = weekday_test.map(train.groupby(weekday_train)['ridership'].mean())"
    ),
}

FEATURES = """
def features(frame):
    date = frame["date"]
    out = pd.DataFrame({{"trend": (date - pd.Timestamp("2000-01-01")).dt.days / 365.25}})
    if {one_hot}:
        for d in range(7):
            out[f"weekday_{{d}}"] = (date.dt.day_of_week == d).astype(int)
        for m in range(1, 13):
            out[f"month_{{m}}"] = (date.dt.month == m).astype(int)
    else:
        out["weekday"] = date.dt.day_of_week
        out["day_of_year"] = date.dt.day_of_year
        out["month"] = date.dt.month
    if {holidays}:
        out["holiday"] = date.isin(holidays).astype(int)
        out["after_holiday"] = (date - pd.Timedelta(days=1)).isin(holidays).astype(int)
        out["before_holiday"] = (date + pd.Timedelta(days=1)).isin(holidays).astype(int)
        out["christmas_week"] = (((date.dt.month == 12) & (date.dt.day >= 20)) |
                                 ((date.dt.month == 1) & (date.dt.day <= 3))).astype(int)
    if {games}:
        for column in [c for c in frame.columns if c.endswith("_Home") or c.endswith("_Away")]:
            out[column] = frame[column].to_numpy()
    return out


history = train[train["date"] > train["date"].max() - pd.Timedelta(days=int(365.25 * {years}))]
{imports}
model = {model}
model.fit(features(history), history["ridership"])
prediction = model.predict(features(test))
"""

MODELS = {
    "ridge": ("from sklearn.linear_model import Ridge", "Ridge(alpha=1.0)"),
    "tree": ("from sklearn.tree import DecisionTreeRegressor",
             "DecisionTreeRegressor(max_depth=6, min_samples_leaf=5, random_state=0)"),
    "forest": ("from sklearn.ensemble import RandomForestRegressor",
               "RandomForestRegressor(n_estimators=200, min_samples_leaf=2, random_state=0, n_jobs=1)"),
    "lgbm": ("import lightgbm as lgb",
             "lgb.LGBMRegressor(n_estimators=600, learning_rate=0.03, num_leaves=31, min_child_samples=10, "
             "random_state=0, n_jobs=1, verbose=-1)"),
    "lgbm-l1": ("import lightgbm as lgb",
                "lgb.LGBMRegressor(objective='l1', n_estimators=800, learning_rate=0.03, num_leaves=31, "
                "min_child_samples=10, random_state=0, n_jobs=1, verbose=-1)"),
    "lgbm-small": ("import lightgbm as lgb",
                   "lgb.LGBMRegressor(n_estimators=60, learning_rate=0.05, num_leaves=7, random_state=0, n_jobs=1, "
                   "verbose=-1)"),
}


def _rule(name: str) -> str:
    return HEADER + "\n" + RULES[name] + "\n" + FOOTER


def _profile(weeks: int, stat: str = "median", holidays: bool = False) -> str:
    return HEADER + WEEKDAY_PROFILE.format(weeks=weeks, stat=stat, holidays=holidays) + FOOTER


def _regression(model: str, *, one_hot: bool = False, holidays: bool = True, games: bool = False,
                years: float = 100) -> str:
    imports, constructor = MODELS[model]
    body = FEATURES.format(one_hot=one_hot, holidays=holidays, games=games, years=years, imports=imports,
                           model=constructor)
    return HEADER + body + FOOTER


POPULATION: list[tuple[str, str]] = [
    ("empty-platform", _rule("zeros")),
    ("long-run-average", _rule("mean")),
    ("same-as-sunday", _rule("last")),
    ("recent-median", _rule("recent-median")),
    ("all-years-weekday", _rule("all-history-weekday")),
    ("year-ago-today", _rule("year-ago")),
    ("last-week-again", _rule("last-week")),
    ("fortnight-profile", _profile(2, "mean")),
    ("month-profile", _profile(4, "mean")),
    ("year-profile", _profile(52, "median")),
    ("eight-week-median", _solution("eight-week-median")),
    ("holiday-aware-median", _profile(8, "median", holidays=True)),
    ("linear-calendar", _regression("ridge", one_hot=True, holidays=False)),
    ("linear-calendar-recent", _regression("ridge", one_hot=True, holidays=True, years=2)),
    ("calendar-tree", _regression("tree")),
    ("small-boost", _regression("lgbm-small", holidays=False)),
    ("recent-boost", _regression("lgbm", years=3)),
    ("calendar-forest", _regression("forest", games=True)),
    ("boost-no-holidays", _regression("lgbm", holidays=False)),
    ("boost-with-games", _regression("lgbm", games=True)),
    ("median-boost", _regression("lgbm-l1")),
]


def _seeded(model: str, seed: int) -> str:
    """A MODELS entry with another random_state (and, for LightGBM, row and column sampling, without which the
    seed changes nothing), registered under its own key."""
    imports, constructor = MODELS[model]
    key = f"{model}-seed{seed}"
    sampling = "subsample=0.8, subsample_freq=1, colsample_bytree=0.8, " if model.startswith("lgbm") else ""
    MODELS[key] = (imports, constructor.replace("random_state=0", f"{sampling}random_state={seed}"))
    return key


def _sweep() -> list[tuple[str, str]]:
    members = [("calendar-boost-ensemble", _solution("calendar-boost-ensemble"))]
    for weeks in (3, 6, 12, 26):
        for stat in ("mean", "median"):
            for holidays in (False, True):
                members.append((f"profile-{weeks}w-{stat}{'-holidays' if holidays else ''}",
                                _profile(weeks, stat, holidays=holidays)))
    for model in ("ridge", "tree", "forest", "lgbm-small"):
        for holidays in (False, True):
            for years in (3, 8):
                members.append((f"{model}-{'hol' if holidays else 'plain'}-{years}y",
                                _regression(model, one_hot=model == "ridge", holidays=holidays, years=years)))
    for model in ("lgbm", "lgbm-l1"):
        for games in (False, True):
            for years in (2, 4, 5, 7, 10):
                members.append((f"{model}-{'games' if games else 'calendar'}-{years}y",
                                _regression(model, games=games, years=years)))
        for seed in (1, 2, 3, 4, 5):
            for games in (False, True):
                members.append((f"{model}-{'games' if games else 'calendar'}-all-s{seed}",
                                _regression(_seeded(model, seed), games=games)))
    for seed in (1, 2, 3):
        members.append((f"forest-games-s{seed}", _regression(_seeded("forest", seed), games=True)))
        members.append((f"tree-games-s{seed}", _regression(_seeded("tree", seed), games=True)))
    for years in (1, 4, 6, 12):
        members.append((f"linear-onehot-{years}y", _regression("ridge", one_hot=True, years=years)))
    return members


POPULATION += _sweep()
