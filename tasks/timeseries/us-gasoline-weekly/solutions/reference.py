"""Reference: harmonic regression. The yearly cycle as Fourier terms of the date (period 365.25 days, 12 harmonics)
plus a linear trend, fitted by ridge regression on the last five years of history, then averaged with the same
model fitted on the last three years."""

import numpy as np
import pandas as pd
from sklearn.linear_model import Ridge

train = pd.read_csv("input/train.csv", parse_dates=["week"])
test = pd.read_csv("input/test.csv", parse_dates=["week"])
origin = train["week"].max()


def features(frame, harmonics=12):
    days = (frame["week"] - origin).dt.days.to_numpy(dtype=float)
    phase = 2 * np.pi * days / 365.25
    columns = {"trend": days / 365.25}
    for k in range(1, harmonics + 1):
        columns[f"cos{k}"] = np.cos(k * phase)
        columns[f"sin{k}"] = np.sin(k * phase)
    return pd.DataFrame(columns)


forecasts = []
for years in (5, 3):
    history = train[train["week"] > origin - pd.Timedelta(days=int(365.25 * years))]
    model = Ridge(alpha=0.1).fit(features(history), history["barrels"])
    forecasts.append(model.predict(features(test)))
prediction = np.mean(forecasts, axis=0)
pd.DataFrame({"id": test["id"], "barrels": prediction}).to_csv("submission.csv", index=False)
