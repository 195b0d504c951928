"""Importers: an MLE-bench or MLE-Dojo competition on this host becomes an ordinary task folder.

Both importers write ``<tasks_root>/<domain>/<name>/`` (tasks/README.md, "Importing
competitions")::

    task.toml         metric = "custom"; columns from the sample submission; sources hidden
    description.md    the competition's description, as it is
    prepare.py        the recorded parameters, handed to dojo_lite.recipes.ImportedData
    grade.py          the recorded grader, loaded by dojo_lite.graders (mledojo_grader, mlebench_grader)
    leaderboard.csv   team,score from the competition's leaderboard
    solutions/        simple.py (the sample submission) and reference.py (a prior), for the baseline agent
    source/           the competition's prepared data: public/ and its answers file in private/
    competition/      MLE-Dojo: the metric.py that grade.py loads
    import.toml       where it all came from (paths, digests, date); dojo_lite does not read it

The generated ``prepare.py`` and ``grade.py`` hold only what the import recorded (as Python
literals) and a call into :mod:`dojo_lite.recipes` or :mod:`dojo_lite.graders`, where the logic
lives, typed and tested; the solutions are the only code written here, as they run in the jail
where dojo_lite is not.

Where the data lives: the importer copies the competition's prepared data into ``source/`` of the
task folder, and ``prepare.py`` reads it only from there, after checking its SHA-256 (written into
``prepare.py`` itself, so that the data cache follows it).  The task then stands on its own: it
prepares the same bytes wherever the competition's folders go later, and the folder is
hidden from agent code like every task folder.  The competition's own folders (its prepared data,
the raw download) are recorded in ``sources``, so that the jail hides them too where it would
show them.  An MLE-bench grader imports helpers of its checkout (``mlebench.*``): the task's
``grade.py`` loads it from the checkout recorded at import, after checking that the grader's file
is still the one imported.

Everything here runs in the controller: the competition's code (MLE-bench's ``prepare.py``, its
grader, MLE-Dojo's metric) is trusted, like any task's ``prepare.py`` and ``grade.py``.
"""

from __future__ import annotations

import contextlib
import csv
import datetime
import hashlib
import importlib
import importlib.metadata
import inspect
import io
import logging
import math
import os
import re
import secrets
import shutil
import stat
import string
import textwrap
import tomllib
import traceback
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path, PurePosixPath
from types import ModuleType
from typing import Any

import attrs
import pandas as pd

from ._errors import DojoError, SubmissionError, TaskImportError
from ._grading import read_submission, score_submission
from ._metrics import Direction, PredictionKind
from ._scores import Leaderboard
from ._task import VARIANTS, Task
from .graders import checkout_modules, is_metric_class, load_metric_module
from .recipes import tree_digest

__all__ = ["MICRO_ROWS", "MICRO_TEST", "import_mlebench", "import_mledojo"]

_log = logging.getLogger("dojo_lite")

MICRO_TEST = 200    # test ids in an imported task's micro variant
MICRO_ROWS = 500    # rows of every other CSV in it
RECORD = "import.toml"
_SEED = 20250101
_ID = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_DOMAINS = ("tabular", "vision", "nlp", "timeseries")
_DOMAIN_NAMES = {"cv": "vision", "computer vision": "vision", "image": "vision", "images": "vision",
                 "text": "nlp", "time series": "timeseries", "time-series": "timeseries"}
_IMAGES = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".gif", ".webp", ".dcm", ".npy"}
_PRELOAD = ["numpy", "pandas", "sklearn"]
_LFS = b"version https://git-lfs.github.com/spec/"


# --------------------------------------------------------------------------- public functions


def import_mledojo(
    competition_dir: str | os.PathLike[str],
    tasks_root: str | os.PathLike[str],
    *,
    data_dir: str | os.PathLike[str] | None = None,
    metric: str | os.PathLike[str] | type | None = None,
    task_id: str | None = None,
    domain: str | None = None,
    higher_is_better: bool | None = None,
    overwrite: bool = False,
) -> Task:
    """The prepared MLE-Dojo competition in ``competition_dir`` as a task folder under ``tasks_root``.

    ``data_dir`` (default ``competition_dir/data``, or ``competition_dir`` itself when it holds
    ``public/`` and ``private/``) holds MLE-Dojo's prepared layout: ``public/`` with
    ``description.txt`` and ``sample_submission.csv``, ``private/`` with ``test_answer.csv`` and
    the leaderboards.  ``metric`` is the competition's metric: a path to its ``metric.py`` (default
    ``competition_dir/utils/metric.py``) or its ``CompetitionMetrics`` subclass (whose source file
    is copied and loaded by the task's ``grade.py``).  ``higher_is_better`` overrides the metric's
    own.  ``task_id`` is ``domain/name`` or a name (default: the competition's folder name, in
    ``domain``, else ``vision`` when the public data holds images, else ``tabular``).

    Returns the task, loaded, its data prepared (both variants) and its grader checked on the
    competition's own sample submission.  A folder already there is returned as it is when it was
    imported from the same inputs; otherwise it is replaced only with ``overwrite``.

    Raises :class:`TaskImportError` naming what is missing or wrong (nothing is left behind).
    """
    competition = _existing_dir(competition_dir, "the competition folder")
    data = _mledojo_data_dir(competition, data_dir)
    public, private = _existing_dir(data / "public", "public/"), _existing_dir(data / "private", "private/")
    sample = _existing_file(public / "sample_submission.csv", "the sample submission")
    answers = _existing_file(private / "test_answer.csv", "the answers")
    description = _first_file([public / "description.txt", competition / "info" / "description.txt"],
                              "description.txt")
    metric_file, metric_class = _metric_source(competition, metric)
    loaded = _load_metric(metric_file, metric_class)
    direction = _mledojo_direction(loaded, higher_is_better)
    board = _first_file([private / "private_leaderboard.csv", competition / "info" / "private_leaderboard.csv"],
                        None)
    name = _name(task_id, competition.parent.name if competition == data and competition.name == "data"
                 else competition.name)
    raw = data.parent / "raw" if data.name == "data" else None
    sources = _sources([competition, data, *([raw] if raw is not None and raw.is_dir() else [])])
    inputs = _digest_paths({"public": public, "answers": answers, "metric": metric_file, "description": description,
                            **({"leaderboard": board} if board else {})},
                           f"mledojo {loaded.__name__} {direction.value} {sample.name}")
    final = _destination(tasks_root, task_id, domain, name, lambda: _guess_domain(_names_under(public)))

    def build(folder: Path) -> _Written:
        _copy_tree(public, folder / "source" / "public")
        _copy_file(answers, folder / "source" / "private" / answers.name)
        spec = _inspect(folder / "source" / "public" / sample.name, folder / "source" / "private" / answers.name)
        _copy_file(metric_file, folder / "competition" / "metric.py")
        entries = _write_leaderboard(board, folder / "leaderboard.csv", direction, "mledojo")
        (folder / "description.md").write_text(_read_text(description), encoding="utf-8")
        doc = (f"The grader of the MLE-Dojo competition {name}: its metric {loaded.__name__}, from "
               "competition/metric.py (copied there at import).\n\n"
               "The metric gets the submission and the answers as MLE-Dojo reads them (pd.read_csv of the "
               "files): validate_submission(submission, answers) first, then evaluate(answers, submission). "
               "Its InvalidSubmissionError is the agent's submission_error, with its message; anything else "
               "it raises is this task's bug (a task_error). dojo_lite.graders.mledojo_grader says how.")
        grade = _render(_MLEDOJO_GRADE, doc, CLASS=loaded.__name__, MODULE=_module_name(final, "metric"),
                        INTEGERS=list(spec.integer_columns))
        provenance = (f"Imported by dojo-lite's MLE-Dojo importer on {_today()} from the competition at "
                      f"{competition} (data {data}, metric {loaded.__name__} in {metric_file}). " +
                      (f"leaderboard.csv is its private leaderboard ({board}): {entries} entries (teams named "
                       "rank-N where the file names none, as MLE-Dojo's do not)." if board else
                       "It has no private_leaderboard.csv: runs get a raw score only."))
        record = {"importer": "mledojo", "competition": str(competition), "data": str(data),
                  "metric": str(metric_file), "metric_class": loaded.__name__,
                  "leaderboard": str(board or ""), "description": str(description)}
        return _Written(spec, direction, sample.name, answers.name, grade, name, provenance, record)

    return _import(final, inputs, sources, overwrite, build)


def import_mlebench(
    competition_dir: str | os.PathLike[str],
    raw: str | os.PathLike[str],
    tasks_root: str | os.PathLike[str],
    *,
    task_id: str | None = None,
    domain: str | None = None,
    overwrite: bool = False,
) -> Task:
    """The MLE-bench competition in ``competition_dir`` (``mlebench/competitions/<id>/`` of an
    MLE-bench checkout) as a task folder under ``tasks_root``, its data prepared from ``raw``.

    ``raw`` is the competition's Kaggle download: a folder, or the ``.zip`` itself (extracted
    safely: an entry with an absolute name, a ``..``, a link or a device is refused).  The
    competition's ``prepare(raw, public, private)`` runs once, here; its ``grade(submission,
    answers)`` grades the task's runs, loaded from the checkout.  The direction is MLE-bench's:
    lower is better when the leaderboard's top score is below its bottom one.  ``task_id`` is
    ``domain/name`` or a name (default: the competition's id, in ``domain``, else ``vision``
    when the raw data holds images, else ``tabular``).

    Returns the task, loaded, its data prepared (both variants) and its grader checked on the
    competition's own sample submission.  A folder already there is returned as it is when it was
    imported from the same inputs; otherwise it is replaced only with ``overwrite``.

    Raises :class:`TaskImportError` naming what is missing or wrong (nothing is left behind).
    """
    competition = _existing_dir(competition_dir, "the competition folder")
    checkout = _checkout_root(competition)
    config = _mlebench_config(competition / "config.yaml")
    grade_module, grade_function = _import_string(config, ("grader", "grade_fn"))
    prepare_module, prepare_function = _import_string(config, ("preparer",))
    grader_file = _module_file(checkout, grade_module, "the grader")
    _module_file(checkout, prepare_module, "the preparer")
    answers_part, answers_name = _prepared_path(config, "answers")
    sample_part, sample_name = _prepared_path(config, "sample_submission")
    if answers_part != "private" or sample_part != "public":
        raise TaskImportError(f"{competition}: the answers must be in prepared/private/ and the sample submission "
                              f"in prepared/public/ (found {answers_part}/{answers_name}, {sample_part}/{sample_name})")
    if not answers_name.endswith(".csv"):
        raise TaskImportError(f"{competition}: its answers are {answers_name}; dojo_lite grades against CSV answers "
                              "only (an id column and the truth)")
    board = _existing_file(competition / "leaderboard.csv", "leaderboard.csv")
    description = _first_file([checkout / str(config.get("description", "")), competition / "description.md"],
                              "description.md")
    raw_path = Path(raw).expanduser().resolve()
    if not raw_path.exists():
        raise TaskImportError(f"the raw data {raw_path} does not exist: give the competition's Kaggle download "
                              "(its folder or its .zip)")
    if raw_path.is_file() and raw_path.suffix.lower() != ".zip":
        raise TaskImportError(f"the raw data {raw_path} is neither a folder nor a .zip")
    direction = _leaderboard_direction(board)
    competition_id = str(config.get("id") or competition.name)
    name = _name(task_id, competition_id)
    # A .zip is hidden with its folder: the jail hides folders, not files.
    sources = _sources([competition, raw_path if raw_path.is_dir() else raw_path.parent])
    inputs = _digest_paths({"raw": raw_path, "competition": competition, "description": description},
                           f"mlebench {competition_id} {grade_module}:{grade_function} {direction.value}")
    final = _destination(tasks_root, task_id, domain, name, lambda: _guess_domain(_raw_names(raw_path)))

    def build(folder: Path) -> _Written:
        raw_dir = raw_path
        if raw_path.is_file():
            raw_dir = folder / ".raw"
            _extract(raw_path, raw_dir)
        public, private = folder / "source" / "public", folder / "source" / "prepared-private"
        public.mkdir(parents=True)
        private.mkdir(parents=True)
        with checkout_modules(checkout):  # what prepare() imports as it runs comes from there too
            prepare = _function(prepare_module, prepare_function, "the preparer")
            try:
                prepare(raw=raw_dir, public=public, private=private)
            except Exception as exc:
                raise TaskImportError(f"{competition_id}'s prepare() failed on {raw_path}:\n"
                                      f"{traceback.format_exc()}") from exc
        (public / "description.md").write_text(_read_text(description), encoding="utf-8")  # as MLE-bench does
        if raw_dir != raw_path:
            shutil.rmtree(raw_dir)  # the extracted download: source/ holds what the task needs
        produced = _existing_file(private / answers_name, f"the answers {answers_name} (from prepare())")
        _existing_file(public / sample_name, f"the sample submission {sample_name} (from prepare())")
        # Only the answers are kept of private/: the grader gets nothing else.
        _copy_file(produced, folder / "source" / "private" / answers_name)
        shutil.rmtree(private)
        _refuse_links(folder / "source")
        spec = _inspect(public / sample_name, folder / "source" / "private" / answers_name)
        entries = _write_leaderboard(board, folder / "leaderboard.csv", direction, "mlebench")
        (folder / "description.md").write_text(_read_text(description), encoding="utf-8")
        doc = (f"The grader of the MLE-bench competition {competition_id}: {grade_module}:{grade_function}, "
               f"from the checkout {checkout}.\n\n"
               "It is loaded from there (it imports the checkout's helpers, mlebench.*), after checking that "
               "its file is still the one imported, and gets the submission and the answers as MLE-bench's "
               "read_csv reads them. Its InvalidSubmissionError is the agent's submission_error, with its "
               "message; anything else it raises is this task's bug (a task_error). Unlike MLE-bench, the "
               "score is not rounded to five decimals: the leaderboard's own precision decides ties. "
               "dojo_lite.graders.mlebench_grader says how.")
        grade = _render(_MLEBENCH_GRADE, doc, CHECKOUT=str(checkout), GRADE_FN=f"{grade_module}:{grade_function}",
                        GRADER_FILE=str(grader_file), GRADER_SHA256=_file_digest(grader_file),
                        INTEGERS=list(spec.integer_columns))
        provenance = (f"Imported by dojo-lite's MLE-bench importer on {_today()} from the competition "
                      f"{competition_id} at {competition} (checkout {checkout}), its data prepared by its "
                      f"prepare() from {raw_path}. leaderboard.csv is its leaderboard.csv ({entries} entries with a "
                      f"score), {direction.value}d as MLE-bench infers it (top score against bottom score).")
        record = {"importer": "mlebench", "competition": str(competition), "checkout": str(checkout),
                  "raw": str(raw_path), "grader": f"{grade_module}:{grade_function}", "grader_file": str(grader_file),
                  "leaderboard": str(board), "description": str(description)}
        title = str(config.get("name") or competition_id)
        return _Written(spec, direction, sample_name, answers_name, grade, title, provenance, record)

    return _import(final, inputs, sources, overwrite, build)


# --------------------------------------------------------------------------- the common part


@attrs.frozen
class _Spec:
    """What the sample submission and the answers say about grading."""

    id_column: str
    prediction_columns: tuple[str, ...]
    kind: PredictionKind
    integer_columns: tuple[str, ...]
    answer_column: str
    rows: int


@attrs.frozen
class _Written:
    """What an importer's ``build`` wrote and found; the rest of the folder follows from it."""

    spec: _Spec
    direction: Direction
    sample: str          # the sample submission, relative to source/public
    answers: str         # the answers file, relative to source/private
    grade: str           # grade.py's text
    title: str
    provenance: str
    record: dict[str, str]


def _import(final: Path, inputs: str, sources: list[str], overwrite: bool,
            build: Callable[[Path], _Written]) -> Task:
    """Build the task folder in a staging folder beside ``final``, put it in place, check it."""
    if final.exists():
        if _recorded_inputs(final) == inputs:
            _log.info("%s was imported from the same inputs: kept as it is", final)
            return Task.load(final)
        if not overwrite:
            raise TaskImportError(f"{final} already exists (imported from other inputs, or not an import): "
                                  "pass overwrite=True (--overwrite) to replace it")
    staging = final.with_name(f".{final.name}.import-{secrets.token_hex(4)}")
    try:
        staging.mkdir(parents=True)
    except OSError as exc:
        raise TaskImportError(f"cannot write under {final.parent}: {exc}") from exc
    old: Path | None = None
    try:
        written = build(staging)
        _finish(staging, final, written, inputs, sources)
        if final.exists():
            old = final.with_name(f".{final.name}.old-{secrets.token_hex(4)}")
            final.rename(old)
        staging.rename(final)
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if old is not None and not final.exists():
            old.rename(final)
        if isinstance(exc, OSError):  # say, another import put a folder there meanwhile
            raise TaskImportError(f"cannot write the task folder {final}: {exc}") from exc
        raise
    try:
        task = Task.load(final)
        _verify(task)
    except BaseException as exc:
        with contextlib.suppress(Exception):
            shutil.rmtree(Task.load(final).data_dir(), ignore_errors=True)
        shutil.rmtree(final, ignore_errors=True)
        if old is not None:
            old.rename(final)
        if isinstance(exc, TaskImportError) or not isinstance(exc, Exception):
            raise
        raise TaskImportError(f"the imported task does not work: {exc}") from exc
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return task


def _finish(folder: Path, final: Path, written: _Written, inputs: str, sources: list[str]) -> None:
    """The files every imported task has: task.toml, prepare.py, grade.py, solutions, import.toml."""
    spec = written.spec
    source_digest = tree_digest(folder / "source")
    kind = {"mledojo": "MLE-Dojo", "mlebench": "MLE-bench"}[written.record["importer"]]
    doc = (f"Data of the {kind} competition {written.title}, imported by dojo-lite on {_today()} (import.toml "
           "says from where).\n\n"
           "full: every file of source/public as it is, and the competition's answers file as "
           f"private/answers.csv. micro: the same files, smaller ({MICRO_TEST} test ids drawn with the seed and "
           f"only their rows where a CSV holds test ids, at most {MICRO_ROWS} rows of every other CSV, a file "
           "that a CSV's cell names only if a kept row names it). dojo_lite.recipes.ImportedData says how.\n\n"
           "source/ must stay as it was imported: its SHA-256 is checked first (and is part of the data "
           "cache key, as this file is).")
    (folder / "prepare.py").write_text(_render(
        _PREPARE, doc, SHA256=source_digest, ANSWERS=written.answers, SAMPLE=written.sample,
        ID_COLUMN=spec.id_column, SEED=_SEED, MICRO_TEST=MICRO_TEST, MICRO_ROWS=MICRO_ROWS), encoding="utf-8")
    (folder / "grade.py").write_text(written.grade, encoding="utf-8")
    (folder / "solutions").mkdir()
    (folder / "solutions" / "simple.py").write_text(_SIMPLE, encoding="utf-8")
    (folder / "solutions" / "reference.py").write_text(_render(
        _REFERENCE, None, COLUMNS=list(spec.prediction_columns), MEANS=[c for c in spec.prediction_columns if
                                                                   spec.kind is PredictionKind.VALUE and
                                                                   c not in spec.integer_columns]),
        encoding="utf-8")
    grading = {"metric": "custom", "direction": written.direction.value, "id_column": spec.id_column,
               "prediction_columns": list(spec.prediction_columns), "prediction_kind": spec.kind.value,
               "answer_column": spec.answer_column}
    lines = [f"# Imported by dojo-lite ({written.record['importer']}); import.toml says from where.",
             f"id = {toml_value(final.parent.name + '/' + final.name)}", f"title = {toml_value(written.title)}",
             f"domain = {toml_value(final.parent.name)}", "version = 1", f"preload = {toml_value(_PRELOAD)}",
             "# where the competition's data lies on this host: hidden from agent code",
             f"sources = {toml_value(sources)}", "", "[grading]  # grade.py: the competition's own grader",
             *(f"{key} = {toml_value(value)}" for key, value in grading.items()), "",
             "[budget]", "steps = 20", "seconds = 3600", "", "[limits]", "timeout = 300", 'memory = "4G"', "cpus = 1",
             "", "[validate]", "timeout = 60", "", "[leaderboard]",
             f"provenance = {toml_value(written.provenance)}", ""]
    (folder / "task.toml").write_text("\n".join(lines), encoding="utf-8")
    record = {**written.record, "imported_at": _now(), "dojo_lite": _version(), "inputs_sha256": inputs,
              "source_sha256": source_digest, "test_rows": str(spec.rows)}
    (folder / RECORD).write_text("".join(f"{key} = {toml_value(value)}\n" for key, value in record.items()),
                                 encoding="utf-8")


def _verify(task: Task) -> None:
    """Prepare both variants and grade the competition's sample submission on each, as the Judge
    would grade an agent's: what fails here would fail every episode."""
    spec = task.grading
    grader = task.custom_grader()
    for variant in VARIANTS:
        data = task.prepare(variant)
        answers = data.answers()
        try:
            submission = read_submission(data.public, spec, answers[spec.id_column], filename="sample_submission.csv")
            score_submission(spec, submission, answers, grader)
        except SubmissionError as exc:
            raise TaskImportError(f"{task.id}: the competition's own sample submission is refused on the {variant} "
                                  f"data: {exc.message}") from exc
        except DojoError:
            raise
        except Exception as exc:
            raise TaskImportError(f"{task.id}: the competition's grader fails on its own sample submission "
                                  f"({variant} data):\n{traceback.format_exc()}") from exc


def _recorded_inputs(folder: Path) -> str | None:
    """The digest of the inputs ``folder`` was imported from (None: not an import, or unreadable)."""
    try:
        value = tomllib.loads((folder / RECORD).read_text(encoding="utf-8")).get("inputs_sha256")
    except (OSError, ValueError):
        return None
    return value if isinstance(value, str) and (folder / "task.toml").is_file() else None


def _destination(tasks_root: str | os.PathLike[str], task_id: str | None, domain: str | None, name: str,
                 guess: Callable[[], str]) -> Path:
    """``tasks_root/<domain>/<name>``: the domain from ``task_id``, else ``domain``, else ``guess()``."""
    chosen = task_id.split("/")[0] if task_id and "/" in task_id else domain
    if chosen is None:
        chosen = guess()
    normal = _domain(chosen)
    if normal not in _DOMAINS:
        raise TaskImportError(f"domain {chosen!r} is not one of {', '.join(_DOMAINS)}")
    if task_id and "/" in task_id and domain is not None and _domain(domain) != normal:
        raise TaskImportError(f"task_id {task_id!r} and domain {domain!r} disagree")
    return Path(tasks_root).expanduser().resolve() / normal / name


def _domain(name: str) -> str:
    """A domain as dojo_lite spells it (MLE-Dojo's categories: ``"CV"`` is ``vision``, ...)."""
    key = name.strip().lower()
    return _DOMAIN_NAMES.get(key, key)


def _name(task_id: str | None, competition: str) -> str:
    """The task's name: ``task_id``'s (as given), else the competition's, made an id."""
    if task_id is not None:
        name = task_id.split("/", 1)[1] if "/" in task_id else task_id
        if not _ID.match(name) or "/" in name:
            raise TaskImportError(f"task id {task_id!r}: want DOMAIN/NAME or NAME, NAME in [a-z0-9._-]")
        return name
    name = slug(competition)
    if not _ID.match(name):
        raise TaskImportError(f"cannot make a task name of {competition!r}: give task_id (--id DOMAIN/NAME)")
    return name


def slug(name: str) -> str:
    """``name`` lower-cased, every run of other characters than [a-z0-9._-] a ``-``, stripped of
    ``-._`` at its ends (maybe empty): a task name, where the result is one."""
    return re.sub(r"[^a-z0-9._-]+", "-", name.lower()).strip("-._")


def known_domain(name: str) -> str | None:
    """The dojo_lite domain that ``name`` spells (MLE-Dojo's categories too: ``"CV"`` is
    ``vision``), or None when it names none."""
    domain = _domain(name)
    return domain if domain in _DOMAINS else None


def _guess_domain(names: Iterable[str]) -> str:
    """``vision`` when any of the file ``names`` is an image, else ``tabular``."""
    return "vision" if any(PurePosixPath(name).suffix.lower() in _IMAGES for name in names) else "tabular"


def _names_under(folder: Path) -> Iterator[str]:
    return (str(path) for path in folder.rglob("*"))


def _raw_names(raw: Path) -> list[str]:
    if raw.is_dir():
        return list(_names_under(raw))
    try:
        with zipfile.ZipFile(raw) as archive:
            return archive.namelist()
    except (OSError, zipfile.BadZipFile) as exc:
        raise TaskImportError(f"{raw} is not a readable .zip: {exc}") from exc


def _sources(paths: Sequence[Path]) -> list[str]:
    """The folders to hide, each once (one inside another adds nothing)."""
    resolved = sorted({str(path.resolve()) for path in paths})
    return [p for p in resolved if not any(p.startswith(other + "/") for other in resolved)]


# --------------------------------------------------------------------------- the data


def _inspect(sample_path: Path, answers_path: Path) -> _Spec:
    """The grading columns, from the sample submission; TaskImportError unless the sample
    submission and the answers agree on unique ids and the sample has a value in every cell."""
    header = _header(sample_path)
    if len(header) < 2:
        raise TaskImportError(f"{sample_path.name} needs an id column and at least one prediction column, "
                              f"found {header}")
    if len(set(header)) != len(header):
        raise TaskImportError(f"{sample_path.name} repeats a column: {header}")
    sample, answers = _text_table(sample_path), _text_table(answers_path)
    id_column, predictions = header[0], tuple(header[1:])
    if id_column not in answers.columns:
        raise TaskImportError(f"the answers ({answers_path.name}) have no column {id_column!r} (the sample "
                              f"submission's first column); they have {list(answers.columns)}")
    for table, what in ((sample, sample_path.name), (answers, answers_path.name)):
        if table.empty:
            raise TaskImportError(f"{what} has no rows")
        repeated = table[id_column][table[id_column].duplicated()].unique().tolist()
        if repeated:
            raise TaskImportError(f"{what}: the ids are not unique ({len(repeated)} repeated, e.g. {repeated[:5]}); "
                                  "dojo_lite grades one row per id")
    if set(sample[id_column]) != set(answers[id_column]):
        extra = sorted(set(sample[id_column]) - set(answers[id_column]))
        missing = sorted(set(answers[id_column]) - set(sample[id_column]))
        raise TaskImportError(f"{sample_path.name} and {answers_path.name} do not hold the same ids "
                              f"({len(extra)} only in the sample, e.g. {extra[:5]}; {len(missing)} only in the "
                              f"answers, e.g. {missing[:5]})")
    for column in predictions:
        if (sample[column].str.strip() == "").any():
            raise TaskImportError(f"{sample_path.name} has empty cells in {column!r}: dojo_lite wants a value in "
                                  "every cell of a submission, so a competition whose predictions may be empty "
                                  "cannot be imported")
    typed = pd.read_csv(sample_path)
    numeric = [pd.api.types.is_numeric_dtype(typed[c]) and not pd.api.types.is_bool_dtype(typed[c])
               for c in predictions]
    # Numbers are checked as numbers (a word where a number goes is the agent's mistake, not a
    # grader crash); anything else goes to the grader as the text the agent wrote.
    kind = PredictionKind.VALUE if all(numeric) else PredictionKind.LABEL
    integers = tuple(c for c in predictions if kind is PredictionKind.VALUE and
                     pd.api.types.is_integer_dtype(typed[c]))
    truth = [c for c in predictions if c in answers.columns] or [c for c in answers.columns if c != id_column]
    if not truth:
        raise TaskImportError(f"the answers ({answers_path.name}) hold only the id column {id_column!r}")
    return _Spec(id_column, predictions, kind, integers, truth[0], len(answers))


def _header(path: Path) -> list[str]:
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            return [name.strip() for name in next(csv.reader(handle), [])]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise TaskImportError(f"cannot read {path}: {exc}") from exc


def _text_table(path: Path) -> pd.DataFrame:
    """A CSV as text cells (no NaN, no numbers): what ids are compared as."""
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise TaskImportError(f"cannot read {path} as CSV: {exc}") from exc


def _write_leaderboard(path: Path | None, target: Path, direction: Direction, kind: str) -> int:
    """``path`` converted to ``team,score`` (best first, the scores' text kept, rows without a
    finite score left out); returns the number of entries (0: no leaderboard, no file)."""
    if path is None:
        return 0
    table = _board_table(path)
    scores = _score_column(table, path, kind)
    teams = _team_names(table)
    rows = []
    for team, text in zip(teams, table[scores].str.strip(), strict=True):
        try:
            value = float(text)
        except ValueError:
            continue
        if math.isfinite(value):
            rows.append((value, team, text))
    if not rows:
        raise TaskImportError(f"{path}: no row has a finite score")
    rows.sort(key=lambda row: -row[0] if direction is Direction.MAXIMIZE else row[0])  # stable: ties keep their order
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["team", "score"])
    writer.writerows((team, text) for _, team, text in rows)
    target.write_text(buffer.getvalue(), encoding="utf-8")
    try:
        Leaderboard.read(target, direction)
    except DojoError as exc:
        raise TaskImportError(f"{path}: the converted leaderboard does not read back: {exc}") from exc
    return len(rows)


def _board_table(path: Path) -> pd.DataFrame:
    if path.read_bytes()[:len(_LFS)] == _LFS:
        raise TaskImportError(f"{path} is a Git LFS pointer, not the leaderboard: run `git lfs pull` in the checkout")
    table = _text_table(path)
    if table.empty:
        raise TaskImportError(f"{path} has no rows")
    return table


def _score_column(table: pd.DataFrame, path: Path, kind: str) -> str:
    """MLE-bench reads the column ``score``; MLE-Dojo the second column."""
    named = [c for c in table.columns if str(c).strip().lower() == "score"]
    if named:
        return str(named[0])
    if kind == "mledojo" and len(table.columns) >= 2:
        return str(table.columns[1])
    raise TaskImportError(f"{path} has no score column: {list(table.columns)}")


def _team_names(table: pd.DataFrame) -> list[str]:
    columns = {str(c).strip().lower(): str(c) for c in table.columns}
    for key, prefix in (("teamname", ""), ("team", ""), ("teamid", "team-"), ("rank", "rank-")):
        if key in columns:
            return [f"{prefix}{value}".strip() or f"entry-{i + 1}" for i, value in enumerate(table[columns[key]])]
    return [f"entry-{i + 1}" for i in range(len(table))]


def _leaderboard_direction(path: Path) -> Direction:
    """MLE-bench's rule: lower is better when the first row's score is below the last row's."""
    table = _board_table(path)
    scores = pd.to_numeric(table[_score_column(table, path, "mlebench")], errors="coerce").dropna()
    if scores.empty:
        raise TaskImportError(f"{path}: no row has a score")
    return Direction.MINIMIZE if scores.iloc[0] < scores.iloc[-1] else Direction.MAXIMIZE


def _copy_tree(source: Path, target: Path) -> None:
    try:
        shutil.copytree(source, target)  # links followed: the copy holds files only
    except (OSError, shutil.Error) as exc:
        raise TaskImportError(f"cannot copy {source}: {exc}") from exc


def _copy_file(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        shutil.copyfile(source, target)
    except OSError as exc:
        raise TaskImportError(f"cannot copy {source}: {exc}") from exc


def _refuse_links(folder: Path) -> None:
    links = [str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_symlink()]
    if links:
        raise TaskImportError(f"the prepared data holds symbolic links ({links[:5]}): a task's data must be files")


def _extract(archive: Path, target: Path) -> None:
    """Extract ``archive`` into ``target`` (created), refusing any entry that could land outside it
    (an absolute name, a ``..`` part), a link, a device or a name given twice."""
    try:
        handle = zipfile.ZipFile(archive)
    except (OSError, zipfile.BadZipFile) as exc:
        raise TaskImportError(f"{archive} is not a readable .zip: {exc}") from exc
    target.mkdir(parents=True)
    with handle:
        entries = handle.infolist()
        for info in entries:  # every entry checked before a byte is written
            parts = PurePosixPath(info.filename).parts
            mode = info.external_attr >> 16
            if info.filename.startswith("/") or ".." in parts or not parts:
                raise TaskImportError(f"{archive}: the entry {info.filename!r} would land outside the folder it is "
                                      "extracted to: refusing the archive")
            if stat.S_IFMT(mode) and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                raise TaskImportError(f"{archive}: the entry {info.filename!r} is a link or a special file: refusing "
                                      "the archive")
        names = [info.filename.rstrip("/") for info in entries if not info.is_dir()]
        if len(set(names)) != len(names):
            raise TaskImportError(f"{archive}: an entry name appears twice: refusing the archive")
        try:
            for info in entries:
                destination = target.joinpath(*PurePosixPath(info.filename).parts)
                if info.is_dir():
                    destination.mkdir(parents=True, exist_ok=True)
                    continue
                destination.parent.mkdir(parents=True, exist_ok=True)
                with handle.open(info) as source, open(destination, "xb") as sink:  # "x": never through a link
                    shutil.copyfileobj(source, sink, 1 << 20)
        except (OSError, zipfile.BadZipFile, EOFError) as exc:
            raise TaskImportError(f"cannot extract {archive}: {exc}") from exc


# --------------------------------------------------------------------------- MLE-Dojo


def _mledojo_data_dir(competition: Path, data_dir: str | os.PathLike[str] | None) -> Path:
    if data_dir is not None:
        return _existing_dir(data_dir, "the data folder")
    if not (competition / "data").is_dir() and (competition / "public").is_dir():
        return competition  # the data folder itself (MLE-Dojo's data_dir)
    return _existing_dir(competition / "data", "the data folder (data/)")


def _metric_source(competition: Path, metric: str | os.PathLike[str] | type | None) -> tuple[Path, str | None]:
    """The metric's file, and its class name when a class was given."""
    if isinstance(metric, type):
        if metric.__qualname__ != metric.__name__:
            raise TaskImportError(f"{metric.__qualname__} is not defined at the top level of its file")
        try:
            source = inspect.getsourcefile(metric)
        except TypeError:
            source = None
        if source is None or not Path(source).is_file():
            raise TaskImportError(f"cannot find the source file of {metric.__name__} (defined interactively?): "
                                  "save it in a metric.py and give its path")
        return Path(source).resolve(), metric.__name__
    path = competition / "utils" / "metric.py" if metric is None else Path(metric).expanduser()
    return _existing_file(path, "the metric (utils/metric.py)"), None


def _load_metric(path: Path, name: str | None) -> type[Any]:
    """The metric class in ``path``: ``name``, or the one class defined there with MLE-Dojo's
    ``evaluate`` and ``validate_submission``."""
    try:
        module = load_metric_module(path, f"dojo_lite_import_metric_{secrets.token_hex(4)}")
    except Exception as exc:
        raise TaskImportError(f"{path} does not load:\n{traceback.format_exc()}") from exc
    found = [value for value in vars(module).values() if is_metric_class(value) and
             value.__module__ == module.__name__ and value.__name__ != "CompetitionMetrics"]
    chosen = [value for value in found if name is None or value.__name__ == name]
    if len(chosen) != 1:
        names = ", ".join(value.__name__ for value in found) or "none"
        wanted = f"the class {name}" if name else "exactly one CompetitionMetrics subclass"
        raise TaskImportError(f"{path}: want {wanted} (with evaluate and validate_submission), found {names}")
    return chosen[0]


def _mledojo_direction(metric: type[Any], higher_is_better: bool | None) -> Direction:
    if higher_is_better is None:
        try:
            higher_is_better = metric().higher_is_better
        except Exception as exc:
            raise TaskImportError(f"{metric.__name__}() fails: {exc!r}") from exc
        if not isinstance(higher_is_better, bool):
            raise TaskImportError(f"{metric.__name__}().higher_is_better is {higher_is_better!r}, not True or False")
    return Direction.MAXIMIZE if higher_is_better else Direction.MINIMIZE


# --------------------------------------------------------------------------- MLE-bench


def _checkout_root(competition: Path) -> Path:
    """The MLE-bench checkout holding ``competition`` (the folder with the ``mlebench`` package)."""
    for folder in competition.parents:
        if (folder / "mlebench" / "__init__.py").is_file() and competition.is_relative_to(folder / "mlebench"):
            return folder
    raise TaskImportError(f"{competition} is not inside an MLE-bench checkout (mlebench/competitions/<id>/ of a "
                          "folder with the mlebench package): its grader imports helpers from there")


def _mlebench_config(path: Path) -> dict[str, Any]:
    try:
        import yaml
    except ImportError as exc:  # a dependency of dojo-lite: only a broken install lacks it
        raise TaskImportError("reading MLE-bench's config.yaml needs PyYAML: pip install pyyaml") from exc
    try:
        config = yaml.safe_load(_existing_file(path, "config.yaml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise TaskImportError(f"cannot read {path}: {exc}") from exc
    if not isinstance(config, dict):
        raise TaskImportError(f"{path} is not a mapping")
    return config


def _config_value(config: dict[str, Any], keys: Sequence[str]) -> str:
    value: Any = config
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    if not isinstance(value, str) or not value.strip():
        raise TaskImportError(f"config.yaml has no {'.'.join(keys)}")
    return value.strip()


def _import_string(config: dict[str, Any], keys: Sequence[str]) -> tuple[str, str]:
    """``module:function`` of config.yaml's ``keys``, split."""
    module, _, function = _config_value(config, keys).partition(":")
    if not module or not function.isidentifier():
        raise TaskImportError(f"config.yaml's {'.'.join(keys)} must be module:function, got {module}:{function}")
    return module, function


def _prepared_path(config: dict[str, Any], key: str) -> tuple[str, str]:
    """``<id>/prepared/public/x.csv`` → ``("public", "x.csv")``."""
    text = _config_value(config, ("dataset", key))
    parts = PurePosixPath(text).parts
    if "prepared" not in parts or ".." in parts:
        raise TaskImportError(f"config.yaml's dataset.{key} is {text!r}, not <id>/prepared/(public|private)/FILE")
    rest = parts[parts.index("prepared") + 1:]
    if len(rest) < 2 or rest[0] not in ("public", "private"):
        raise TaskImportError(f"config.yaml's dataset.{key} is {text!r}, not <id>/prepared/(public|private)/FILE")
    return rest[0], "/".join(rest[1:])


def _module_file(checkout: Path, module: str, what: str) -> Path:
    base = checkout.joinpath(*module.split("."))
    for path in (base.with_name(base.name + ".py"), base / "__init__.py"):
        if path.is_file():
            return path
    raise TaskImportError(f"{what} {module} is not in the checkout {checkout} (no {base}.py)")


def _function(module: str, name: str, what: str) -> Callable[..., Any]:
    try:
        loaded: ModuleType = importlib.import_module(module)
    except Exception as exc:
        raise TaskImportError(f"{what} {module} does not import:\n{traceback.format_exc()}") from exc
    function = getattr(loaded, name, None)
    if not callable(function):
        raise TaskImportError(f"{what} {module} has no function {name}")
    return function  # type: ignore[no-any-return]


# --------------------------------------------------------------------------- small helpers


def _existing_dir(path: str | os.PathLike[str], what: str) -> Path:
    folder = Path(path).expanduser().resolve()
    if not folder.is_dir():
        raise TaskImportError(f"{what} {folder} does not exist or is not a folder")
    return folder


def _existing_file(path: Path, what: str) -> Path:
    if not path.is_file():
        raise TaskImportError(f"{what} is missing: no {path}")
    return path.resolve()


def _first_file(paths: Sequence[Path], what: str | None) -> Path | None:
    for path in paths:
        if path.is_file():
            return path.resolve()
    if what is None:
        return None
    raise TaskImportError(f"no {what}: looked for {', '.join(map(str, paths))}")


def _read_text(path: Path | None) -> str:
    assert path is not None
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TaskImportError(f"cannot read {path}: {exc}") from exc


def _file_digest(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _digest_paths(paths: dict[str, Path | None], what: str) -> str:
    """One digest of the import's inputs (files and folders) and its options ``what``."""
    digest = hashlib.sha256(what.encode())
    for key, path in sorted(paths.items()):
        if path is not None:
            digest.update(f"{key}\0{tree_digest(path) if path.is_dir() else _file_digest(path)}\n".encode())
    return digest.hexdigest()


def _module_name(final: Path, part: str) -> str:
    return "dojo_lite_imported_" + re.sub(r"[^a-z0-9]", "_", f"{final.parent.name}_{final.name}_{part}")


def _today() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d")


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _version() -> str:
    try:
        return importlib.metadata.version("dojo-lite")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def toml_value(value: object) -> str:
    """``value`` (a string, a whole number, or a list of them) as TOML: a string's control
    characters escaped, every other character written as itself (a JSON escape of a character
    beyond U+FFFF is a surrogate pair, which TOML refuses)."""
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise TypeError(f"not a TOML string, whole number or list: {value!r}")
    escaped = "".join("\\\\" if c == "\\" else '\\"' if c == '"' else f"\\u{ord(c):04x}"
                      if ord(c) < 0x20 or ord(c) == 0x7F else c for c in value)
    return f'"{escaped}"'


def _render(template: str, doc: str | None, **values: object) -> str:
    """``template`` with ``${DOC}`` replaced by a docstring holding ``doc`` (None: no ``${DOC}``)
    and each other ``${NAME}`` by the Python literal of ``values[NAME]``."""
    literals = {key: repr(value) for key, value in values.items()}
    return string.Template(template).substitute(literals if doc is None else {**literals, "DOC": _docstring(doc)})


def _docstring(text: str) -> str:
    """A docstring holding ``text`` (any text: a competition's name or path may hold quotes,
    backslashes, control characters), its paragraphs (parted by an empty line) filled to 100 columns."""

    def escaped(c: str) -> str:
        if c in '\\"':  # '"' too: a '"""' in the text would end the docstring
            return "\\" + c
        return c if c == "\n" or c.isprintable() else repr(c)[1:-1]

    paragraphs = [textwrap.fill(p, 100, break_long_words=False, break_on_hyphens=False) for p in text.split("\n\n")]
    return '"""' + "".join(map(escaped, "\n\n".join(paragraphs))) + '\n"""'


# --------------------------------------------------------------------------- generated files

_PREPARE = '''${DOC}

from pathlib import Path

from dojo_lite.recipes import ImportedData

DATA = ImportedData(
    source=Path(__file__).resolve().parent / "source",
    sha256=${SHA256},
    answers=${ANSWERS},  # the competition's answers file, in source/private
    sample=${SAMPLE},  # its sample submission, in source/public
    id_column=${ID_COLUMN},
    seed=${SEED},
    micro_test=${MICRO_TEST},  # test ids in the micro variant
    micro_rows=${MICRO_ROWS},  # rows of every other CSV in it
)


def prepare(public: Path, private: Path, variant: str) -> None:
    DATA.prepare(public, private, variant)
'''

_MLEDOJO_GRADE = '''${DOC}

from pathlib import Path

from dojo_lite.graders import mledojo_grader

grade = mledojo_grader(
    metric_file=Path(__file__).resolve().parent / "competition" / "metric.py",
    class_name=${CLASS},
    integer_columns=${INTEGERS},  # prediction columns the sample submission holds as integers
    module_name=${MODULE},
)
'''

_MLEBENCH_GRADE = '''${DOC}

from dojo_lite.graders import mlebench_grader

grade = mlebench_grader(
    checkout=${CHECKOUT},
    grade_fn=${GRADE_FN},
    grader_file=${GRADER_FILE},
    # the grader file's SHA-256 at import: a changed grader is refused
    sha256=${GRADER_SHA256},
    integer_columns=${INTEGERS},  # prediction columns the sample submission holds as integers
)
'''

# The solutions run in the jail, where dojo_lite is not: standalone scripts, the only code here.
_SIMPLE = '''"""The simplest valid submission: the competition's sample submission, as it is (written by the
importer)."""

import shutil

shutil.copyfile("input/sample_submission.csv", "submission.csv")
'''

_REFERENCE = '''"""A prior, not a model (written by the importer; replace it with a real solution): each prediction
column is the mean (numbers) or the most frequent value (labels, integers) of the column of the
same name in input/train.csv where it has one, else the sample submission's value."""

import os

import pandas as pd

COLUMNS = ${COLUMNS}
MEANS = ${MEANS}  # the columns predicted by their mean

submission = pd.read_csv("input/sample_submission.csv")
train = pd.read_csv("input/train.csv") if os.path.exists("input/train.csv") else pd.DataFrame()
for column in COLUMNS:
    if column in train.columns and train[column].notna().any():
        values = train[column].dropna()
        if column in MEANS and pd.api.types.is_numeric_dtype(values):
            submission[column] = float(values.mean())
        else:
            submission[column] = values.mode().iloc[0]
submission.to_csv("submission.csv", index=False)
'''
