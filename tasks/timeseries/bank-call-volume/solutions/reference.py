"""Reference: LightGBM on log calls from the half-hour of the day, the weekday, the day of the month, a trend, and
the calendar gaps (how many working days were skipped just before the day: holidays and days missing from the
record bring a backlog of calls; the first working day of a month), over the whole history; L1 and L2 objectives
over two seeds averaged."""

import lightgbm as lgb
import numpy as np
import pandas as pd

train = pd.read_csv("input/train.csv", parse_dates=["timestamp"])
test = pd.read_csv("input/test.csv", parse_dates=["timestamp"])
origin = train["timestamp"].max()

# The days of the record, train and test together (test.csv shows which days are to be forecast)
days = pd.Series(sorted(pd.concat([train["timestamp"], test["timestamp"]]).dt.normalize().unique()))
previous = days.shift(1).fillna(days[0] - pd.Timedelta(days=1))
skipped = [max(int(np.busday_count(p.date(), d.date())) - 1, 0) for p, d in zip(previous, days, strict=True)]
skipped_before = dict(zip(days, skipped, strict=True))
first_of_month = dict(zip(days, (days.dt.month != previous.dt.month).astype(int), strict=True))


def features(frame):
    stamp = frame["timestamp"]
    day = stamp.dt.normalize()
    return pd.DataFrame({
        "period": stamp.dt.hour * 2 + stamp.dt.minute // 30,
        "weekday": stamp.dt.day_of_week,
        "day_of_month": stamp.dt.day,
        "skipped_before": day.map(skipped_before),
        "first_of_month": day.map(first_of_month),
        "trend": (stamp - origin).dt.days / 7.0,
    })


forecasts = []
for seed in range(2):
    for objective in ("l1", "l2"):
        model = lgb.LGBMRegressor(objective=objective, n_estimators=500, learning_rate=0.03, num_leaves=15,
                                  min_child_samples=10, subsample=0.8, subsample_freq=1, random_state=seed,
                                  n_jobs=1, verbose=-1)
        model.fit(features(train), np.log1p(train["calls"]))
        forecasts.append(model.predict(features(test)))
prediction = np.expm1(np.mean(forecasts, axis=0))
pd.DataFrame({"id": test["id"], "calls": np.clip(prediction, 0, None)}).to_csv("submission.csv", index=False)
