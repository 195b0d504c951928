"""Helpers for tasks' ``prepare.py``: deterministic splits, micro samples, writing files.

Everything here is deterministic for a given seed, so a recipe gives the same bytes every time.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["random_split", "sample", "time_split", "write_csv", "write_task_files"]


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
