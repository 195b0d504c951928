"""Reference: each image blurred a little (the noise would swamp its gradients), then histograms of oriented
gradients (HOG, written in numpy) and its standardised pixels, for it and its mirror image; an RBF support vector
machine and a logistic regression on them, their probabilities averaged."""

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

train = pd.read_csv("input/train.csv")
test = pd.read_csv("input/test.csv")
images_train = np.load("input/train_images.npy").astype(np.float64)
images_test = np.load("input/test_images.npy").astype(np.float64)
y = train["face"].to_numpy()


def hog(images, cell=5, bins=9):
    """Unsigned gradient orientation histograms per cell, L2-Hys normalised over 2x2-cell blocks."""
    gy, gx = np.gradient(images, axis=(1, 2))
    magnitude = np.hypot(gx, gy)
    angle = np.mod(np.arctan2(gy, gx), np.pi) / np.pi * bins  # in [0, bins)
    low = np.floor(angle - 0.5).astype(int)  # vote split linearly between the two nearest bins
    weight_high = angle - 0.5 - low
    n, h, w = images.shape
    rows, cols = h // cell, w // cell
    hist = np.zeros((n, rows, cols, bins))
    for b in range(bins):
        vote = magnitude * ((low % bins == b) * (1 - weight_high) + ((low + 1) % bins == b) * weight_high)
        hist[:, :, :, b] = vote[:, :rows * cell, :cols * cell].reshape(n, rows, cell, cols, cell).sum(axis=(2, 4))
    blocks = []
    for i in range(rows - 1):
        for j in range(cols - 1):
            block = hist[:, i:i + 2, j:j + 2].reshape(n, -1)
            block = block / np.sqrt((block ** 2).sum(axis=1, keepdims=True) + 1e-6)
            block = np.minimum(block, 0.2)
            blocks.append(block / np.sqrt((block ** 2).sum(axis=1, keepdims=True) + 1e-6))
    return np.hstack(blocks)


def smooth(images, sigma=1.0):
    """A Gaussian blur of each image (edges repeated): the noise would otherwise swamp the gradients."""
    radius = 3
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    taps /= taps.sum()
    padded = np.pad(images, ((0, 0), (radius, radius), (radius, radius)), mode="edge")
    rows = sum(t * padded[:, k:k + images.shape[1], :] for k, t in enumerate(taps))
    return sum(t * rows[:, :, k:k + images.shape[2]] for k, t in enumerate(taps))


def pixels(images):
    flat = images.reshape(len(images), -1)
    return (flat - flat.mean(axis=1, keepdims=True)) / (flat.std(axis=1, keepdims=True) + 1e-6)


def features(images):
    soft = smooth(images)
    return np.hstack([hog(soft, cell=5), hog(soft, cell=4), pixels(soft)])


# Mirror images are faces (or non-faces) too: they double the training set.
X_train = np.vstack([features(images_train), features(images_train[:, :, ::-1])])
y_train = np.r_[y, y]
X_test = features(images_test)
X_test_mirror = features(images_test[:, :, ::-1])

svm = make_pipeline(StandardScaler(), SVC(C=3.0, gamma="scale")).fit(X_train, y_train)
logreg = make_pipeline(StandardScaler(), LogisticRegression(C=0.05, max_iter=5000)).fit(X_train, y_train)


def probability(X):
    p_svm = 1 / (1 + np.exp(-2 * svm.decision_function(X)))
    return (p_svm + logreg.predict_proba(X)[:, 1]) / 2


face = (probability(X_test) + probability(X_test_mirror)) / 2
pd.DataFrame({"id": test["id"], "face": np.clip(face, 0, 1)}).to_csv("submission.csv", index=False)
