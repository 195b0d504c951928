"""Reference: robust noise statistics (median absolute values of the finest Haar wavelet details, of a Laplacian
and of neighbour differences, their quantiles, the share of clipped pixels, the patch's spread and edge density)
and LightGBM on the log of the noise level."""

import lightgbm as lgb
import numpy as np
import pandas as pd

train = pd.read_csv("input/train.csv")
test = pd.read_csv("input/test.csv")


def features(images):
    x = images.astype(np.float64)
    n = len(x)
    diagonal = (x[:, 0::2, 0::2] - x[:, 0::2, 1::2] - x[:, 1::2, 0::2] + x[:, 1::2, 1::2]) / 2  # Haar HH
    laplacian = (4 * x[:, 1:-1, 1:-1] - x[:, :-2, 1:-1] - x[:, 2:, 1:-1] - x[:, 1:-1, :-2] - x[:, 1:-1, 2:])
    dx, dy = np.diff(x, axis=2), np.diff(x, axis=1)
    columns = []
    for detail in (diagonal, laplacian, dx, dy):
        magnitude = np.abs(detail.reshape(n, -1))
        columns += [np.log1p(np.percentile(magnitude, q, axis=1)) for q in (10, 25, 50, 75, 90)]
        columns.append(np.log1p(magnitude.mean(axis=1)))
    clipped = ((x <= 0) | (x >= 255)).mean(axis=(1, 2))
    return np.column_stack([*columns, clipped, np.log1p(x.std(axis=(1, 2))), x.mean(axis=(1, 2))])


model = lgb.LGBMRegressor(n_estimators=600, learning_rate=0.03, num_leaves=15, min_child_samples=10,
                          subsample=0.8, subsample_freq=1, colsample_bytree=0.7, n_jobs=1, verbose=-1,
                          random_state=0)
model.fit(features(np.load("input/train_images.npy")), np.log(train["sigma"]))
prediction = np.exp(model.predict(features(np.load("input/test_images.npy"))))
pd.DataFrame({"id": test["id"], "sigma": prediction}).to_csv("submission.csv", index=False)
