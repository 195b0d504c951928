"""Photo patches: small colour patches of eight bundled photographs; which photograph is each from?

Every photograph is first shrunk so that its longer side is 256 pixels. Train patches are cut from the top 60%
of its rows and test patches from the bottom 40% (with a margin), so no test patch shares a pixel with a train
patch.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import skimage.data
import skimage.io
import skimage.transform
import sklearn.datasets

from dojo_lite.recipes import (
    check_variant,
    constant_submission,
    shuffled_with_ids,
    split_for_variant,
    write_image_task_files,
)

SEED = 20261208
SIZE = 16  # patch side, pixels
LONG_SIDE = 256
SKIMAGE = {"astronaut": "astronaut.png", "cat": "chelsea.png", "coffee": "coffee.png", "rocket": "rocket.jpg",
           "galaxies": "hubble_deep_field.jpg", "motorcycle": "motorcycle_left.png"}
SKLEARN = {"temple": "china.jpg", "flower": "flower.jpg"}
TRAIN_PER_CLASS = 200
TEST_PER_CLASS = 100
SPLIT = 0.6  # train patches lie above this fraction of the height, test patches below it


def _photo(name: str) -> np.ndarray:
    if name in SKIMAGE:
        path = Path(skimage.data.__file__).parent / SKIMAGE[name]
    else:
        path = Path(sklearn.datasets.__file__).parent / "images" / SKLEARN[name]
    image = skimage.io.imread(path)[:, :, :3].astype(np.float64) / 255.0
    scale = LONG_SIDE / max(image.shape[:2])
    return skimage.transform.rescale(image, scale, anti_aliasing=True, channel_axis=2, order=1)


def _patches(photo: np.ndarray, count: int, y_low: int, y_high: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` patches at random places whose rows lie within [y_low, y_high), each with a random colour
    balance, exposure and sensor noise."""
    ys = rng.integers(y_low, y_high - SIZE + 1, count)
    xs = rng.integers(0, photo.shape[1] - SIZE + 1, count)
    cut = np.stack([photo[y:y + SIZE, x:x + SIZE] for y, x in zip(ys, xs, strict=True)]) * 255.0
    balance = rng.uniform(0.85, 1.15, (count, 1, 1, 3))
    exposure = rng.uniform(-20, 20, (count, 1, 1, 1))
    noise = rng.normal(0, 6, cut.shape)
    return np.clip(np.rint(cut * balance + exposure + noise), 0, 255).astype(np.uint8)


def prepare(public: Path, private: Path, variant: str) -> None:
    check_variant(variant)
    rng = np.random.default_rng(SEED)
    images, labels, parts = [], [], []
    for name in sorted([*SKIMAGE, *SKLEARN]):
        photo = _photo(name)
        height = photo.shape[0]
        cut = int(SPLIT * height)
        images.append(_patches(photo, TRAIN_PER_CLASS, 0, cut, rng))
        images.append(_patches(photo, TEST_PER_CLASS, cut + 2, height, rng))
        labels += [name] * (TRAIN_PER_CLASS + TEST_PER_CLASS)
        parts += ["train"] * TRAIN_PER_CLASS + ["test"] * TEST_PER_CLASS
    stack = np.concatenate(images)
    frame = pd.DataFrame({"row": np.arange(len(stack)), "photo": labels, "part": parts})
    frame = shuffled_with_ids(frame, "id", SEED + 1, first_id=0)
    train = frame[frame["part"] == "train"].drop(columns="part")
    test = frame[frame["part"] == "test"].drop(columns="part")
    if variant == "micro":  # drawn from the full train part only: never a full test answer
        train, test = split_for_variant(train, "micro", test_fraction=0.25, seed=SEED + 2, stratify="photo",
                                        micro_train=300, micro_test=100, micro_from_train=True)
    write_image_task_files(public, private, stack, train, test, row_column="row", id_column="id",
                           answer_column="photo",
                           sample_submission=constant_submission(test, "id", {"photo": "astronaut"}))
