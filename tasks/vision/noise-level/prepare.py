"""Noise level: grayscale patches of fifteen bundled images with Gaussian noise of a random strength added;
how strong is the noise?

Train patches are cut from the top 60% of the rows of every image and test patches from the bottom 40% (with a
margin), so no test patch shares a pixel with a train patch.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import skimage.color
import skimage.data
import skimage.io
import sklearn.datasets

from dojo_lite.recipes import (
    check_variant,
    constant_submission,
    shuffled_with_ids,
    split_for_variant,
    write_image_task_files,
)

SEED = 20261211
SIZE = 24  # patch side, pixels
SKIMAGE = ["astronaut.png", "brick.png", "camera.png", "chelsea.png", "coffee.png", "coins.png", "grass.png",
           "gravel.png", "hubble_deep_field.jpg", "moon.png", "page.png", "retina.jpg", "rocket.jpg"]
SKLEARN = ["china.jpg", "flower.jpg"]
TRAIN_PER_IMAGE = 160
TEST_PER_IMAGE = 60
SPLIT = 0.6  # train patches lie above this fraction of the height, test patches below it
SIGMA_RANGE = (2.0, 40.0)  # noise standard deviation on the 0..255 scale, drawn log-uniformly


def _image(path: Path) -> np.ndarray:
    image = skimage.io.imread(path)
    if image.ndim == 3:
        return skimage.color.rgb2gray(image[:, :, :3]) * 255.0
    return image.astype(np.float64)


def _patches(image: np.ndarray, count: int, y_low: int, y_high: int,
             rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    ys = rng.integers(y_low, y_high - SIZE + 1, count)
    xs = rng.integers(0, image.shape[1] - SIZE + 1, count)
    clean = np.stack([image[y:y + SIZE, x:x + SIZE] for y, x in zip(ys, xs, strict=True)])
    sigma = np.round(np.exp(rng.uniform(*np.log(SIGMA_RANGE), count)), 2)
    noisy = clean + rng.normal(0, 1, clean.shape) * sigma[:, None, None]
    return np.clip(np.rint(noisy), 0, 255).astype(np.uint8), sigma


def prepare(public: Path, private: Path, variant: str) -> None:
    check_variant(variant)
    rng = np.random.default_rng(SEED)
    paths = [Path(skimage.data.__file__).parent / name for name in SKIMAGE]
    paths += [Path(sklearn.datasets.__file__).parent / "images" / name for name in SKLEARN]
    images, sigmas, parts = [], [], []
    for path in paths:
        image = _image(path)
        cut = int(SPLIT * image.shape[0])
        for part, count, low, high in (("train", TRAIN_PER_IMAGE, 0, cut),
                                       ("test", TEST_PER_IMAGE, cut + 2, image.shape[0])):
            patches, sigma = _patches(image, count, low, high, rng)
            images.append(patches)
            sigmas.append(sigma)
            parts += [part] * count
    stack = np.concatenate(images)
    # which image a patch comes from is not given
    frame = pd.DataFrame({"row": np.arange(len(stack)), "sigma": np.concatenate(sigmas), "part": parts})
    frame = shuffled_with_ids(frame, "id", SEED + 1, first_id=0)
    train = frame[frame["part"] == "train"].drop(columns="part")
    test = frame[frame["part"] == "test"].drop(columns="part")
    if variant == "micro":  # drawn from the full train part only: never a full test answer
        train, test = split_for_variant(train, "micro", test_fraction=0.25, seed=SEED + 2,
                                        micro_train=300, micro_test=100, micro_from_train=True)
    median = float(np.median(train["sigma"]))
    write_image_task_files(public, private, stack, train, test, row_column="row", id_column="id",
                           answer_column="sigma", sample_submission=constant_submission(test, "id", {"sigma": median}))
