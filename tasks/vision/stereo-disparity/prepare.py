"""Stereo disparity: a window of the left view of a rectified stereo pair and the same window of the right view;
how far has the pixel at the query point shifted between the two views?

Both views of scikit-image's copy of the Middlebury 2014 "Motorcycle" pair and its ground-truth disparity map are
shrunk to a quarter of their size (4x4 block means; the disparity is the median of its block's known values,
divided by 4). Train windows are centred in the top 60% of the rows and test windows in the bottom 40% (with a
margin), so no test window shares a pixel with a train window.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import skimage.color
import skimage.data
import skimage.io

from dojo_lite.recipes import (
    check_variant,
    constant_submission,
    shuffled_with_ids,
    split_for_variant,
    write_image_task_files,
)

SEED = 20261207
FACTOR = 4  # the views and the disparity map are shrunk by this factor
HALF = 5  # the windows are 2 * HALF + 1 = 11 rows high
SEARCH = 16  # the windows reach this many columns left of the query patch: disparities 0..16 fit
WIDTH = 2 * HALF + 1 + SEARCH  # 27 columns
TRAIN_COUNT = 3000
TEST_COUNT = 1000
SPLIT = 0.6  # train windows lie above this fraction of the height, test windows below it
NOISE = 3.0  # standard deviation of the Gaussian noise added to every window (0..255 scale)


def _view(name: str) -> np.ndarray:
    image = skimage.io.imread(Path(skimage.data.__file__).parent / name)[:, :, :3]
    gray = skimage.color.rgb2gray(image) * 255.0
    height, width = (s // FACTOR * FACTOR for s in gray.shape)
    return gray[:height, :width].reshape(height // FACTOR, FACTOR, width // FACTOR, FACTOR).mean(axis=(1, 3))


def _disparity() -> np.ndarray:
    with np.load(Path(skimage.data.__file__).parent / "motorcycle_disp.npz") as archive:
        full = archive["arr_0"].astype(np.float64)
    height, width = (s // FACTOR * FACTOR for s in full.shape)
    full = np.where(np.isfinite(full), full, np.nan)[:height, :width]
    blocks = full.reshape(height // FACTOR, FACTOR, width // FACTOR, FACTOR).transpose(0, 2, 1, 3)
    blocks = blocks.reshape(height // FACTOR, width // FACTOR, FACTOR * FACTOR)
    known = np.isfinite(blocks).sum(axis=2)
    with warnings.catch_warnings():  # blocks without a known value: left unknown
        warnings.simplefilter("ignore", RuntimeWarning)
        median = np.nanmedian(blocks, axis=2) / FACTOR
    return np.where(known >= FACTOR * FACTOR * 3 // 4, np.round(median, 3), np.nan)


def _windows(left: np.ndarray, right: np.ndarray, disparity: np.ndarray, count: int, y_low: int, y_high: int,
             rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``count`` window pairs whose rows lie within [y_low, y_high), at random query points with a known
    disparity: (count, 2, 11, 27) uint8 with Gaussian noise, and the disparities."""
    ys, xs = np.mgrid[y_low + HALF:y_high - HALF, SEARCH + HALF:left.shape[1] - HALF]
    ys, xs = ys.ravel(), xs.ravel()
    valid = np.isfinite(disparity[ys, xs]) & (disparity[ys, xs] <= SEARCH)
    pick = rng.choice(np.flatnonzero(valid), count, replace=False)
    ys, xs = ys[pick], xs[pick]
    pairs = np.stack([np.stack([view[y - HALF:y + HALF + 1, x - HALF - SEARCH:x + HALF + 1] for view in (left, right)])
                      for y, x in zip(ys, xs, strict=True)])
    noisy = pairs + rng.normal(0, NOISE, pairs.shape)
    return np.clip(np.rint(noisy), 0, 255).astype(np.uint8), disparity[ys, xs]


def prepare(public: Path, private: Path, variant: str) -> None:
    check_variant(variant)
    rng = np.random.default_rng(SEED)
    left, right = _view("motorcycle_left.png"), _view("motorcycle_right.png")
    disparity = _disparity()
    height = left.shape[0]
    cut = int(SPLIT * height)
    train_pairs, train_disparity = _windows(left, right, disparity, TRAIN_COUNT, 0, cut, rng)
    test_pairs, test_disparity = _windows(left, right, disparity, TEST_COUNT, cut + 2, height, rng)
    stack = np.concatenate([train_pairs, test_pairs])
    frame = pd.DataFrame({"row": np.arange(len(stack)),
                          "disparity": np.concatenate([train_disparity, test_disparity]),
                          "part": ["train"] * TRAIN_COUNT + ["test"] * TEST_COUNT})
    frame = shuffled_with_ids(frame, "id", SEED + 1, first_id=0)
    train = frame[frame["part"] == "train"].drop(columns="part")
    test = frame[frame["part"] == "test"].drop(columns="part")
    if variant == "micro":  # drawn from the full train part only: never a full test answer
        train, test = split_for_variant(train, "micro", test_fraction=0.25, seed=SEED + 2,
                                        micro_train=300, micro_test=100, micro_from_train=True)
    median = float(np.median(train["disparity"]))
    write_image_task_files(public, private, stack, train, test, row_column="row", id_column="id",
                           answer_column="disparity",
                           sample_submission=constant_submission(test, "id", {"disparity": median}))
