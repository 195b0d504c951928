"""Helpers for tasks' ``prepare.py``: deterministic splits, micro samples, writing files.

Everything here is deterministic for a given seed, so a recipe gives the same bytes every time.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "VARIANTS",
    "check_variant",
    "constant_submission",
    "random_split",
    "sample",
    "shuffled_with_ids",
    "split_for_variant",
    "time_split",
    "time_split_for_variant",
    "write_csv",
    "write_image_task_files",
    "write_task_files",
]


def random_split(
    frame: pd.DataFrame, test_fraction: float, seed: int, stratify: str | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split rows at random (stratified on a column if given); both parts keep the row order."""
    rng = np.random.default_rng(seed)
    test_mask = np.zeros(len(frame), dtype=bool)
    groups = [np.arange(len(frame))] if stratify is None else [
        np.flatnonzero((frame[stratify] == value).to_numpy()) for value in sorted(frame[stratify].unique(), key=str)
    ]
    for rows in groups:
        n_test = round(len(rows) * test_fraction)
        test_mask[rng.permutation(rows)[:n_test]] = True
    return frame[~test_mask].reset_index(drop=True), frame[test_mask].reset_index(drop=True)


def time_split(frame: pd.DataFrame, test_size: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The last ``test_size`` rows are the test set (the frame must be in time order)."""
    return frame.iloc[:-test_size].reset_index(drop=True), frame.iloc[-test_size:].reset_index(drop=True)


def sample(frame: pd.DataFrame, n: int, seed: int, stratify: str | None = None) -> pd.DataFrame:
    """At most ``n`` rows at random, in their original order (for micro variants)."""
    if len(frame) <= n:
        return frame.reset_index(drop=True)
    _, picked = random_split(frame, n / len(frame), seed, stratify)
    return picked


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """CSV as every task writes it: UTF-8, no index, ``\\n`` line ends, fixed float format."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, lineterminator="\n", float_format="%.10g")


def write_task_files(
    public: Path,
    private: Path,
    train: pd.DataFrame,
    test: pd.DataFrame,
    *,
    id_column: str,
    answer_column: str,
    sample_submission: pd.DataFrame,
) -> None:
    """The usual trio: ``train.csv``, ``test.csv`` without the answer, ``sample_submission.csv``,
    and ``private/answers.csv`` (id and answer)."""
    write_csv(train, public / "train.csv")
    write_csv(test.drop(columns=[answer_column]), public / "test.csv")
    write_csv(sample_submission, public / "sample_submission.csv")
    write_csv(test[[id_column, answer_column]], private / "answers.csv")


VARIANTS = ("full", "micro")
"""The variants a ``prepare.py`` is asked for."""


def check_variant(variant: str) -> None:
    """Raise :class:`ValueError` unless ``variant`` is one of :data:`VARIANTS`."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}")


def shuffled_with_ids(
    frame: pd.DataFrame, id_column: str, seed: int, *, first_id: int = 1, legacy_rng: bool = False
) -> pd.DataFrame:
    """The rows once in a random order, with a new first column ``id_column`` numbering them
    ``first_id, first_id + 1, ...``: shuffled first, so that ids carry no information about the
    source's order.

    The order is ``np.random.default_rng(seed).permutation(len(frame))``; with ``legacy_rng`` it is
    ``np.random.RandomState(seed).permutation(len(frame))``, the order of
    ``frame.sample(frac=1.0, random_state=seed)`` (kept for the tasks whose data was shuffled that way).
    """
    order = (np.random.RandomState(seed) if legacy_rng else np.random.default_rng(seed)).permutation(len(frame))
    shuffled = frame.iloc[order].reset_index(drop=True)
    shuffled.insert(0, id_column, np.arange(first_id, first_id + len(frame)))
    return shuffled


def split_for_variant(
    frame: pd.DataFrame,
    variant: str,
    *,
    test_fraction: float,
    seed: int,
    stratify: str | None = None,
    micro_train: int,
    micro_test: int,
    micro_from_train: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train and test parts for ``variant``: ``random_split(frame, test_fraction, seed, stratify)``,
    then for ``"micro"`` about ``micro_train`` and ``micro_test`` rows (stratified on the same column):

    - by default, at most ``micro_train`` rows of the train part (seed ``seed + 1``) and
      ``micro_test`` rows of the test part (seed ``seed + 2``);
    - with ``micro_from_train``, at most ``micro_train + micro_test`` rows of the full train part
      only (seed ``seed + 1``), split again with test fraction ``micro_test / (micro_train + micro_test)``
      (seed ``seed + 2``), so that the micro data never shows an answer of the full test part.
    """
    check_variant(variant)
    train, test = random_split(frame, test_fraction, seed, stratify)
    if variant == "micro" and micro_from_train:
        small = sample(train, micro_train + micro_test, seed + 1, stratify)
        train, test = random_split(small, micro_test / (micro_train + micro_test), seed + 2, stratify)
    elif variant == "micro":
        train = sample(train, micro_train, seed + 1, stratify)
        test = sample(test, micro_test, seed + 2, stratify)
    return train, test


def time_split_for_variant(
    frame: pd.DataFrame, variant: str, *, test_size: int, micro_test_size: int, micro_history: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train and test parts of a frame in time order for ``variant``: ``time_split(frame, test_size)``;
    for ``"micro"`` then the last ``micro_history + micro_test_size`` rows of the full train part only,
    the last ``micro_test_size`` of them the test part, so that the micro data never shows an answer
    of the full test part."""
    check_variant(variant)
    train, test = time_split(frame, test_size)
    if variant == "micro":
        train, test = time_split(train.iloc[-(micro_history + micro_test_size):], micro_test_size)
    return train, test


def constant_submission(test: pd.DataFrame, id_column: str, values: Mapping[str, object]) -> pd.DataFrame:
    """A sample submission: the test part's ids and, for each prediction column, one constant value."""
    return pd.DataFrame({id_column: test[id_column], **values})


def write_image_task_files(
    public: Path,
    private: Path,
    images: np.ndarray,
    train: pd.DataFrame,
    test: pd.DataFrame,
    *,
    row_column: str,
    id_column: str,
    answer_column: str,
    sample_submission: pd.DataFrame,
) -> None:
    """An image task's files: ``train_images.npy`` and ``test_images.npy``, the ``images`` at the
    parts' ``row_column`` positions in the parts' order, then :func:`write_task_files` with the
    parts less ``row_column``."""
    public.mkdir(parents=True, exist_ok=True)
    np.save(public / "train_images.npy", images[train[row_column].to_numpy()])
    np.save(public / "test_images.npy", images[test[row_column].to_numpy()])
    write_task_files(
        public, private, train.drop(columns=[row_column]), test.drop(columns=[row_column]),
        id_column=id_column, answer_column=answer_column, sample_submission=sample_submission,
    )
