"""Helpers for tasks' ``prepare.py``: deterministic splits, micro samples, writing files, the
table of a generated task (:class:`TableTask`, what ``dojo-lite tasks new`` writes a ``prepare.py``
to call) and the data of an imported competition (:class:`ImportedData`, what an imported task's
``prepare.py`` calls).

Everything here is deterministic for a given seed, so a recipe gives the same bytes every time.
This file is part of every task's data cache key (``Task.fingerprint``): changing what a recipe
writes re-prepares the tasks' data, as it should.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

import attrs
import numpy as np
import pandas as pd

from ._errors import PrepareError

__all__ = [
    "VARIANTS",
    "ImportedData",
    "TableTask",
    "check_variant",
    "constant_submission",
    "random_split",
    "sample",
    "shuffled_with_ids",
    "split_for_variant",
    "time_split",
    "time_split_for_variant",
    "tree_digest",
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


# --------------------------------------------------------------------------- generated tasks


@attrs.frozen(kw_only=True)
class TableTask:
    """What the ``prepare.py`` of a task made by ``dojo-lite tasks new`` records (as literals, so
    that the data cache key follows them) and calls with its table.

    :meth:`prepare` drops the rows without a target and the rows that repeat another exactly
    (a repeated row on both sides of the split would be a leak), shuffles the rows with ``seed``
    and numbers them in a new first column ``id_column`` (or keeps the table's own
    ``id_column`` when ``new_ids`` is False), and splits them with :func:`split_for_variant`
    (stratified on the target when ``classes`` is given; the micro data comes from the full train
    part only).  ``classes`` are the target's classes as the answers hold them (integers or
    text), None for a numeric target.  The sample submission holds, for every test row, the train
    part's ``submission`` statistic: ``majority`` (the most frequent class, in ``target``),
    ``prior`` (each class's share, one column per entry of ``prediction_columns``; with one column,
    the share of ``classes[1]``), ``mean`` or ``median``.
    """

    target: str
    id_column: str
    new_ids: bool
    classes: tuple[str | int, ...] | None
    prediction_columns: tuple[str, ...]
    submission: str
    seed: int
    test_fraction: float
    micro_train: int
    micro_test: int

    def table(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` cleaned, shuffled and numbered as :meth:`prepare` splits it."""
        # Repeats are judged without the table's own ids (two ids for one record are still one record).
        content = [c for c in frame.columns if self.new_ids or c != self.id_column]
        frame = frame[frame[self.target].notna()].drop_duplicates(subset=content).reset_index(drop=True)
        if self.classes is not None:
            frame[self.target] = self.class_values(frame[self.target])
        if self.new_ids:
            return shuffled_with_ids(frame, self.id_column, self.seed)
        order = np.random.default_rng(self.seed).permutation(len(frame))
        return frame.iloc[order].reset_index(drop=True)

    def class_values(self, values: pd.Series) -> pd.Series:
        """The target as the answers hold it: whole numbers as integers (booleans as 0/1), else text."""
        if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
            return values.astype(int)
        return values.astype(str)

    def prepare(self, frame: pd.DataFrame, public: Path, private: Path, variant: str) -> None:
        """Write ``variant`` of the task's data from its whole table ``frame``."""
        stratify = self.target if self.classes is not None else None
        train, test = split_for_variant(self.table(frame), variant, test_fraction=self.test_fraction,
                                        seed=self.seed + 1, stratify=stratify, micro_train=self.micro_train,
                                        micro_test=self.micro_test, micro_from_train=True)
        write_task_files(public, private, train, test, id_column=self.id_column, answer_column=self.target,
                         sample_submission=constant_submission(test, self.id_column, self._constants(train)))

    def _constants(self, train: pd.DataFrame) -> dict[str, object]:
        values = train[self.target]
        if self.submission == "majority":
            return {self.prediction_columns[0]: values.value_counts().sort_index().idxmax()}
        if self.submission == "prior":
            assert self.classes is not None
            shares = values.value_counts(normalize=True)
            if len(self.prediction_columns) == 1:
                return {self.prediction_columns[0]: round(float(shares.get(self.classes[1], 0.0)), 4)}
            return {column: round(float(shares.get(label, 0.0)), 4)
                    for column, label in zip(self.prediction_columns, self.classes, strict=True)}
        statistic = values.mean() if self.submission == "mean" else values.median()
        return {self.prediction_columns[0]: round(float(statistic), 6)}


# --------------------------------------------------------------------------- imported competitions


def tree_digest(root: Path) -> str:
    """The SHA-256 (hex) over every file under ``root``: each file's path relative to ``root`` and
    its content's SHA-256, in path order (links to files count as files; folders only through the
    files in them).  Raises OSError when a file cannot be read."""
    digest = hashlib.sha256()
    files = sorted((p for p in root.rglob("*") if p.is_file()), key=lambda p: p.relative_to(root).as_posix())
    for path in files:
        with open(path, "rb") as handle:
            content = hashlib.file_digest(handle, "sha256").hexdigest()
        digest.update(f"{path.relative_to(root).as_posix()}\0{content}\n".encode())
    return digest.hexdigest()


@attrs.frozen(kw_only=True)
class ImportedData:
    """The data of a competition imported by ``dojo-lite tasks import``: what the task's generated
    ``prepare.py`` records (as literals, so that the data cache key follows them) and calls.

    ``source`` is the task's ``source/`` folder as the importer wrote it: ``public/`` (the
    competition's public files) and ``private/<answers>`` (its answers file); ``sha256`` is its
    :func:`tree_digest` at import.  ``sample`` is the sample submission's path in ``public/``,
    ``id_column`` its first column.  ``seed``, ``micro_test`` and ``micro_rows`` shape the micro
    variant (see :meth:`prepare`).
    """

    source: Path
    sha256: str
    answers: str
    sample: str
    id_column: str
    seed: int
    micro_test: int
    micro_rows: int

    def prepare(self, public: Path, private: Path, variant: str) -> None:
        """Write ``variant`` of the data into ``public`` and ``private`` (both exist, empty).

        ``full``: every file of ``source/public`` as it is (hard links where the file system
        allows, else copies), and the answers file as ``private/answers.csv``.

        ``micro``: the same files, smaller.  ``micro_test`` ids of the answers are drawn with the
        seed; every CSV whose id column holds test ids (the test set, the sample submission, the
        answers) keeps only the drawn ids' rows; every other CSV keeps at most ``micro_rows`` rows
        drawn with the seed (a generator of its own per file); kept rows stay in their order and
        their cells are written back as the text they were.  Any other file that a CSV's cell
        names (by path, file name or stem, as images named by their id are) is kept only if a kept
        row names it; a file that no cell names is kept as it is.  A ``.csv`` that does not parse
        as a table counts as another file.

        Both variants also show a sample submission named otherwise (``sampleSubmission.csv``) as
        ``public/sample_submission.csv``, a copy (never written through a hard link).

        Raises PrepareError when ``source/`` is no longer what was imported (its SHA-256 differs)
        or the micro sample submission does not hold the micro test ids; ValueError for an unknown
        ``variant``.
        """
        found = tree_digest(self.source)
        if found != self.sha256:
            raise PrepareError(f"{self.source} changed since the import (SHA-256 {found}, imported {self.sha256}): "
                               "import the competition again")
        root = self.source / "public"
        files = sorted((p for p in root.rglob("*") if p.is_file()), key=lambda p: p.relative_to(root).as_posix())
        if variant == "micro":
            self._micro(public, private, files)
            return
        check_variant(variant)
        for path in files:
            _place(path, public / path.relative_to(root))
        self._sample_copy(public)
        shutil.copyfile(self.source / "private" / self.answers, private / "answers.csv")

    def _rng(self, name: str) -> np.random.Generator:
        """A generator of its own for each file: one file's draw does not depend on the others."""
        return np.random.default_rng([self.seed, int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "little")])

    def _micro(self, public: Path, private: Path, files: list[Path]) -> None:
        root = self.source / "public"
        answers = _read_cells(self.source / "private" / self.answers)
        ids = answers[self.id_column]
        picked = np.sort(self._rng(self.answers).choice(len(ids), size=min(self.micro_test, len(ids)), replace=False))
        keep, every_id = set(ids.iloc[picked]), set(ids)
        named: set[str] = set()
        kept: set[str] = set()
        others = []
        for path in files:
            relative = path.relative_to(root).as_posix()
            table = _cell_table(path)
            if table is None:
                others.append(path)
                continue
            if self.id_column in table.columns and table[self.id_column].isin(every_id).any():
                small = table[table[self.id_column].isin(keep)]
            else:
                rows = self._rng(relative).choice(len(table), size=min(self.micro_rows, len(table)), replace=False)
                small = table.iloc[np.sort(rows)]
            named |= _cell_names(table)
            kept |= _cell_names(small)
            _write_cells(small, public / relative)
        for path in others:
            relative = path.relative_to(root).as_posix()
            names = {relative, path.name, path.stem}
            if names & named and not names & kept:
                continue  # named only by rows the micro data leaves out
            _place(path, public / relative)
        _write_cells(answers[ids.isin(keep)], private / "answers.csv")
        if set(_read_cells(public / self.sample)[self.id_column]) != keep:
            raise PrepareError("the micro sample submission does not hold the micro test ids")
        self._sample_copy(public)

    def _sample_copy(self, public: Path) -> None:
        """dojo_lite shows agents public/sample_submission.csv: a copy under that name too."""
        if self.sample != "sample_submission.csv":
            target = public / "sample_submission.csv"
            target.unlink(missing_ok=True)  # maybe a hard link into source/: never write through it
            shutil.copyfile(public / self.sample, target)


def _place(source: Path, target: Path) -> None:
    """``source`` at ``target``: a hard link where the file system allows (the full data costs no
    space), else a copy."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def _read_cells(path: Path) -> pd.DataFrame:
    """A CSV with its cells as text (no NaN, no numbers): written back, they are what they were."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _write_cells(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, lineterminator="\n")


def _cell_table(path: Path) -> pd.DataFrame | None:
    """``path`` read by :func:`_read_cells` when it is a ``.csv`` that parses, else None."""
    if path.suffix.lower() != ".csv":
        return None
    try:
        return _read_cells(path)
    except (ValueError, UnicodeDecodeError):  # pandas' parser errors are ValueErrors
        return None


def _cell_names(frame: pd.DataFrame) -> set[str]:
    """Every cell of ``frame``, with the file name and stem it would have as a path."""
    names: set[str] = set()
    for value in pd.unique(frame.to_numpy().ravel()):
        path = PurePosixPath(str(value))
        names.update((str(value), path.name, path.stem))
    names.discard("")
    return names
