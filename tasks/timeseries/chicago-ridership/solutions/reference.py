"""Reference: LightGBM on calendar features (weekday, day of year, trend, US federal holidays and their
neighbours, the Christmas week, the sports schedule), L1 and L2 objectives over three seeds averaged."""

import lightgbm as lgb
import numpy as np
import pandas as pd
from pandas.tseries.holiday import USFederalHolidayCalendar

train = pd.read_csv("input/train.csv", parse_dates=["date"])
test = pd.read_csv("input/test.csv", parse_dates=["date"])
holidays = USFederalHolidayCalendar().holidays(train["date"].min() - pd.Timedelta(days=7),
                                               test["date"].max() + pd.Timedelta(days=7))
games = [c for c in test.columns if c.endswith("_Home") or c.endswith("_Away")]


def features(frame):
    date = frame["date"]
    out = pd.DataFrame({
        "weekday": date.dt.day_of_week,
        "day_of_year": date.dt.day_of_year,
        "month": date.dt.month,
        "day": date.dt.day,
        "year": date.dt.year,
        "trend": (date - pd.Timestamp("2000-01-01")).dt.days,
        "holiday": date.isin(holidays).astype(int),
        "after_holiday": (date - pd.Timedelta(days=1)).isin(holidays).astype(int),
        "before_holiday": (date + pd.Timedelta(days=1)).isin(holidays).astype(int),
        "christmas_week": (((date.dt.month == 12) & (date.dt.day >= 20)) |
                           ((date.dt.month == 1) & (date.dt.day <= 3))).astype(int),
    })
    for column in games:
        out[column] = frame[column].to_numpy()
    return out


X_train, X_test = features(train), features(test)
y = train["ridership"].to_numpy()
forecasts = []
for seed in range(3):
    for objective in ["l1", "l2"]:
        model = lgb.LGBMRegressor(
            objective=objective, n_estimators=800, learning_rate=0.03, num_leaves=31, min_child_samples=10,
            subsample=0.8, subsample_freq=1, colsample_bytree=0.8, random_state=seed, n_jobs=1, verbose=-1,
        )
        model.fit(X_train, y)
        forecasts.append(model.predict(X_test))
prediction = np.clip(np.mean(forecasts, axis=0), 0, None)
pd.DataFrame({"id": test["id"], "ridership": prediction}).to_csv("submission.csv", index=False)
