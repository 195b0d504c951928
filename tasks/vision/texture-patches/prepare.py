"""Texture patches: small, jittered grayscale patches of five scikit-image photos; which surface is it?

Train patches are cut from the left 60% of every photo and test patches from the right 40% (with a margin),
so no test patch shares a pixel with a train patch.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
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
SIZE = 20  # patch side, pixels
TEXTURES = ["brick", "grass", "gravel", "moon", "cell"]
TRAIN_PER_CLASS = 320
TEST_PER_CLASS = 160
SPLIT = 0.6  # train patches lie left of this fraction of the width, test patches right of it


def _photo(name: str) -> np.ndarray:
    path = Path(skimage.data.__file__).parent / f"{name}.png"
    return skimage.io.imread(path).astype(np.float64)


def _patches(photo: np.ndarray, count: int, x_low: int, x_high: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` patches at random places whose columns lie within [x_low, x_high), each with a random
    contrast, brightness and sensor noise (so that a global grey level does not name the texture)."""
    ys = rng.integers(0, photo.shape[0] - SIZE + 1, count)
    xs = rng.integers(x_low, x_high - SIZE + 1, count)
    cut = np.stack([photo[y:y + SIZE, x:x + SIZE] for y, x in zip(ys, xs, strict=True)])
    centred = cut - cut.mean(axis=(1, 2), keepdims=True)
    gain = rng.uniform(0.5, 1.5, (count, 1, 1))
    level = rng.uniform(70, 190, (count, 1, 1))
    noise = rng.normal(0, 12, cut.shape)
    return np.clip(np.rint(level + gain * centred + noise), 0, 255).astype(np.uint8)


def prepare(public: Path, private: Path, variant: str) -> None:
    check_variant(variant)
    rng = np.random.default_rng(SEED)
    images, labels, parts = [], [], []
    for name in TEXTURES:
        photo = _photo(name)
        width = photo.shape[1]
        cut = int(SPLIT * width)
        images.append(_patches(photo, TRAIN_PER_CLASS, 0, cut, rng))
        images.append(_patches(photo, TEST_PER_CLASS, cut + 4, width, rng))
        labels += [name] * (TRAIN_PER_CLASS + TEST_PER_CLASS)
        parts += ["train"] * TRAIN_PER_CLASS + ["test"] * TEST_PER_CLASS
    stack = np.concatenate(images)
    frame = pd.DataFrame({"row": np.arange(len(stack)), "texture": labels, "part": parts})
    frame = shuffled_with_ids(frame, "id", SEED + 1, first_id=0)
    train = frame[frame["part"] == "train"].drop(columns="part")
    test = frame[frame["part"] == "test"].drop(columns="part")
    if variant == "micro":  # drawn from the full train part only: never a full test answer
        train, test = split_for_variant(train, "micro", test_fraction=0.25, seed=SEED + 2, stratify="texture",
                                        micro_train=300, micro_test=100, micro_from_train=True)
    write_image_task_files(public, private, stack, train, test, row_column="row", id_column="id",
                           answer_column="texture", sample_submission=constant_submission(test, "id",
                                                                                           {"texture": "brick"}))
