"""Wine recognition (scikit-learn's copy of the UCI wine data, 178 wines): train/test split, micro variant."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from sklearn.datasets import load_wine

from dojo_lite.recipes import constant_submission, shuffled_with_ids, split_for_variant, write_task_files

SEED = 20240601
TEST_FRACTION = 0.3
MICRO_TRAIN, MICRO_TEST = 60, 30


def load() -> pd.DataFrame:
    frame = load_wine(as_frame=True).frame.rename(
        columns={"od280/od315_of_diluted_wines": "od280_od315", "target": "cultivar"})
    # The source is sorted by cultivar: shuffle once so that ids carry no information.
    return shuffled_with_ids(frame, "id", SEED)


def prepare(public: Path, private: Path, variant: str) -> None:
    # The micro variant is drawn from the full train part only: it never shows a full test answer.
    train, test = split_for_variant(load(), variant, test_fraction=TEST_FRACTION, seed=SEED, stratify="cultivar",
                                    micro_train=MICRO_TRAIN, micro_test=MICRO_TEST, micro_from_train=True)
    majority = int(train["cultivar"].mode()[0])
    write_task_files(
        public, private, train, test, id_column="id", answer_column="cultivar",
        sample_submission=constant_submission(test, "id", {"cultivar": majority}),
    )
