"""Which way is up? scikit-learn's bundled 8x8 handwritten digits, each turned by 0, 90, 180 or 270 degrees;
where is the digit's top now (up, left, down, right)?

Every source image is used once (one random turn), so no test image is a turned copy of a train image.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import load_digits

from dojo_lite.recipes import constant_submission, shuffled_with_ids, split_for_variant, write_image_task_files

SEED = 20261209
ANGLES = [0, 90, 180, 270]
TOPS = ["up", "left", "down", "right"]  # where the digit's top ends up after a turn by ANGLES (counter-clockwise)


def prepare(public: Path, private: Path, variant: str) -> None:
    rng = np.random.default_rng(SEED)
    upright = np.rint(load_digits().images).astype(np.uint8)  # (1797, 8, 8), ink levels 0..16
    quarters = rng.integers(0, 4, len(upright))
    # np.rot90 turns counter-clockwise: a digit turned by 90 degrees has its top on the left side
    images = np.stack([np.rot90(image, k) for image, k in zip(upright, quarters, strict=True)])
    # the digit itself is not given (only the turn is asked), and ids are given after a shuffle
    frame = pd.DataFrame({"row": np.arange(len(images)), "top": np.array(TOPS)[quarters]})
    frame = shuffled_with_ids(frame, "id", SEED + 1, first_id=0)
    train, test = split_for_variant(frame, variant, test_fraction=0.25, seed=SEED + 2, stratify="top",
                                    micro_train=300, micro_test=100, micro_from_train=True)
    write_image_task_files(public, private, images, train, test, row_column="row", id_column="id",
                           answer_column="top",
                           sample_submission=constant_submission(test, "id", {top: 0.25 for top in TOPS}))
