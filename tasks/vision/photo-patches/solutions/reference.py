"""Reference: colour and texture descriptors (per-channel statistics, a joint colour histogram, hue and saturation
statistics, a coarse 4x4 colour thumbnail, edge strength and orientation) and LightGBM."""

import lightgbm as lgb
import numpy as np
import pandas as pd
from skimage.color import rgb2gray, rgb2hsv

train = pd.read_csv("input/train.csv")
test = pd.read_csv("input/test.csv")
images_train = np.load("input/train_images.npy").astype(np.float64) / 255.0
images_test = np.load("input/test_images.npy").astype(np.float64) / 255.0


def features(images):
    n = len(images)
    flat = images.reshape(n, -1, 3)
    stats = [flat.mean(axis=1), flat.std(axis=1), *np.percentile(flat, [10, 50, 90], axis=1)]
    bins = np.minimum((flat * 4).astype(int), 3)
    joint = bins[:, :, 0] * 16 + bins[:, :, 1] * 4 + bins[:, :, 2]
    histogram = np.stack([np.bincount(row, minlength=64) for row in joint]) / joint.shape[1]
    hsv = rgb2hsv(images).reshape(n, -1, 3)
    hue = hsv[:, :, 0] * 2 * np.pi
    colour = np.column_stack([np.cos(hue).mean(axis=1), np.sin(hue).mean(axis=1), hsv[:, :, 1].mean(axis=1),
                              hsv[:, :, 1].std(axis=1), hsv[:, :, 2].std(axis=1)])
    thumbnail = images.reshape(n, 4, 4, 4, 4, 3).mean(axis=(2, 4)).reshape(n, -1)
    grey = rgb2gray(images)
    gy, gx = np.gradient(grey, axis=(1, 2))
    magnitude = np.hypot(gx, gy)
    orientation = np.minimum(((np.arctan2(gy, gx) % np.pi) / np.pi * 6).astype(int), 5)
    edges = np.stack([(magnitude * (orientation == b)).mean(axis=(1, 2)) for b in range(6)], axis=1)
    return np.hstack([*stats, histogram, colour, thumbnail, edges, magnitude.mean(axis=(1, 2))[:, None]])


model = lgb.LGBMClassifier(n_estimators=400, learning_rate=0.03, num_leaves=15, colsample_bytree=0.5,
                           subsample=0.8, subsample_freq=1, n_jobs=1, verbose=-1, random_state=0)
model.fit(features(images_train), train["photo"])
prediction = model.predict(features(images_test))
pd.DataFrame({"id": test["id"], "photo": prediction}).to_csv("submission.csv", index=False)
