"""Handwritten digits: sklearn's bundled 8x8 digit images (UCI optdigits test part), 10 classes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import load_digits

from dojo_lite.recipes import random_split, sample, write_task_files

SEED = 20240601


def _write(public: Path, private: Path, images: np.ndarray, train: pd.DataFrame, test: pd.DataFrame) -> None:
    public.mkdir(parents=True, exist_ok=True)
    private.mkdir(parents=True, exist_ok=True)
    np.save(public / "train_images.npy", images[train["row"].to_numpy()])
    np.save(public / "test_images.npy", images[test["row"].to_numpy()])
    train = train.drop(columns=["row"])
    test = test.drop(columns=["row"])
    sample_submission = pd.DataFrame({"id": test["id"], "label": 0})
    write_task_files(public, private, train, test, id_column="id", answer_column="label",
                     sample_submission=sample_submission)


def prepare(public: Path, private: Path, variant: str) -> None:
    digits = load_digits()
    images = np.rint(digits.images).astype(np.uint8)  # (1797, 8, 8), ink levels 0..16
    # The source order is partly cyclic in the label (0, 1, ..., 9, 0, 1, ...): shuffle before ids are given.
    order = np.random.default_rng(SEED).permutation(len(images))
    images = images[order]
    frame = pd.DataFrame({"row": np.arange(len(images)), "id": np.arange(len(images)),
                          "label": digits.target[order].astype(int)})
    train, test = random_split(frame, 0.25, SEED + 1, stratify="label")
    if variant == "micro":
        # Drawn from the full train part only, so the micro data never shows a full test answer.
        small = sample(train, 400, SEED + 2, stratify="label")
        train, test = random_split(small, 0.25, SEED + 3, stratify="label")
    elif variant != "full":
        raise ValueError(f"unknown variant {variant!r}")
    _write(public, private, images, train, test)
