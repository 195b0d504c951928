"""Reference: LightGBM on the calendar (hour, weekday, work day, the time of year as a position on a circle), the
temperature and its recent path (lags, 24-hour mean, the day's extremes), over the whole history; three seeds
averaged."""

import lightgbm as lgb
import numpy as np
import pandas as pd

train = pd.read_csv("input/train.csv", parse_dates=["timestamp"])
test = pd.read_csv("input/test.csv", parse_dates=["timestamp"])
both = pd.concat([train, test], ignore_index=True)  # the temperature is given for every hour, test included


def features(frame):
    stamp = frame["timestamp"]
    temperature = frame["temperature"]
    day = stamp.dt.floor("D")
    return pd.DataFrame({
        "hour": stamp.dt.hour,
        "weekday": stamp.dt.day_of_week,
        "workday": frame["workday"],
        "season_cos": np.cos(2 * np.pi * stamp.dt.day_of_year / 365.25),  # 31 December sits next to 1 January
        "season_sin": np.sin(2 * np.pi * stamp.dt.day_of_year / 365.25),
        "temperature": temperature,
        "temperature_lag1": temperature.shift(1).bfill(),
        "temperature_lag3": temperature.shift(3).bfill(),
        "temperature_24h": temperature.rolling(24, min_periods=1).mean(),
        "day_max": temperature.groupby(day).transform("max"),
        "day_min": temperature.groupby(day).transform("min"),
    })


X = features(both)
X_train, X_test = X.iloc[:len(train)], X.iloc[len(train):]
forecasts = []
for seed in range(3):
    model = lgb.LGBMRegressor(n_estimators=700, learning_rate=0.03, num_leaves=31, min_child_samples=20,
                              subsample=0.8, subsample_freq=1, colsample_bytree=0.8, random_state=seed,
                              n_jobs=1, verbose=-1)
    model.fit(X_train, train["demand"])
    forecasts.append(model.predict(X_test))
prediction = np.clip(np.mean(forecasts, axis=0), 0, None)
pd.DataFrame({"id": test["id"], "demand": prediction}).to_csv("submission.csv", index=False)
