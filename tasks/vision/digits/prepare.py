"""Handwritten digits: sklearn's bundled 8x8 digit images (UCI optdigits test part), 10 classes, each image
shifted by up to a pixel, its ink scaled, sometimes partly covered, and noise added (version 2: the clean images
were too easy)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import load_digits

from dojo_lite.recipes import constant_submission, shuffled_with_ids, split_for_variant, write_image_task_files

SEED = 20240601


def _harder(images: np.ndarray) -> np.ndarray:
    """Each image moved by up to one pixel each way (blank pixels move in), its ink scaled by 0.6 to 1.0, in
    three images of ten a random 2x2 block painted with a random ink level, then Gaussian noise (standard
    deviation 1.5 ink levels) added; the result is rounded and clipped to 0..16."""
    rng = np.random.default_rng(SEED + 7)
    out = np.empty(images.shape, dtype=np.float64)
    for i, image in enumerate(images):
        dy, dx = rng.integers(-1, 2, size=2)
        moved = np.pad(image, 1)[1 + dy:1 + dy + image.shape[0], 1 + dx:1 + dx + image.shape[1]]
        moved = moved * rng.uniform(0.6, 1.0)
        if rng.random() < 0.3:
            r, c = rng.integers(0, image.shape[0] - 1, size=2)
            moved[r:r + 2, c:c + 2] = rng.uniform(0, 16)
        out[i] = moved + rng.normal(0, 1.5, image.shape)
    return np.rint(np.clip(out, 0, 16)).astype(np.uint8)


def prepare(public: Path, private: Path, variant: str) -> None:
    digits = load_digits()
    images = _harder(digits.images.astype(np.float64))  # (1797, 8, 8), ink levels 0..16
    # The source order is partly cyclic in the label (0, 1, ..., 9, 0, 1, ...): shuffle before ids are given.
    # "row" is the image's place in the source, "id" its place in the shuffled order.
    frame = pd.DataFrame({"row": np.arange(len(images)), "label": digits.target.astype(int)})
    frame = shuffled_with_ids(frame, "id", SEED, first_id=0)
    # The micro data is drawn from the full train part only, so it never shows a full test answer.
    train, test = split_for_variant(frame, variant, test_fraction=0.25, seed=SEED + 1, stratify="label",
                                    micro_train=300, micro_test=100, micro_from_train=True)
    write_image_task_files(public, private, images, train, test, row_column="row", id_column="id",
                           answer_column="label", sample_submission=constant_submission(test, "id", {"label": 0}))
