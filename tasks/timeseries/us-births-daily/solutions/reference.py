"""Reference: small LightGBM models (7 leaves, 250 trees) on log births over the whole history, from the calendar
(weekday, day of year, month, day of month, a trend), US federal holidays and the days around them, and the
Christmas and New Year days; L1 and L2 objectives over two seeds averaged."""

import lightgbm as lgb
import numpy as np
import pandas as pd
from pandas.tseries.holiday import USFederalHolidayCalendar

train = pd.read_csv("input/train.csv", parse_dates=["date"])
test = pd.read_csv("input/test.csv", parse_dates=["date"])
holidays = USFederalHolidayCalendar().holidays(train["date"].min() - pd.Timedelta(days=7),
                                               test["date"].max() + pd.Timedelta(days=7))


def features(frame):
    date = frame["date"]
    out = pd.DataFrame({
        "weekday": date.dt.day_of_week,
        "day_of_year": date.dt.day_of_year,
        "month": date.dt.month,
        "day": date.dt.day,
        "trend": (date - pd.Timestamp("1969-01-01")).dt.days / 365.25,
        "holiday": date.isin(holidays).astype(int),
        "after_holiday": (date - pd.Timedelta(days=1)).isin(holidays).astype(int),
        "before_holiday": (date + pd.Timedelta(days=1)).isin(holidays).astype(int),
        "year_end": (((date.dt.month == 12) & (date.dt.day >= 22)) |
                     ((date.dt.month == 1) & (date.dt.day <= 2))).astype(int) * date.dt.day,
    })
    # Thanksgiving's Friday and the Monday after a Sunday-dated holiday are quiet too
    out["holiday_week"] = date.apply(lambda d: int(any(abs((d - h).days) <= 3 for h in holidays[
        (holidays >= d - pd.Timedelta(days=3)) & (holidays <= d + pd.Timedelta(days=3))])))
    return out


X_train, X_test = features(train), features(test)
y = np.log(train["births"].to_numpy(dtype=float))
forecasts = []
for seed in range(2):
    for objective in ["l1", "l2"]:
        model = lgb.LGBMRegressor(objective=objective, n_estimators=250, learning_rate=0.04, num_leaves=7,
                                  min_child_samples=10, subsample=0.8, subsample_freq=1, colsample_bytree=0.8,
                                  random_state=seed, n_jobs=1, verbose=-1)
        model.fit(X_train, y)
        forecasts.append(model.predict(X_test))
prediction = np.exp(np.mean(forecasts, axis=0))
pd.DataFrame({"id": test["id"], "births": prediction}).to_csv("submission.csv", index=False)
