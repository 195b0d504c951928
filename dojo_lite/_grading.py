"""Grading: the ``[grading]`` table of task.toml, the checks on an agent's submission.csv, the score.

Everything here runs in the trusted controller. The submission was written by untrusted code, so
it is opened without following symlinks, checked to be a regular file and size-limited before a
byte is read. Every problem with it is a ``SubmissionError`` whose ``code`` names the check and
whose message is written for the agent: what was expected, what was found, how to fix it.

Ids are compared as normalised strings (see ``_key``), so ``5``, ``"5"``, ``" 5 "`` and ``5.0``
are the same id when the answers' ids are numbers, while ``"007"`` stays ``"007"`` when they are
strings.
"""

from __future__ import annotations

import codecs
import csv
import errno
import io
import math
import os
import re
import stat
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

import attrs
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ._errors import SubmissionError, TaskFormatError
from ._metrics import Direction, Metric, PredictionKind, get_metric
from ._text import quote

__all__ = [
    "CUSTOM",
    "MAX_SUBMISSION_BYTES",
    "SUBMISSION",
    "GradingSpec",
    "Label",
    "PredictionKind",
    "read_submission",
    "score_submission",
]

CUSTOM = "custom"                   # metric = "custom": the task's grade.py computes the score
SUBMISSION = "submission.csv"
MAX_SUBMISSION_BYTES = 100 << 20    # 100 MiB: far above any tabular submission, far below memory

Label = str | int | float
CustomGrader = Callable[[pd.DataFrame, pd.DataFrame], float]

_REQUIRED = ("metric", "direction", "id_column", "prediction_columns", "prediction_kind", "answer_column")
_OPTIONAL = ("labels",)
# What pandas reads as NaN by default: an agent's NaN shows up as one of these (to_csv writes "").
_NA_TOKENS = frozenset({"", "nan", "na", "n/a", "null", "none", "<na>", "-nan", "#n/a"})
_SHOWN = 10                         # how many ids or values a message lists before "... (N in all)"
_CANONICAL_INT = r"0|-?[1-9][0-9]*"  # what str(int(text)) gives back unchanged
_BOOLEAN_KEYS = {"true": "True", "1": "True", "false": "False", "0": "False"}  # lower-cased numeric keys


# --------------------------------------------------------------------------- the [grading] table


@attrs.frozen(kw_only=True)
class GradingSpec:
    """The ``[grading]`` table of a task.toml, checked (see tasks/README.md for its meaning).

    ``labels`` are the allowed labels (label kind), ``[negative, positive]`` (binary probability;
    without them the answers must be 0/1) or the class of each column (multi-class probability).
    """

    metric: str
    direction: Direction
    id_column: str
    prediction_columns: tuple[str, ...]
    prediction_kind: PredictionKind
    labels: tuple[Label, ...] | None
    answer_column: str

    @property
    def multiclass(self) -> bool:
        """True for probabilities with one column per class."""
        return self.prediction_kind is PredictionKind.PROBABILITY and len(self.prediction_columns) > 1

    @classmethod
    def from_table(cls, table: Mapping[str, object]) -> GradingSpec:
        """The spec in ``table`` (task.toml's ``[grading]``); TaskFormatError saying what is wrong."""
        if not isinstance(table, Mapping):
            raise TaskFormatError(f"[grading] must be a table, got {type(table).__name__}")
        _check_keys(table)
        metric = _string(table, "metric")
        direction = _enum(Direction, table, "direction")
        kind = _enum(PredictionKind, table, "prediction_kind")
        spec = cls(
            metric=metric,
            direction=direction,
            id_column=_string(table, "id_column"),
            prediction_columns=_columns(table),
            prediction_kind=kind,
            labels=_labels(table.get("labels")),
            answer_column=_string(table, "answer_column"),
        )
        if spec.id_column in spec.prediction_columns:
            raise TaskFormatError(f"[grading] id_column {spec.id_column!r} is also among prediction_columns")
        _check_kind(spec)
        if metric != CUSTOM:
            _check_metric(spec)
        return spec


def _check_keys(table: Mapping[str, object]) -> None:
    unknown = sorted(set(table) - {*_REQUIRED, *_OPTIONAL})
    if unknown:
        raise TaskFormatError(
            f"[grading] has unknown keys: {', '.join(unknown)} (known: {', '.join(_REQUIRED + _OPTIONAL)})"
        )
    missing = [key for key in _REQUIRED if key not in table]
    if missing:
        raise TaskFormatError(f"[grading] is missing keys: {', '.join(missing)}")


def _string(table: Mapping[str, object], key: str) -> str:
    value = table[key]
    if not isinstance(value, str) or not value.strip():
        raise TaskFormatError(f"[grading] {key} must be a non-empty string, got {value!r}")
    return value


def _enum[E: (Direction, PredictionKind)](enum_type: type[E], table: Mapping[str, object], key: str) -> E:
    value = table[key]
    try:
        return enum_type(value)
    except ValueError:
        allowed = " | ".join(member.value for member in enum_type)
        raise TaskFormatError(f"[grading] {key} must be one of {allowed}, got {value!r}") from None


def _columns(table: Mapping[str, object]) -> tuple[str, ...]:
    value = table["prediction_columns"]
    if (
        not isinstance(value, (list, tuple))
        or not value
        or not all(isinstance(name, str) and name.strip() for name in value)
    ):
        raise TaskFormatError(f"[grading] prediction_columns must be a non-empty list of column names, got {value!r}")
    duplicates = sorted(name for name, count in Counter(value).items() if count > 1)
    if duplicates:
        raise TaskFormatError(f"[grading] prediction_columns lists {', '.join(duplicates)} more than once")
    return tuple(value)


def _labels(value: object) -> tuple[Label, ...] | None:
    if value is None:
        return None
    # bool is an int to Python, but a CSV says "True": allowing it would only invite mismatches.
    if (
        not isinstance(value, (list, tuple))
        or not value
        or not all(isinstance(label, (str, int, float)) and not isinstance(label, bool) for label in value)
    ):
        raise TaskFormatError(f"[grading] labels must be a non-empty list of strings or numbers, got {value!r}")
    keys = [str(label) for label in value]
    duplicates = sorted(key for key, count in Counter(keys).items() if count > 1)
    if duplicates:
        raise TaskFormatError(f"[grading] labels lists {', '.join(duplicates)} more than once")
    return tuple(value)


def _check_kind(spec: GradingSpec) -> None:
    """The column and label rules of each prediction kind (tasks/README.md); with a custom
    metric, label and value kinds take any number of columns."""
    n_columns = len(spec.prediction_columns)
    kind = spec.prediction_kind.value
    # A custom grade.py reads every column itself (an imported competition may predict several
    # targets): each column is checked as its kind says, whatever their number.
    if spec.prediction_kind is not PredictionKind.PROBABILITY and n_columns != 1 and spec.metric != CUSTOM:
        raise TaskFormatError(f"[grading] prediction_kind = {kind!r} takes one prediction column, got {n_columns}")
    if spec.prediction_kind is PredictionKind.VALUE and spec.labels is not None:
        raise TaskFormatError("[grading] labels make no sense with prediction_kind = 'value'")
    if spec.prediction_kind is not PredictionKind.PROBABILITY:
        return
    if n_columns == 1:
        if spec.labels is not None and len(spec.labels) != 2:
            raise TaskFormatError(
                "[grading] binary probabilities take labels = [negative, positive] (or none: answers are 0/1), "
                f"got {len(spec.labels)} labels"
            )
        return
    if spec.labels is None or [str(label) for label in spec.labels] != list(spec.prediction_columns):
        raise TaskFormatError(
            "[grading] multi-class probabilities need labels naming the class of each prediction column, in order: "
            f"labels = {list(spec.prediction_columns)!r}, got {None if spec.labels is None else list(spec.labels)!r}"
        )


def _check_metric(spec: GradingSpec) -> None:
    metric = get_metric(spec.metric)
    if spec.direction is not metric.direction:
        raise TaskFormatError(
            f"[grading] direction = {spec.direction.value!r} disagrees with {metric.name}, "
            f"which is {metric.direction.value}d"
        )
    if spec.prediction_kind not in metric.kind:
        kinds = " | ".join(sorted(kind.value for kind in metric.kind))
        raise TaskFormatError(
            f"[grading] {metric.name} grades prediction_kind = {kinds}, got {spec.prediction_kind.value!r}"
        )
    if spec.multiclass and not metric.multiclass:
        raise TaskFormatError(
            f"[grading] {metric.name} grades one probability column (binary), got {len(spec.prediction_columns)}"
        )


# --------------------------------------------------------------------------- normalised keys


def _numeric_key(text: str) -> str:
    """``"5"``, ``"5.0"``, ``"5e0"`` and ``" 5 "`` all become ``"5"``; other numbers their repr."""
    try:
        return str(int(text))
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return text
    return str(int(number)) if number.is_integer() else repr(number)


def _key(value: object, numeric: bool) -> str:
    """The string ``value`` is compared as: stripped, and as a canonical number when ``numeric``."""
    text = str(value).strip()
    return _numeric_key(text) if numeric else text


def _keys(values: pd.Series, numeric: bool) -> pd.Series:
    """``_key`` of each value, vectorised: plain integers (most ids) are already canonical."""
    texts = values.astype(str).str.strip()
    if not numeric or pd.api.types.is_integer_dtype(values):
        return texts  # str() of an integer is its key
    canonical = texts.str.fullmatch(_CANONICAL_INT)
    if canonical.all():
        return texts
    return texts.where(canonical, texts[~canonical].map(_numeric_key))


def _is_numeric(values: pd.Series) -> bool:
    """Whether ``values`` (ids or answers) are numbers, so their keys are canonical numbers."""
    return bool(pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values))


# --------------------------------------------------------------------------- reading the file


def read_submission(
    workdir: Path,
    spec: GradingSpec,
    expected_ids: pd.Series,
    *,
    filename: str = SUBMISSION,
    max_bytes: int = MAX_SUBMISSION_BYTES,
) -> pd.DataFrame:
    """The agent's ``workdir/filename``, checked, as a frame aligned on ``expected_ids``.

    Returns a frame with the id column (holding ``expected_ids``' own values) and the prediction
    columns only, one row per expected id in ``expected_ids``' order, with a fresh index.
    Predictions are floats (probability, value), the labels' own values (label kind with
    ``labels``; ``"1.0"`` is the label ``1``) or stripped strings (label kind without).

    Raises SubmissionError when the file cannot be graded; its code is the first check that
    failed, in this order: ``missing_file``, ``symlink``, ``not_regular_file``, ``unreadable``,
    ``too_large`` (before reading), ``empty``, ``encoding`` (UTF-8, a BOM allowed), ``not_csv``
    (pandas cannot parse it), ``wrong_row_count`` (a header only), ``missing_columns``,
    ``extra_columns``, ``duplicate_ids``, ``extra_ids``, ``missing_ids``, then per prediction
    column: ``nan``, ``non_numeric``, ``out_of_range`` (probabilities), ``infinite``,
    ``negative_values`` (metrics that take none, like rmsle), ``bad_labels`` (label kind with ``labels``),
    then ``zero_probabilities`` (a multi-class row of zeros). Scoring adds ``bad_labels`` for a
    prediction that is no boolean when the answers are True/False.

    Up to ``FAST_MAX_ROWS`` expected ids, a plain file is read without pandas, to the same frame.
    """
    if not filename or filename in (".", "..") or "/" in filename or "\0" in filename:
        raise ValueError(f"filename must be a plain file name, got {filename!r}")
    text = _decode(_read_bytes(workdir, filename, max_bytes), filename)
    _check_shape(text, spec, len(expected_ids), filename)
    expected_ids = expected_ids.reset_index(drop=True)
    if _small(len(expected_ids)) and len(text) <= FAST_MAX_CHARS:
        frame = _read_small(text, spec, expected_ids, filename)
        if frame is not None:
            return frame
    return _read_frame(text, spec, expected_ids, filename)


def _small(rows: int) -> bool:
    """Whether ``rows`` rows take the fast path (read at each call: tests move the threshold)."""
    return rows <= FAST_MAX_ROWS


def _read_frame(text: str, spec: GradingSpec, expected_ids: pd.Series, filename: str) -> pd.DataFrame:
    """``read_submission`` with pandas: every check, and every error message, is made here."""
    header, body = _parse_csv(text, filename)
    positions = _check_columns(header, spec, filename)
    id_numeric = _is_numeric(expected_ids)
    expected_keys = pd.Index(_keys(expected_ids, id_numeric))
    if not expected_keys.is_unique:
        raise TaskFormatError(f"the answers' {spec.id_column} column has duplicate ids")
    submitted = _column(body, positions[spec.id_column])
    order = _check_ids(submitted, _keys(submitted, id_numeric), expected_keys, filename)
    frame = pd.DataFrame({spec.id_column: expected_ids.to_numpy()})
    for column in spec.prediction_columns:
        cells = _column(body, positions[column]).iloc[order].reset_index(drop=True)
        frame[column] = _predictions(cells, expected_ids, column, spec)
    if spec.multiclass:
        _fail_on(_zero_rows(frame[list(spec.prediction_columns)].to_numpy(dtype=float)), expected_ids,
                 *_ZERO_PROBABILITIES)
    return frame


_ZERO_PROBABILITIES = ("zero_probabilities", "rows whose probabilities are all 0",
                       "give each row at least one positive probability (rows are divided by their sum)")


def _zero_rows(probabilities: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Each row is divided by its sum before grading: a row of zeros has no distribution to give."""
    return probabilities.sum(axis=1) <= 0  # type: ignore[no-any-return]


# --------------------------------------------------------------------------- the fast path
#
# A 40-row submission spends milliseconds in pandas (read_csv, string accessors, indexes) for
# microseconds of work. The fast path reads small files with the csv module and checks them with
# dicts and numpy. It vouches only for what it knows pandas does the same way: a valid file of
# plain text. On anything else (quotes, CR, non-ASCII, numbers pandas spells or parses its own
# way) and on the first problem it finds, it returns None and the pandas path reads the file again:
# every error message is made there, once, so the two paths cannot word one differently.

FAST_MAX_ROWS = 5_000        # measured: the pandas path catches up with the fast one near 10,000 rows
FAST_MAX_CHARS = 1 << 20     # a few long cells are no small submission either
_NOT_PLAIN = ('"', "\r", "\0")  # quoting, old Mac line ends, NUL: pandas' tokenizer has its own rules
# What str.strip() removes from ASCII cells (which hold no newline): a file without any needs no stripping.
_SPACE = re.compile("[" + re.escape("".join(c for c in map(chr, range(128)) if c.isspace() and c != "\n")) + "]")
_CANONICAL_INTS = re.compile(f"(?:{_CANONICAL_INT})(?:\n(?:{_CANONICAL_INT}))*")
# A number as pandas.to_numeric reads it, bit for bit: ASCII digits only (float() also takes "1_0" and
# other scripts' digits) and no leading "+" (pandas then parses "+1e30" to a neighbouring float).
_NUMBER = r"-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
_NUMBERS = re.compile(f"{_NUMBER}(?:\n{_NUMBER})*")  # a column's cells joined by newlines: one C call


def _read_small(text: str, spec: GradingSpec, expected_ids: pd.Series, filename: str) -> pd.DataFrame | None:
    """``read_submission``'s frame for a plain, valid file, the same as ``_read_frame``'s; None otherwise.

    The only error raised here is ``_check_columns``', a function of the header alone.
    """
    if not text.isascii() or any(char in text for char in _NOT_PLAIN):
        return None
    table = _split_csv(text)
    if table is None:
        return None
    header, cells = table
    positions = _check_columns(header, spec, filename)  # a function of the header only: the same error
    id_numeric = _is_numeric(expected_ids)
    expected_keys = _small_keys(expected_ids, id_numeric)
    if expected_keys is None:
        return None
    expected = {key: slot for slot, key in enumerate(expected_keys)}
    if len(expected) != len(expected_keys):
        return None  # duplicate ids among the answers: the task's error, raised there
    order = _row_order(_text_keys(list(cells[positions[spec.id_column]]), id_numeric), expected)
    if order is None:
        return None
    columns: dict[str, NDArray[np.generic] | pd.Series] = {spec.id_column: expected_ids.to_numpy()}
    for column in spec.prediction_columns:
        column_cells = cells[positions[column]]
        values = _small_predictions([column_cells[row] for row in order], column, spec)
        if values is None:
            return None
        columns[column] = values
    if spec.multiclass and _zero_rows(np.column_stack([columns[c] for c in spec.prediction_columns])).any():
        return None
    return pd.DataFrame(columns)


def _split_csv(text: str) -> tuple[list[str], list[Sequence[str]]] | None:
    """``_parse_csv``'s header and the stripped cells of each column, for plain text; None for no
    rows or rows of unequal width (pandas refuses a long row and pads a short one).

    pandas skips empty lines and lines of spaces and tabs only (not of other whitespace).
    """
    try:
        lines = [row for row in csv.reader(text.split("\n")) if len(row) > 1 or (row and row[0].strip(" \t"))]
    except csv.Error:  # a cell beyond the csv module's field size limit
        return None
    if len(lines) < 2:
        return None
    width = len(lines[0])
    if max(map(len, lines)) != width or min(map(len, lines)) != width:
        return None  # a short row's empty cells are refused anyway
    columns: list[Sequence[str]] = list(zip(*lines, strict=True))
    if _SPACE.search(text):
        columns = [[cell.strip() for cell in column] for column in columns]
    return [column[0] for column in columns], [column[1:] for column in columns]


def _small_keys(values: pd.Series, numeric: bool) -> list[str] | None:
    """``_keys(values, numeric)`` as a list, or None for values whose text pandas writes its own way
    (a NaN stays NaN, a float32 is shown short)."""
    if pd.api.types.is_integer_dtype(values.dtype) and isinstance(values.dtype, np.dtype):
        return list(map(str, values.tolist()))  # canonical already
    items = values.tolist()
    if values.dtype == np.float64 and not values.isna().any():
        return _text_keys(list(map(str, items)), numeric)
    if values.dtype.kind in "OT" and all(type(item) is str for item in items):
        return _text_keys([item.strip() for item in items], numeric)
    return None


def _text_keys(texts: list[str], numeric: bool) -> list[str]:
    """``_key`` of each stripped text (what ``_keys`` gives, without pandas): most ids are canonical."""
    if not numeric or _CANONICAL_INTS.fullmatch("\n".join(texts)):
        return texts
    return [_numeric_key(text) for text in texts]


def _row_order(keys: list[str], expected: dict[str, int]) -> list[int] | None:
    """The row of each expected id, in the expected order; None unless each id has exactly one row."""
    if len(keys) != len(expected):
        return None
    order = [-1] * len(expected)
    for row, key in enumerate(keys):
        slot = expected.get(key, -1)
        if slot < 0 or order[slot] >= 0:
            return None
        order[slot] = row
    return order


def _small_predictions(cells: list[str], column: str, spec: GradingSpec) -> NDArray[np.float64] | pd.Series | None:
    """``_predictions`` of valid cells, in the same form; None when a check would fail."""
    if spec.prediction_kind is PredictionKind.LABEL:
        return _small_labels(cells, spec.labels)
    if not _NUMBERS.fullmatch("\n".join(cells)):
        return None
    values = np.array(cells, dtype=float)
    if any(bad.any() for bad, *_ in _value_checks(values, column, spec)):
        return None
    return values


def _small_labels(cells: list[str], labels: tuple[Label, ...] | None) -> pd.Series | None:
    if labels is None:
        if any(cell.lower() in _NA_TOKENS for cell in cells):
            return None
        return pd.Series(cells, dtype=object).astype(str)  # the dtype _column gives
    numeric = all(not isinstance(label, str) for label in labels)
    lookup = {_key(label, numeric): label for label in labels}
    keys = _text_keys(cells, numeric)
    if not all(key in lookup for key in keys):
        return None
    return pd.Series([lookup[key] for key in keys], dtype=object).infer_objects()


def _column(body: pd.DataFrame, position: int) -> pd.Series:
    """The stripped cells of one column, as Python strings."""
    return body[position].astype(object).astype(str).str.strip()


def _check_shape(text: str, spec: GradingSpec, rows: int, filename: str) -> None:
    """Refuse, before parsing, a file far wider or longer than a submission can be: parsing
    400,000 columns or millions of bogus rows would stall the controller for minutes."""
    width = len(spec.prediction_columns) + 1
    fields = text.split("\n", 1)[0].count(",") + 1  # at least the header's fields (quoted commas aside)
    if fields > width + 1000:
        raise SubmissionError("extra_columns", f"{filename} has {fields} columns in its header, expected {width}: "
                              f"{_columns_named([spec.id_column, *spec.prediction_columns])}")
    lines = text.count("\n")
    if lines > 2 * rows + 1000:
        raise SubmissionError("wrong_row_count", f"{filename} has about {lines} lines, expected {rows} rows "
                              "(one per id in test.csv) and a header")


def _read_bytes(workdir: Path, filename: str, max_bytes: int) -> bytes:
    """At most ``max_bytes`` of the regular file ``filename`` in ``workdir``, never via a symlink."""
    dir_fd = os.open(workdir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        fd = _open(filename, dir_fd)
    finally:
        os.close(dir_fd)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise SubmissionError(
                "not_regular_file", f"{filename} is a {_file_type(info.st_mode)}, not a regular file; write a CSV file"
            )
        _check_size(info.st_size, filename, max_bytes)
        data = _read_at_most(fd, max_bytes + 1)
    finally:
        os.close(fd)
    # The file may have grown since fstat: what was read decides.
    _check_size(len(data), filename, max_bytes)
    return data


def _open(filename: str, dir_fd: int) -> int:
    # O_NOFOLLOW: a symlink fails with ELOOP instead of being followed, even one inside the work dir
    # (the target could change after a check). O_NONBLOCK: opening a FIFO must not wait for a writer.
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        return os.open(filename, flags, dir_fd=dir_fd)
    except FileNotFoundError:
        raise SubmissionError("missing_file", _missing_message(filename, dir_fd)) from None
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise SubmissionError(
                "symlink", f"{filename} is a symbolic link; links are not followed: write the file itself"
            ) from None
        if error.errno == errno.ENXIO:  # a socket
            raise SubmissionError("not_regular_file", f"{filename} is a socket, not a regular file") from None
        raise SubmissionError("unreadable", f"{filename} cannot be opened: {error.strerror}") from None


def _missing_message(filename: str, dir_fd: int) -> str:
    message = f"there is no {filename} in the work dir: your code must write ./{filename} (the current directory)"
    try:
        with os.scandir(dir_fd) as entries:  # a huge directory is not read whole
            others = sorted(entry.name for _, entry in zip(range(10_000), entries, strict=False)
                            if entry.name.lower().endswith(".csv"))
    except OSError:
        others = []
    if others:
        message += f"; CSV files found there: {_sample([_show(name) for name in others])}"
    return message


def _file_type(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "directory"
    if stat.S_ISFIFO(mode):
        return "FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    return "special file"


def _check_size(size: int, filename: str, max_bytes: int) -> None:
    if size > max_bytes:
        raise SubmissionError(
            "too_large",
            f"{filename} is larger than the limit of {max_bytes} bytes ({size} bytes or more); "
            "write only the id and prediction columns, one row per id",
        )
    if size == 0:
        raise SubmissionError("empty", f"{filename} is empty (0 bytes); write a header line and one row per id")


def _read_at_most(fd: int, limit: int) -> bytes:
    chunks: list[bytes] = []
    remaining = limit
    while remaining > 0:
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _decode(data: bytes, filename: str) -> str:
    """The text of ``data``, which must be UTF-8 (a leading byte-order mark is allowed and dropped)."""
    skipped = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        text = data[skipped:].decode("utf-8")
    except UnicodeDecodeError as error:
        offset = skipped + error.start
        line = data.count(b"\n", 0, offset) + 1
        raise SubmissionError(
            "encoding",
            f"{filename} is not valid UTF-8: byte 0x{data[offset]:02x} at offset {offset} (line {line}); "
            "write it with encoding='utf-8' (the default of pandas' to_csv)",
        ) from None
    if not text.strip():
        raise SubmissionError("empty", f"{filename} holds only whitespace; write a header line and one row per id")
    return text


def _parse_csv(text: str, filename: str) -> tuple[list[str], pd.DataFrame]:
    """The header (stripped names) and the data rows, every cell a string; blank lines are skipped.

    A row with more fields than the header is an error; a shorter one gets empty cells (which
    the checks on values report as empty, by id).
    """
    try:
        # header=None: the header is read as a row, so pandas never takes a column for an index.
        table = pd.read_csv(io.StringIO(text), header=None, dtype=str, na_filter=False, skip_blank_lines=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as error:
        reason = str(error).strip().removeprefix("Error tokenizing data. C error: ")
        raise SubmissionError("not_csv", f"{filename} is not valid CSV: {reason}; quote values that contain commas") \
            from None
    header = [str(name).strip() for name in table.iloc[0]]
    body = table.iloc[1:].reset_index(drop=True)
    if body.empty:
        raise SubmissionError("wrong_row_count", f"{filename} has a header but no rows; write one row per id")
    return header, body


def _check_columns(header: list[str], spec: GradingSpec, filename: str) -> dict[str, int]:
    """The position of each needed column in ``header``; the header must hold exactly those."""
    expected = [spec.id_column, *spec.prediction_columns]
    shown = ",".join(map(_show, header[:_SHOWN * 2])) + (f",... ({len(header)} in all)" if len(header) > _SHOWN * 2
                                                         else "")
    found = f"expected the columns {','.join(expected)}, found {shown}"
    missing = [name for name in expected if name not in header]
    if missing:
        hints = [f"{name!r} is there as {_show(other)}" for name in missing for other in header
                 if other != name and other.lower() == name.lower()]
        hint = f" (names are case-sensitive: {'; '.join(hints)})" if hints else ""
        raise SubmissionError("missing_columns", f"{filename} lacks {_columns_named(missing)}; {found}{hint}")
    duplicates = sorted(name for name, count in Counter(header).items() if count > 1)
    if duplicates:
        raise SubmissionError("extra_columns", f"{filename} repeats {_columns_named(duplicates)}; {found}")
    extra = [name for name in header if name not in expected]
    if extra:
        index_like = any(name == "" or name.startswith("Unnamed") for name in extra)
        hint = "; an unnamed first column is the DataFrame index: use to_csv(..., index=False)" if index_like else ""
        raise SubmissionError("extra_columns", f"{filename} has {_columns_named(extra, 'extra ')}; {found}{hint}")
    return {name: header.index(name) for name in expected}


def _check_ids(submitted: pd.Series, keys: pd.Series, expected_keys: pd.Index, filename: str) -> NDArray[np.intp]:
    """The row of each expected id, in order; SubmissionError unless there is exactly one row per id.

    The code names the first problem of duplicate ids, unknown ids, missing ids; the message
    lists all three.
    """
    slot = expected_keys.get_indexer(keys)  # each row's expected id, or -1
    known = slot >= 0
    counts = np.bincount(slot[known], minlength=len(expected_keys))
    repeated = keys[keys.duplicated(keep=False)]
    unknown = keys[~known].drop_duplicates()
    missing = expected_keys[counts == 0]
    if repeated.empty and unknown.empty and missing.empty:
        order = np.empty(len(expected_keys), dtype=np.intp)
        order[slot] = np.arange(len(keys))
        return order
    parts = [f"{filename} has {_count(len(keys), 'row')}, expected {len(expected_keys)} (one per id in test.csv)"]
    if not repeated.empty:
        times = repeated.value_counts(sort=False)
        # Show each id as the agent first wrote it.
        first = repeated.drop_duplicates()
        shown = [f"{_show(submitted[i])} ({times[key]} times)" for i, key in first.iloc[:_SHOWN].items()]
        parts.append(f"ids that appear more than once: {_sample(shown, total=len(first))}")
    if not unknown.empty:
        shown = [_show(submitted[i]) for i in unknown.index[:_SHOWN]]
        parts.append(f"ids not in test.csv: {_sample(shown, total=len(unknown))}")
    if not missing.empty:
        parts.append(f"missing ids: {_sample(missing[:_SHOWN].tolist(), total=len(missing))}")
    code = "duplicate_ids" if not repeated.empty else "extra_ids" if not unknown.empty else "missing_ids"
    raise SubmissionError(code, "; ".join(parts))


def _predictions(cells: pd.Series, ids: pd.Series, column: str, spec: GradingSpec) -> pd.Series:
    """The checked values of one prediction column, aligned with ``ids``."""
    if spec.prediction_kind is PredictionKind.LABEL:
        return _label_predictions(cells, ids, column, spec.labels)
    missing = cells.str.lower().isin(_NA_TOKENS).to_numpy()
    _fail_on(missing, ids, "nan", f"column {column!r} is empty or NaN", "every row needs a prediction")
    values = pd.to_numeric(cells, errors="coerce").astype(float)
    array = values.to_numpy()
    # Every NaN left is text that is not a number: the NaN spellings were caught above.
    _fail_on(np.isnan(array), ids, "non_numeric", f"column {column!r} has values that are not numbers",
             "write plain numbers like 0.25", cells)
    for bad, code, what, advice in _value_checks(array, column, spec):
        _fail_on(bad, ids, code, what, advice, cells)
    return values


def _value_checks(
    array: NDArray[np.float64], column: str, spec: GradingSpec
) -> Iterator[tuple[NDArray[np.bool_], str, str, str]]:
    """The checks on the numbers of one column, in order: the rows each refuses, its code and words."""
    if spec.prediction_kind is PredictionKind.PROBABILITY:
        yield ((array < 0) | (array > 1), "out_of_range",
               f"column {column!r} holds probabilities, which must be in [0, 1]", "clip them to [0, 1]")
    yield np.isinf(array), "infinite", f"column {column!r} has infinite values", "predictions must be finite numbers"
    metric = _builtin_metric(spec)
    if metric is not None and metric.non_negative is not None:
        yield (array < 0, "negative_values", f"column {column!r} has negative values",
               f"{metric.name} {metric.non_negative}, so predictions must be >= 0: clip them at 0")


def _builtin_metric(spec: GradingSpec) -> Metric | None:
    """The metric that grades ``spec``, or None when the task's grade.py does."""
    return None if spec.metric == CUSTOM else get_metric(spec.metric)


def _label_predictions(cells: pd.Series, ids: pd.Series, column: str, labels: tuple[Label, ...] | None) -> pd.Series:
    """Labels as the ``labels``' own values (``"1.0"`` is label ``1``), or stripped strings without labels."""
    na = cells.str.lower().isin(_NA_TOKENS).to_numpy()
    if labels is None:
        _fail_on(na, ids, "nan", f"column {column!r} is empty or NaN", "every row needs a label")
        return cells
    numeric = all(not isinstance(label, str) for label in labels)
    lookup = {_key(label, numeric): label for label in labels}
    keys = _keys(cells, numeric)
    unknown = ~keys.isin(list(lookup)).to_numpy()
    _fail_on(unknown & na, ids, "nan", f"column {column!r} is empty or NaN", "every row needs a label")
    _fail_on(unknown, ids, "bad_labels", f"column {column!r} has values that are not labels",
             f"the labels are: {', '.join(map(str, labels))}", cells)
    return keys.map(lookup).astype(object).infer_objects()


def _fail_on(
    bad: NDArray[np.bool_], ids: pd.Series, code: str, what: str, advice: str, cells: pd.Series | None = None
) -> None:
    """Raise ``code`` when any row is ``bad``, naming the ids (and the values) of the first few."""
    rows = np.flatnonzero(bad)
    if not len(rows):
        return
    first = rows[:_SHOWN].tolist()
    if cells is None:
        where = f"{'id' if len(rows) == 1 else 'ids'} {_sample([_show(str(ids[i])) for i in first], total=len(rows))}"
    else:
        where = _sample([f"id {_show(str(ids[i]))}: {_show(str(cells[i]))}" for i in first], total=len(rows))
    raise SubmissionError(code, f"{what}: {len(rows)} of {_count(len(ids), 'row')} ({where}); {advice}")


def _columns_named(names: Sequence[str], adjective: str = "") -> str:
    """``the column 'a'`` or ``the columns 'a', 'b'`` (``adjective`` goes before "column")."""
    noun = "column " if len(names) == 1 else "columns "
    return f"the {adjective}{noun}" + _sample([_show(name) for name in names])


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _show(value: str) -> str:
    """A value written by the agent, for a message of ours: quoted, escaped to one line, cut short."""
    return quote(value, 40)


def _sample(items: Sequence[str], total: int | None = None) -> str:
    """The first few items, and how many there are in all when some are left out."""
    total = len(items) if total is None else total
    shown = ", ".join(items[:_SHOWN])
    return shown if total <= _SHOWN else f"{shown}, ... ({total} in all)"


# --------------------------------------------------------------------------- the score


def score_submission(
    spec: GradingSpec,
    submission: pd.DataFrame,
    answers: pd.DataFrame,
    custom: CustomGrader | None = None,
) -> float:
    """The score of ``submission`` (from ``read_submission``) against ``answers``, aligned with it.

    ``custom`` is the task's ``grade(submission, answers)``: used, on copies of both frames, when
    the metric is ``"custom"`` and only then. Raises SubmissionError ``"grader"`` when the score is
    not a finite number; exceptions raised by ``custom`` itself propagate unchanged.
    """
    if spec.answer_column not in answers.columns or spec.id_column not in answers.columns:
        raise TaskFormatError(f"the answers need the columns {spec.id_column!r} and {spec.answer_column!r}")
    _check_aligned(spec, submission, answers)
    if spec.metric == CUSTOM:
        if custom is None:
            raise TaskFormatError("metric = 'custom' needs grade.py with grade(submission, answers) -> float")
        value: object = custom(submission.copy(), answers.copy())
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
            raise TaskFormatError(f"grade.py's grade() returned {value!r}, not a number")
    else:
        if custom is not None:
            raise TaskFormatError(f"grade.py is only used with metric = 'custom', not {spec.metric!r}")
        y_true, y_pred = _arrays(spec, submission, answers)
        metric = get_metric(spec.metric)
        fn = metric.small if metric.small is not None and _small(len(y_true)) else metric.fn
        with np.errstate(over="ignore", invalid="ignore"):  # an overflow shows as a non-finite score below
            value = fn(y_true, y_pred)
    score = float(value)
    if not math.isfinite(score):
        raise SubmissionError(
            "grader", f"the score ({spec.metric}) is {score}, not a finite number; look for extreme predictions"
        )
    return score


def _check_aligned(spec: GradingSpec, submission: pd.DataFrame, answers: pd.DataFrame) -> None:
    ours, theirs = submission[spec.id_column], answers[spec.id_column]
    if len(ours) == len(theirs) and np.array_equal(ours.to_numpy(), theirs.to_numpy()):
        return  # read_submission's frame holds the answers' own ids
    numeric = _is_numeric(theirs)
    if len(ours) != len(theirs) or not _keys(ours, numeric).reset_index(drop=True).equals(
        _keys(theirs, numeric).reset_index(drop=True)
    ):
        raise ValueError("submission and answers are not aligned: read it with expected_ids=answers[id_column]")


def _arrays(
    spec: GradingSpec, submission: pd.DataFrame, answers: pd.DataFrame
) -> tuple[NDArray[np.generic], NDArray[np.generic]]:
    """``(y_true, y_pred)`` in the form the metric takes (see ``_metrics``)."""
    truth = answers[spec.answer_column].reset_index(drop=True)
    if truth.isna().any():
        raise TaskFormatError(f"the answers' {spec.answer_column} column has missing values")
    predictions = submission[spec.prediction_columns[0]].reset_index(drop=True)
    if _small(len(truth)):
        arrays = _small_arrays(spec, truth, predictions, submission)
        if arrays is not None:
            return arrays
    if spec.prediction_kind is PredictionKind.VALUE or get_metric(spec.metric).ratings:
        ids = submission[spec.id_column].reset_index(drop=True)
        return _floats(truth), _prediction_floats(predictions, ids, spec.metric)
    if spec.prediction_kind is PredictionKind.LABEL:
        ids = submission[spec.id_column].reset_index(drop=True)
        return _label_keys(truth, predictions, ids)
    if spec.multiclass:
        return _class_indices(truth, spec), submission[list(spec.prediction_columns)].to_numpy(dtype=float)
    return _binary_truth(truth, spec), predictions.to_numpy(dtype=float)


def _small_arrays(
    spec: GradingSpec, truth: pd.Series, predictions: pd.Series, submission: pd.DataFrame
) -> tuple[NDArray[np.generic], NDArray[np.generic]] | None:
    """``_arrays`` without pandas' string methods, for the plain cases; None where they decide."""
    if spec.prediction_kind is PredictionKind.VALUE or get_metric(spec.metric).ratings:
        if not (_is_numeric(truth) and _is_numeric(predictions)):
            return None  # text to convert: pandas.to_numeric's rules
        values = predictions.to_numpy(dtype=float)
        return None if np.isnan(values).any() else (truth.to_numpy(dtype=float), values)
    if pd.api.types.is_bool_dtype(truth):
        return None  # True/False answers take their own spellings (_label_keys, _binary_truth)
    numeric = _is_numeric(truth)
    truth_keys = _small_keys(truth, numeric)
    if truth_keys is None:
        return None
    if spec.prediction_kind is PredictionKind.LABEL:
        predicted = _small_keys(predictions, numeric)
        return None if predicted is None else (np.array(truth_keys, dtype=object), np.array(predicted, dtype=object))
    classes = ("0", "1") if spec.labels is None else tuple(_key(label, numeric) for label in spec.labels)
    position = {key: index for index, key in enumerate(classes)}
    if not all(key in position for key in truth_keys):
        return None  # answers outside the classes: the task's error, raised there
    if spec.multiclass:
        indices = np.array([position[key] for key in truth_keys], dtype=np.int64)
        return indices, submission[list(spec.prediction_columns)].to_numpy(dtype=float)
    return np.array([key == classes[1] for key in truth_keys], dtype=np.int64), predictions.to_numpy(dtype=float)


def _label_keys(truth: pd.Series, predictions: pd.Series,
                ids: pd.Series) -> tuple[NDArray[np.object_], NDArray[np.object_]]:
    """Answers and predictions as comparable keys: the prediction "1" (or 1.0) is the answer 1.

    Boolean answers (a CSV's True/False) take 1/0 and true/false in any case; any other
    prediction is SubmissionError ``bad_labels``, not a silent miss.
    """
    if pd.api.types.is_bool_dtype(truth):
        keys = _keys(predictions, numeric=True).str.lower().map(_BOOLEAN_KEYS)
        _fail_on(keys.isna().to_numpy(), ids, "bad_labels", f"column {predictions.name!r} has values that are not "
                 "booleans", "the answers are True or False: write True/False or 1/0", predictions.astype(str))
        return truth.map({True: "True", False: "False"}).to_numpy(dtype=object), keys.to_numpy(dtype=object)
    numeric = _is_numeric(truth)
    return _keys(truth, numeric).to_numpy(dtype=object), _keys(predictions, numeric).to_numpy(dtype=object)


def _floats(truth: pd.Series) -> NDArray[np.float64]:
    try:
        return pd.to_numeric(truth).to_numpy(dtype=float)  # type: ignore[no-any-return]
    except (ValueError, TypeError):
        raise TaskFormatError(f"the answers' {truth.name} column must hold numbers for this metric") from None


def _prediction_floats(predictions: pd.Series, ids: pd.Series, metric: str) -> NDArray[np.float64]:
    """Predictions as floats; SubmissionError ``non_numeric`` (e.g. a rating ``"high"``) otherwise."""
    values = pd.to_numeric(predictions, errors="coerce").to_numpy(dtype=float)
    _fail_on(np.isnan(values), ids, "non_numeric", f"column {predictions.name!r} has values that are not numbers",
             f"{metric} grades numeric ratings", predictions.astype(str))
    return values  # type: ignore[no-any-return]


def _class_indices(truth: pd.Series, spec: GradingSpec) -> NDArray[np.int64]:
    """Each answer's position among ``labels`` (the prediction columns' classes)."""
    assert spec.labels is not None  # from_table: multi-class probabilities have labels
    numeric = _is_numeric(truth)
    position = {_key(label, numeric): index for index, label in enumerate(spec.labels)}
    keys = _keys(truth, numeric)
    unknown = keys[~keys.isin(list(position))].unique().tolist()
    if unknown:
        raise TaskFormatError(f"the answers hold classes that are not among labels: {_sample(sorted(unknown))}")
    return keys.map(position).to_numpy(dtype=np.int64)  # type: ignore[no-any-return]


def _binary_truth(truth: pd.Series, spec: GradingSpec) -> NDArray[np.int64]:
    """The answers as 0/1: ``labels[1]`` is the positive class, or the answers already are 0/1."""
    if pd.api.types.is_bool_dtype(truth):
        truth = truth.astype(int)
    numeric = _is_numeric(truth)
    negative, positive = ("0", "1") if spec.labels is None else (_key(label, numeric) for label in spec.labels)
    keys = _keys(truth, numeric)
    unknown = keys[~keys.isin([negative, positive])].unique().tolist()
    if unknown:
        raise TaskFormatError(
            f"binary answers must be {negative} or {positive} (set labels = [negative, positive]), "
            f"found {_sample(sorted(unknown))}"
        )
    return (keys == positive).to_numpy(dtype=np.int64)  # type: ignore[no-any-return]
