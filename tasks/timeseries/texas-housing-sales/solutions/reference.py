"""Reference: one LightGBM model for all cities, trained on rolling forecast origins. For every past month c and
horizon h = 1..12 it learns log sales at c + h relative to the city's level at c (its mean log sales over the 12
months up to c), from the calendar month, the horizon, the level, the year-on-year growth, the last quarter's
deviation, the city's seasonal deviations one to three years before and the city itself. The L1 objective on
the log scale (robust to the odd month of a small city); three seeds averaged."""

import warnings

import lightgbm as lgb
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
W = wide.to_numpy()  # months x cities, NaN where a month is missing
level = wide.rolling(12, min_periods=1).mean().to_numpy()  # trailing 12-month mean at each month
growth = level - np.roll(level, 12, axis=0)
growth[:12] = np.nan
recent = wide.rolling(3, min_periods=1).mean().to_numpy() - level
deviation = W - level  # how far each month sits from its trailing yearly mean
n_cities = len(cities)


def block(c, horizons):
    """Feature rows of every city at origin month c for the given horizons (no data after c is used)."""
    i = c - first
    parts = []
    for h in horizons:
        seasonal = []
        for k in (1, 2, 3):
            j = i + h - 12 * k
            seasonal.append(deviation[j] if 0 <= j <= i else np.full(n_cities, np.nan))
        parts.append(pd.DataFrame({
            "city": np.arange(n_cities), "calendar_month": (c + h) % 12, "horizon": h, "level": level[i],
            "growth": growth[i], "recent": recent[i], "season_1": seasonal[0], "season_2": seasonal[1],
            "season_3": seasonal[2], "season_mean": np.nanmean(seasonal, axis=0), "target_t": c + h,
        }))
    return pd.concat(parts, ignore_index=True)


examples = pd.concat([block(c, range(1, min(12, last - c) + 1)) for c in range(first + 24, last)], ignore_index=True)
examples["y"] = W[examples["target_t"] - first, examples["city"]] - examples["level"]
examples = examples.dropna(subset=["y"])
columns = ["city", "calendar_month", "horizon", "level", "growth", "recent", "season_1", "season_2", "season_3",
           "season_mean"]

future = block(last, range(1, int(test["t"].max()) - last + 1))
forecasts = []
for seed in range(3):
    model = lgb.LGBMRegressor(objective="l1", n_estimators=300, learning_rate=0.05, num_leaves=31, min_child_samples=40,
                              subsample=0.8, subsample_freq=1, colsample_bytree=0.8, random_state=seed,
                              n_jobs=1, verbose=-1)
    model.fit(examples[columns], examples["y"], categorical_feature=["city"])
    forecasts.append(model.predict(future[columns]))
future["sales"] = np.expm1(future["level"] + np.mean(forecasts, axis=0))
keys = zip(np.array(cities)[future["city"]], future["target_t"], strict=True)
lookup = dict(zip(keys, future["sales"], strict=True))
wanted = zip(test["city"], test["t"], strict=True)
prediction = np.array([lookup.get((city, t), np.nan) for city, t in wanted], dtype=float)
prediction = np.nan_to_num(prediction, nan=float(train["sales"].median()))
pd.DataFrame({"id": test["id"], "sales": np.clip(prediction, 0, None)}).to_csv("submission.csv", index=False)
