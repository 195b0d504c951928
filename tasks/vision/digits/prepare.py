"""Handwritten digits: sklearn's bundled 8x8 digit images (UCI optdigits test part), 10 classes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import load_digits

from dojo_lite.recipes import constant_submission, shuffled_with_ids, split_for_variant, write_image_task_files

SEED = 20240601


def prepare(public: Path, private: Path, variant: str) -> None:
    digits = load_digits()
    images = np.rint(digits.images).astype(np.uint8)  # (1797, 8, 8), ink levels 0..16
    # The source order is partly cyclic in the label (0, 1, ..., 9, 0, 1, ...): shuffle before ids are given.
    # "row" is the image's place in the source, "id" its place in the shuffled order.
    frame = pd.DataFrame({"row": np.arange(len(images)), "label": digits.target.astype(int)})
    frame = shuffled_with_ids(frame, "id", SEED, first_id=0)
    # The micro data is drawn from the full train part only, so it never shows a full test answer.
    train, test = split_for_variant(frame, variant, test_fraction=0.25, seed=SEED + 1, stratify="label",
                                    micro_train=300, micro_test=100, micro_from_train=True)
    write_image_task_files(public, private, images, train, test, row_column="row", id_column="id",
                           answer_column="label", sample_submission=constant_submission(test, "id", {"label": 0}))
