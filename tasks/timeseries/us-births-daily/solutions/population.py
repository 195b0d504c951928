"""The leaderboard population: (team, code) pairs from constant forecasts to gradient boosting on the calendar.

Each code string is a standalone script: it reads ./input/train.csv and ./input/test.csv and writes
./submission.csv (id, births). The scripts are a sweep: rule-based forecasts (constants, repeated weeks,
year-ago values, weekday profiles over several windows), then one calendar-regression template over model
families, feature sets, targets (births or their logarithm), history windows and seeds.
"""

from __future__ import annotations

from pathlib import Path

# Members that are one of the task's own solutions: read from that file (team -> file name next to
# this one), so that the leaderboard scores exactly the code the baseline agent plays.
SOLUTIONS = {"eight-week-weekday-mean": "simple.py", "holiday-boost": "reference.py"}


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
y = train["births"].to_numpy(dtype=float)
weekday_train = train["date"].dt.day_of_week
weekday_test = test["date"].dt.day_of_week
"""

FOOTER = """
prediction = np.nan_to_num(np.asarray(prediction, dtype=float), nan=float(np.median(y)))
pd.DataFrame({"id": test["id"], "births": np.clip(prediction, 0, None)}).to_csv("submission.csv", index=False)
"""

RULES = {
    "zeros": "prediction = np.zeros(len(test))",
    "mean": "prediction = np.full(len(test), y.mean())",
    "last": "prediction = np.full(len(test), y[-1])",
    "last-month-mean": "prediction = np.full(len(test), y[-30:].mean())",
    "repeat-week": "prediction = np.resize(y[-7:], len(test))",
    "year-ago": (  # the same weekday 52 weeks earlier
        "by_date = dict(zip(train['date'], y))\n"
        "prediction = [by_date.get(d - pd.Timedelta(weeks=52), np.nan) for d in test['date']]"
    ),
    "year-ago-scaled": (  # the same weekday 52 weeks earlier, times the growth of the last quarter over its year-ago
        "by_date = dict(zip(train['date'], y))\n"
        "before = [by_date.get(d - pd.Timedelta(weeks=52), np.nan) for d in train['date'].iloc[-91:]]\n"
        "ratio = y[-91:].sum() / np.sum(before)\n"
        "prediction = ratio * np.array([by_date.get(d - pd.Timedelta(weeks=52), np.nan) for d in test['date']])"
    ),
}

PROFILE = """
recent = train["date"] > train["date"].max() - pd.Timedelta(weeks={weeks})
profile = train[recent].groupby(weekday_train[recent])["births"].{stat}()
prediction = np.array(weekday_test.map(profile), dtype=float)
if {holidays}:  # a holiday is like a Sunday
    prediction[test["date"].isin(holidays).to_numpy()] = profile.get(6, np.nan)
"""

REGRESSION = """
def features(frame):
    date = frame["date"]
    out = pd.DataFrame({{"trend": (date - pd.Timestamp("1969-01-01")).dt.days / 365.25}})
    if {one_hot}:
        for d in range(7):
            out[f"weekday_{{d}}"] = (date.dt.day_of_week == d).astype(int)
        for m in range(1, 13):
            out[f"month_{{m}}"] = (date.dt.month == m).astype(int)
    else:
        out["weekday"] = date.dt.day_of_week
        out["day_of_year"] = date.dt.day_of_year
        out["month"] = date.dt.month
        out["day"] = date.dt.day
    if {holidays}:
        out["holiday"] = date.isin(holidays).astype(int)
        out["after_holiday"] = (date - pd.Timedelta(days=1)).isin(holidays).astype(int)
        out["before_holiday"] = (date + pd.Timedelta(days=1)).isin(holidays).astype(int)
        out["year_end"] = (((date.dt.month == 12) & (date.dt.day >= 22)) |
                           ((date.dt.month == 1) & (date.dt.day <= 2))).astype(int)
    return out


history = train[train["date"] > train["date"].max() - pd.Timedelta(days=int(365.25 * {years}))]
target = history["births"].to_numpy(dtype=float)
if {log}:
    target = np.log(target)
{imports}
model = {model}
model.fit(features(history), target)
prediction = model.predict(features(test))
if {log}:
    prediction = np.exp(prediction)
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
             "lgb.LGBMRegressor(objective='{objective}', n_estimators={trees}, learning_rate={rate}, "
             "num_leaves={leaves}, min_child_samples=10, subsample=0.8, subsample_freq=1, colsample_bytree=0.8, "
             "random_state={seed}, n_jobs=1, verbose=-1)"),
}


def _rule(name: str) -> str:
    return HEADER + RULES[name] + FOOTER


def _profile(weeks: int, stat: str, holidays: bool) -> str:
    return HEADER + PROFILE.format(weeks=weeks, stat=stat, holidays=holidays) + FOOTER


def _regression(model: str, *, holidays: bool = True, one_hot: bool = False, years: float = 25, log: bool = False,
                **params: object) -> str:
    imports, constructor = MODELS[model]
    params.setdefault("seed", 0)
    params.setdefault("objective", "regression")
    body = REGRESSION.format(one_hot=one_hot, holidays=holidays, years=years, log=log, imports=imports,
                             model=constructor.format(**params))
    return HEADER + body + FOOTER


def _sweep() -> list[tuple[str, str]]:
    members = [(f"rule-{name}", _rule(name)) for name in RULES]
    for weeks in (1, 4, 12, 26, 52):
        for stat in ("mean", "median"):
            for holidays in (False, True):
                members.append((f"weekday-{weeks}w-{stat}{'-holidays' if holidays else ''}",
                                _profile(weeks, stat, holidays)))
    for holidays in (False, True):
        tag = "hol" if holidays else "plain"
        for years in (2, 25):
            for log in (False, True):
                members.append((f"ridge-{tag}-{years}y{'-log' if log else ''}",
                                _regression("ridge", holidays=holidays, one_hot=True, years=years, log=log)))
        for k in (5, 20):
            members.append((f"knn{k}-{tag}", _regression("knn", holidays=holidays, years=4, k=k)))
        for depth in (6, 12):
            members.append((f"tree-d{depth}-{tag}", _regression("tree", holidays=holidays, years=8, depth=depth)))
        for leaf in (1, 5):
            members.append((f"forest-l{leaf}-{tag}", _regression("forest", holidays=holidays, years=8, leaf=leaf)))
            members.append((f"extra-l{leaf}-{tag}", _regression("extra", holidays=holidays, years=8, leaf=leaf)))
        for years in (3, 8, 25):
            for trees, rate, leaves in ((100, 0.05, 7), (400, 0.05, 15), (800, 0.03, 31)):
                for log in (False, True):
                    members.append((f"boost-{trees}x{leaves}-{tag}-{years}y{'-log' if log else ''}",
                                    _regression("lgbm", holidays=holidays, years=years, log=log, trees=trees,
                                                rate=rate, leaves=leaves)))
    for years in (8, 25):
        members.append((f"ridge-numeric-{years}y", _regression("ridge", years=years, log=True)))
        for seed in (1, 2):
            members.append((f"boost-800x31-hol-{years}y-log-s{seed}",
                            _regression("lgbm", years=years, log=True, trees=800, rate=0.03, leaves=31, seed=seed)))
        for objective in ("l1", "huber"):
            members.append((f"boost-{objective}-{years}y", _regression("lgbm", years=years, objective=objective,
                                                                       trees=400, rate=0.05, leaves=15)))
    for seed in (1, 2):
        for trees, years in ((100, 25), (200, 25), (200, 12)):
            members.append((f"boost-{trees}x7-hol-{years}y-log-s{seed}",
                            _regression("lgbm", years=years, log=True, trees=trees, rate=0.05, leaves=7, seed=seed)))
        for objective in ("l1", "huber"):
            members.append((f"boost-{objective}-log-8y-s{seed}",
                            _regression("lgbm", years=8, log=True, objective=objective, trees=800, rate=0.03,
                                        leaves=31, seed=seed)))
    return members


POPULATION: list[tuple[str, str]] = _sweep() + [(team, _solution(team)) for team in SOLUTIONS]
