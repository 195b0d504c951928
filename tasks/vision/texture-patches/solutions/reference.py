"""Reference: texture descriptors (grey-level statistics, gradient and orientation statistics, local binary
pattern histograms at three radii, the Fourier power spectrum in rings and wedges) and an RBF support vector
machine on the standardised descriptors."""

import numpy as np
import pandas as pd
from skimage.feature import local_binary_pattern
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

train = pd.read_csv("input/train.csv")
test = pd.read_csv("input/test.csv")
images_train = np.load("input/train_images.npy").astype(np.float64) / 255.0
images_test = np.load("input/test_images.npy").astype(np.float64) / 255.0


def grey_levels(images):
    flat = images.reshape(len(images), -1)
    return np.column_stack([flat.mean(axis=1), flat.std(axis=1), *np.percentile(flat, [5, 25, 50, 75, 95], axis=1)])


def gradients(images):
    """Mean and spread of absolute differences at lags 1, 2, 4 and a histogram of edge orientations."""
    z = (images - images.mean(axis=(1, 2), keepdims=True)) / (images.std(axis=(1, 2), keepdims=True) + 1e-6)
    out = []
    for lag in (1, 2, 4):
        dx = np.abs(z[:, :, lag:] - z[:, :, :-lag])
        dy = np.abs(z[:, lag:, :] - z[:, :-lag, :])
        out += [dx.mean(axis=(1, 2)), dy.mean(axis=(1, 2)), dx.std(axis=(1, 2)), dy.std(axis=(1, 2))]
    gy, gx = np.gradient(z, axis=(1, 2))
    bins = np.minimum(((np.arctan2(gy, gx) % np.pi) / np.pi * 8).astype(int), 7)
    magnitude = np.hypot(gx, gy)
    hist = np.stack([(magnitude * (bins == b)).sum(axis=(1, 2)) for b in range(8)], axis=1)
    return np.column_stack([*out, hist / (hist.sum(axis=1, keepdims=True) + 1e-9)])


def binary_patterns(images):
    rows = []
    for image in images:
        row = []
        for points, radius in ((8, 1), (8, 2), (16, 3)):
            codes = local_binary_pattern(image, points, radius, method="uniform")
            row.append(np.bincount(codes.astype(int).ravel(), minlength=points + 2) / codes.size)
        rows.append(np.concatenate(row))
    return np.array(rows)


def spectrum(images):
    z = images - images.mean(axis=(1, 2), keepdims=True)
    power = np.abs(np.fft.fftshift(np.fft.fft2(z), axes=(1, 2))) ** 2
    n = images.shape[1]
    yy, xx = np.mgrid[:n, :n] - n // 2
    radius = np.minimum(np.hypot(yy, xx).astype(int), n // 2)
    angle = ((np.arctan2(yy, xx) % np.pi) / np.pi * 4).astype(int) % 4
    rings = np.stack([power[:, radius == r].sum(axis=1) for r in range(1, n // 2 + 1)], axis=1)
    wedges = np.stack([power[:, (angle == a) & (radius > 1)].sum(axis=1) for a in range(4)], axis=1)
    total = rings.sum(axis=1, keepdims=True) + 1e-9
    return np.column_stack([np.log(rings / total + 1e-9), wedges / total, np.log(total)])


def features(images):
    return np.hstack([grey_levels(images), gradients(images), binary_patterns(images), spectrum(images)])


model = make_pipeline(StandardScaler(), SVC(C=10.0))
model.fit(features(images_train), train["texture"])
prediction = model.predict(features(images_test))
pd.DataFrame({"id": test["id"], "texture": prediction}).to_csv("submission.csv", index=False)
