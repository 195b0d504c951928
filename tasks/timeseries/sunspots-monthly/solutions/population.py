"""The leaderboard population: (team, code) pairs from constant forecasts to pooled gradient boosting.

Each code string is a standalone script: it reads ./input/train.csv and ./input/test.csv and writes
./submission.csv (id, value). The scripts are assembled from rule-based forecasts (constants, seasonal naive
with a solar-cycle period, analogues) and templates for recursive autoregressions, direct multi-output linear
models and pooled LightGBM models, over several look-backs, scales and objectives.
"""

from __future__ import annotations

from pathlib import Path

# Members that are one of the task's own solutions: read from that file (team -> file name next to
# this one), so that the leaderboard scores exactly the code the baseline agent plays.
SOLUTIONS = {"ar-five-years": "simple.py", "pooled-boost-ensemble": "reference.py"}


def _solution(team: str) -> str:
    return (Path(__file__).parent / SOLUTIONS[team]).read_text(encoding="utf-8")


HEADER = """\
import numpy as np
import pandas as pd

train = pd.read_csv("input/train.csv")
test = pd.read_csv("input/test.csv")
y = train["value"].to_numpy(dtype=float)
horizon = len(test)


def cycle_back(period):
    # index into y of the month `period` months before each test month (repeating the last period if needed)
    idx = np.arange(len(y), len(y) + horizon) - period
    while (idx >= len(y)).any():
        idx = np.where(idx >= len(y), idx - period, idx)
    return np.maximum(idx, 0)
"""

FOOTER = """
value = np.nan_to_num(np.asarray(value, dtype=float), nan=float(np.median(y)))
pd.DataFrame({"id": test["id"], "value": np.clip(value, 0, None)}).to_csv("submission.csv", index=False)
"""

# Rules that need no model: each sets `value`.
RULES = {
    "zeros": "value = np.zeros(horizon)",
    "mean": "value = np.full(horizon, y.mean())",
    "median": "value = np.full(horizon, np.median(y))",
    "last": "value = np.full(horizon, y[-1])",
    "last-year": "value = np.full(horizon, y[-12:].mean())",
    "snaive-120": "value = y[cycle_back(120)]",
    "snaive-132": "value = y[cycle_back(132)]",
    "smooth-snaive-132": (
        "smooth = pd.Series(y).rolling(13, center=True, min_periods=1).mean().to_numpy()\n"
        "value = smooth[cycle_back(132)]"
    ),
    "cycles-mean": (  # the same phase of the previous (up to) three 11-year cycles, averaged
        "smooth = pd.Series(y).rolling(13, center=True, min_periods=1).mean().to_numpy()\n"
        "periods = [p for p in (132, 264, 396) if p <= len(y)]\n"
        "value = np.mean([smooth[cycle_back(p)] for p in periods], axis=0)"
    ),
    "analogues": (  # continuations of the past stretches that look most like the last `window` months
        "window = min(132, (len(y) - horizon) // 2)\n"
        "last = np.log1p(y[-window:])\n"
        "z = np.log1p(y)\n"
        "starts = np.arange(window, len(y) - horizon + 1)\n"
        "distance = np.array([np.mean((z[s - window:s] - last) ** 2) for s in starts])\n"
        "chosen = []\n"
        "for s in starts[np.argsort(distance)]:\n"
        "    if all(abs(s - c) > 24 for c in chosen):\n"
        "        chosen.append(s)\n"
        "    if len(chosen) == 5:\n"
        "        break\n"
        "value = np.expm1(np.mean([z[s:s + horizon] for s in chosen], axis=0))"
    ),
}

RECURSIVE = """
from sklearn.linear_model import Ridge

lags = min({lags}, len(y) // 3)
series = np.log1p(y) if {log} else y
X = np.array([series[i - lags:i] for i in range(lags, len(series))])
model = Ridge(alpha=1.0).fit(X, series[lags:])
history = list(series)
for _ in range(horizon):
    history.append(float(model.predict(np.array(history[-lags:])[None])[0]))
value = np.array(history[len(series):])
value = np.expm1(value) if {log} else value
"""

DIRECT = """
from sklearn.linear_model import Ridge

lags = min({lags}, (len(y) - horizon) // 2)
series = np.log1p(y) if {log} else y
rows = range(lags, len(series) - horizon + 1)
X = np.array([series[i - lags:i] for i in rows])
Y = np.array([series[i:i + horizon] for i in rows])
value = Ridge(alpha=10.0).fit(X, Y).predict(series[-lags:][None])[0]
value = np.expm1(value) if {log} else value
"""

POOLED = """
import lightgbm as lgb

series = np.log1p(y) if {log} else y
smooth = pd.Series(series).rolling(12, min_periods=1).mean().to_numpy()
max_lag = min({lags}, (len(series) - horizon) // 2)
lag_list = np.arange(0, max_lag + 1, 6)


def origin_features(t):
    return np.r_[smooth[t - 1 - lag_list], series[t - 12:t]]


origins = np.arange(max(max_lag + 1, 12), len(series) - horizon + 1, 3 if len(series) > 1000 else 1)
F = np.array([origin_features(t) for t in origins])
X = np.vstack([np.column_stack([F, np.full(len(F), h)]) for h in range(horizon)])
Y = np.concatenate([series[origins + h] for h in range(horizon)])
model = lgb.LGBMRegressor(objective="{objective}", n_estimators={trees}, learning_rate=0.05, num_leaves=31,
                          min_child_samples=50, subsample=0.7, subsample_freq=1, colsample_bytree=0.7,
                          random_state={seed}, n_jobs=1, verbose=-1)
model.fit(X, Y)
value = model.predict(np.column_stack([np.tile(origin_features(len(series)), (horizon, 1)), np.arange(horizon)]))
value = np.expm1(value) if {log} else value
"""


def _rule(name: str) -> str:
    return HEADER + "\n" + RULES[name] + "\n" + FOOTER


def _recursive(lags: int, log: bool = False) -> str:
    return HEADER + RECURSIVE.format(lags=lags, log=log) + FOOTER


def _direct(lags: int, log: bool = True) -> str:
    return HEADER + DIRECT.format(lags=lags, log=log) + FOOTER


def _pooled(lags: int = 264, log: bool = True, objective: str = "l1", trees: int = 400, seed: int = 0) -> str:
    return HEADER + POOLED.format(lags=lags, log=log, objective=objective, trees=trees, seed=seed) + FOOTER


POPULATION: list[tuple[str, str]] = [
    ("spotless-sun", _rule("zeros")),
    ("long-run-mean", _rule("mean")),
    ("long-run-median", _rule("median")),
    ("last-month-forever", _rule("last")),
    ("last-year-forever", _rule("last-year")),
    ("decade-ago", _rule("snaive-120")),
    ("one-cycle-ago", _rule("snaive-132")),
    ("smoothed-cycle-ago", _rule("smooth-snaive-132")),
    ("three-cycle-average", _rule("cycles-mean")),
    ("analogue-hunters", _rule("analogues")),
    ("ar-one-year", _recursive(12)),
    ("ar-two-years", _recursive(24)),
    ("ar-five-years", _solution("ar-five-years")),
    ("log-ar-five-years", _recursive(60, log=True)),
    ("direct-linear-raw", _direct(132, log=False)),
    ("direct-linear-log", _direct(132)),
    ("direct-linear-log-long", _direct(264)),
    ("pooled-boost-raw-l2", _pooled(log=False, objective="l2")),
    ("pooled-boost-short-memory", _pooled(lags=66)),
    ("pooled-boost-quick", _pooled(trees=60)),
    ("pooled-boost-log-l2", _pooled(objective="l2")),
    ("pooled-boost-log-l1", _pooled(seed=1)),
]


def _variant(template: str, **replacements: str) -> str:
    """A rule's text with some of its settings replaced (old text -> new text)."""
    for old, new in replacements.items():
        assert old in template, old
        template = template.replace(old, new)
    return HEADER + "\n" + template + "\n" + FOOTER


def _sweep() -> list[tuple[str, str]]:
    members = [("pooled-boost-ensemble", _solution("pooled-boost-ensemble"))]
    for lags in (6, 18, 36, 48, 72, 96, 132):
        for log in (False, True):
            members.append((f"ar-{lags}{'-log' if log else ''}", _recursive(lags, log=log)))
    for lags in (24, 60, 132):
        for alpha in ("10.0", "100.0"):
            template = RECURSIVE.replace("alpha=1.0", f"alpha={alpha}")
            members.append((f"ar-{lags}-log-alpha{alpha[:-2]}", HEADER + template.format(lags=lags, log=True) + FOOTER))
    for lags in (48, 96, 180, 220):
        for log in (False, True):
            members.append((f"direct-{lags}{'-log' if log else ''}", _direct(lags, log=log)))
    for lags in (66, 132, 264):
        for alpha in ("1.0", "100.0", "1000.0"):
            template = DIRECT.replace("alpha=10.0", f"alpha={alpha}")
            code = HEADER + template.format(lags=lags, log=True) + FOOTER
            members.append((f"direct-{lags}-log-alpha{alpha[:-2]}", code))
        template = DIRECT.replace("alpha=10.0", "alpha=1000.0")
        members.append((f"direct-{lags}-raw-alpha1000", HEADER + template.format(lags=lags, log=False) + FOOTER))
    for lags in (66, 132, 198):
        for objective in ("l1", "l2"):
            for trees in (150, 300):
                members.append((f"pooled-{objective}-{lags}-{trees}",
                                _pooled(lags=lags, objective=objective, trees=trees)))
    for seed in (2, 3, 4):
        members.append((f"pooled-l1-s{seed}", _pooled(seed=seed)))
        members.append((f"pooled-l2-s{seed}", _pooled(objective="l2", seed=seed)))
    for window in ("66", "132", "264"):
        for neighbours in ("1", "3", "10"):
            members.append((f"analogues-{window}-k{neighbours}",
                            _variant(RULES["analogues"], **{"min(132,": f"min({window},", "== 5": f"== {neighbours}"})))
    for smooth in ("3", "25", "49"):
        for period in ("128", "132", "136"):
            members.append((f"smooth-{smooth}-cycle-{period}",
                            _variant(RULES["smooth-snaive-132"], **{"rolling(13,": f"rolling({smooth},",
                                                                     "cycle_back(132)": f"cycle_back({period})"})))
    for period in (126, 130, 134, 138):
        code = _variant(RULES["snaive-132"], **{"cycle_back(132)": f"cycle_back({period})"})
        members.append((f"cycle-ago-{period}", code))
    return members


POPULATION += _sweep()
