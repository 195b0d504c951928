"""Digit sums: two of scikit-learn's bundled 8x8 handwritten digits side by side; what is their sum?

The 1797 digit images are first split into a train pool and a test pool (stratified on the digit), then pairs
are drawn within each pool, so no test image shares a digit image with a train image. Only the sum is given,
never the two digits.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import load_digits

from dojo_lite.recipes import check_variant, constant_submission, random_split, sample, write_task_files

SEED = 20261210
TRAIN_PAIRS = 1500
TEST_PAIRS = 600
MICRO_TRAIN, MICRO_TEST = 300, 100


def _pairs(images: np.ndarray, digits: np.ndarray, pool: np.ndarray, count: int,
           rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    left = rng.choice(pool, count)
    right = rng.choice(pool, count)
    return np.concatenate([images[left], images[right]], axis=2), digits[left] + digits[right]


def prepare(public: Path, private: Path, variant: str) -> None:
    check_variant(variant)
    source = load_digits()
    images = np.rint(source.images).astype(np.uint8)  # (1797, 8, 8), ink levels 0..16
    digits = source.target.astype(int)
    pool = pd.DataFrame({"row": np.arange(len(images)), "digit": digits})
    train_pool, test_pool = random_split(pool, 0.25, SEED, "digit")
    if variant == "micro":  # the micro data is drawn from the full train pool only: never a full test image
        small = sample(train_pool, 400, SEED + 1, "digit")
        train_pool, test_pool = random_split(small, 0.25, SEED + 2, "digit")
    rng = np.random.default_rng(SEED + 3)
    n_train, n_test = (MICRO_TRAIN, MICRO_TEST) if variant == "micro" else (TRAIN_PAIRS, TEST_PAIRS)
    train_images, train_sums = _pairs(images, digits, train_pool["row"].to_numpy(), n_train, rng)
    test_images, test_sums = _pairs(images, digits, test_pool["row"].to_numpy(), n_test, rng)
    # ids are numbered over train and test together in a random order, so they carry no information
    ids = rng.permutation(n_train + n_test)
    train = pd.DataFrame({"id": ids[:n_train], "sum": train_sums})
    test = pd.DataFrame({"id": ids[n_train:], "sum": test_sums})
    public.mkdir(parents=True, exist_ok=True)
    private.mkdir(parents=True, exist_ok=True)
    np.save(public / "train_images.npy", train_images)
    np.save(public / "test_images.npy", test_images)
    write_task_files(public, private, train, test, id_column="id", answer_column="sum",
                     sample_submission=constant_submission(test, "id", {"sum": int(np.median(train_sums))}))
