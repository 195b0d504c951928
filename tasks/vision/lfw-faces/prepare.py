"""Face or not: scikit-image's LFW subset (100 face crops, 100 non-face crops, 25x25 grayscale), each image
shifted a little, its contrast changed and noise added (version 2: the clean images were too easy)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from skimage.data import lfw_subset

from dojo_lite.recipes import constant_submission, shuffled_with_ids, split_for_variant, write_image_task_files

SEED = 20240602


def _harder(images: np.ndarray) -> np.ndarray:
    """Each image moved by up to 3 pixels each way (edges repeated), its contrast scaled by 0.5 to 1.2 around
    its own mean, then Gaussian noise (standard deviation 0.12) added and the result clipped to [0, 1]."""
    rng = np.random.default_rng(SEED + 7)
    out = np.empty_like(images)
    for i, image in enumerate(images):
        dy, dx = rng.integers(-3, 4, size=2)
        padded = np.pad(image, 3, mode="edge")
        moved = padded[3 + dy:3 + dy + image.shape[0], 3 + dx:3 + dx + image.shape[1]]
        mean = moved.mean()
        out[i] = mean + rng.uniform(0.5, 1.2) * (moved - mean) + rng.normal(0, 0.12, image.shape)
    return np.clip(out, 0, 1).astype(np.float32)


def prepare(public: Path, private: Path, variant: str) -> None:
    images = _harder(lfw_subset().astype(np.float64))  # (200, 25, 25) in [0, 1]; the first 100 are faces
    labels = np.r_[np.ones(100, dtype=int), np.zeros(100, dtype=int)]
    # Faces come first in the source: shuffle before ids are given.
    # "row" is the image's place in the source, "id" its place in the shuffled order.
    frame = shuffled_with_ids(pd.DataFrame({"row": np.arange(len(images)), "face": labels}), "id", SEED, first_id=0)
    # 140 / 60; the micro data (80 / 40) is drawn from the full train part only, so it never shows a full
    # test answer.
    train, test = split_for_variant(frame, variant, test_fraction=0.3, seed=SEED + 1, stratify="face",
                                    micro_train=80, micro_test=40, micro_from_train=True)
    write_image_task_files(public, private, images, train, test, row_column="row", id_column="id",
                           answer_column="face", sample_submission=constant_submission(test, "id", {"face": 0.5}))
