"""Face or not: scikit-image's LFW subset (100 face crops, 100 non-face crops, 25x25 grayscale)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from skimage.data import lfw_subset

from dojo_lite.recipes import random_split, sample, write_task_files

SEED = 20240602


def _write(public: Path, private: Path, images: np.ndarray, train: pd.DataFrame, test: pd.DataFrame) -> None:
    public.mkdir(parents=True, exist_ok=True)
    private.mkdir(parents=True, exist_ok=True)
    np.save(public / "train_images.npy", images[train["row"].to_numpy()])
    np.save(public / "test_images.npy", images[test["row"].to_numpy()])
    train = train.drop(columns=["row"])
    test = test.drop(columns=["row"])
    sample_submission = pd.DataFrame({"id": test["id"], "face": 0.5})
    write_task_files(public, private, train, test, id_column="id", answer_column="face",
                     sample_submission=sample_submission)


def prepare(public: Path, private: Path, variant: str) -> None:
    images = lfw_subset().astype(np.float32)  # (200, 25, 25) in [0, 1]; the first 100 are faces
    labels = np.r_[np.ones(100, dtype=int), np.zeros(100, dtype=int)]
    # Faces come first in the source: shuffle before ids are given.
    order = np.random.default_rng(SEED).permutation(len(images))
    images = images[order]
    frame = pd.DataFrame({"row": np.arange(len(images)), "id": np.arange(len(images)), "face": labels[order]})
    train, test = random_split(frame, 0.3, SEED + 1, stratify="face")  # 140 / 60
    if variant == "micro":
        # Drawn from the full train part only, so the micro data never shows a full test answer.
        small = sample(train, 120, SEED + 2, stratify="face")
        train, test = random_split(small, 1 / 3, SEED + 3, stratify="face")  # 80 / 40
    elif variant != "full":
        raise ValueError(f"unknown variant {variant!r}")
    _write(public, private, images, train, test)
