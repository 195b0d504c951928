"""MLE-Dojo's competitions and their registry, each competition a dojo_lite task."""

from __future__ import annotations

import difflib
import hashlib
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from ..._errors import ConfigError
from ..._importers import import_mledojo, known_domain, slug
from ..._metrics import Direction
from ..._task import Task, cache_root, find_task, list_tasks
from ...graders import is_metric_class
from ._errors import (
    CompetitionAlreadyExistsError,
    CompetitionDataError,
    CompetitionNotFoundError,
    MetricError,
)

__all__ = ["CompInfo", "Competition", "CompetitionRegistry"]


_CATEGORIES = {"tabular": "Tabular", "vision": "Vision", "nlp": "NLP", "timeseries": "Time Series"}


def _lower(value: str) -> str:
    return str(value).lower()


@attrs.define(slots=False)  # slots=False: MLE-Dojo's request_info answers ``metadata`` with vars(info)
class CompInfo:
    """A competition's metadata, as MLE-Dojo's ``CompInfo`` (same fields, same defaults).

    ``category`` (e.g. "Tabular", "Vision", "NLP") picks the dojo_lite domain when MLE-Dojo data
    is imported; ``output_type`` must stay ``"submission.csv"`` (the file that is graded);
    ``higher_is_better`` is informative (the metric's own direction ranks scores).
    """

    category: str = "Tabular"
    level: str = attrs.field(default="intermediate", converter=_lower)
    output_type: str = "submission.csv"
    higher_is_better: bool = True
    tldr: str | None = None
    tags: list[str] = attrs.field(factory=list)

    @classmethod
    def from_task(cls, task: Task) -> CompInfo:
        """The metadata of a dojo_lite task: its domain as the category, its direction as
        ``higher_is_better``, its title as ``tldr``, its domain and metric as tags."""
        return cls(category=_CATEGORIES.get(task.domain, task.domain.title()),
                   higher_is_better=task.grading.direction is Direction.MAXIMIZE, tldr=task.title,
                   tags=[task.domain, task.grading.metric])


@attrs.frozen(eq=False)  # a handle: two registrations are two competitions, whatever they hold
class Competition:
    """A registered competition: its name and metadata, and the dojo_lite :class:`Task` it runs as.

    ``data_dir`` and ``metric_class`` are what an MLE-Dojo registration gave (None for a
    competition registered as a dojo_lite task); ``cache`` is where task data is prepared.
    """

    REQUIRED_PATHS = ("", "public", "private", "public/description.txt", "public/sample_submission.csv",
                      "private/test_answer.csv")

    name: str
    info: CompInfo
    task: Task
    data_dir: str | None = None
    metric_class: type[Any] | None = None
    cache: Path | None = None

    def get_data_path(self) -> Path:
        """The folder holding ``public/`` and ``private/``: the registered ``data_dir``, or for a
        dojo_lite task its prepared full data (prepared on first call)."""
        if self.data_dir is not None:
            return Path(self.data_dir)
        return self.task.prepare("full", self.cache).public.parent

    def get_public_data_path(self) -> Path:
        """``get_data_path() / "public"``: what agent code sees as ``./input/``."""
        return self.get_data_path() / "public"

    def get_private_data_path(self) -> Path:
        """``get_data_path() / "private"``: the answers (read by the controller only)."""
        return self.get_data_path() / "private"

    def create_metrics(self) -> Any:
        """An instance of ``metric_class``; MetricError if there is none (a dojo_lite task grades
        with its own metric) or it cannot be made."""
        if self.metric_class is None:
            raise MetricError(f"competition {self.name!r} has no metric class",
                              f"it runs as the dojo_lite task {self.task.id}, graded by its metric "
                              f"{self.task.grading.metric!r}")
        try:
            return self.metric_class()
        except Exception as exc:
            raise MetricError("Failed to create metrics instance", repr(exc)) from exc

    def __str__(self) -> str:
        return f"Competition(name={self.name!r}, category={self.info.category!r}, level={self.info.level!r})"


def _check_metric_class(metric_class: Any) -> type[Any]:
    """``metric_class`` if it is one: a :class:`CompetitionMetrics` subclass, or any class with
    MLE-Dojo's two methods (a metric written against MLE-Dojo's own base class); else MetricError."""
    if metric_class is None:
        raise MetricError("Metric class not provided", "a competition needs a CompetitionMetrics subclass")
    if not is_metric_class(metric_class):
        raise MetricError("Invalid metric class",
                          f"{metric_class!r} is not a CompetitionMetrics subclass (with evaluate and "
                          "validate_submission)")
    return metric_class


def _task_name(name: str) -> str:
    """A dojo_lite task name for an MLE-Dojo competition name (lower case, [a-z0-9._-])."""
    return slug(name) or "competition"


class CompetitionRegistry:
    """Competitions by name, as MLE-Dojo's registry (``register``, ``get``, ``unregister``,
    ``list_competitions``, ``get_competitions_by_category``/``_by_level``, ``in``, ``len``).

    Two ways in:

    - :meth:`register` ``(name, data_dir, comp_info, metric_class)``: a competition prepared
      for MLE-Dojo (``data_dir`` holds ``public/`` and ``private/test_answer.csv``; leaderboards,
      if any, as ``private/{public,private}_leaderboard.csv``).  It is converted right away into a
      dojo_lite task folder (its data copied and prepared) by :func:`dojo_lite.import_mledojo`, under
      :attr:`tasks_root` (``$DOJO_LITE_CACHE/mledojo-tasks/`` by default), one folder per
      ``data_dir``: reused while what it was made from is unchanged, rebuilt when that changed.
    - :meth:`register_task` ``(name, task)``: a dojo_lite task (a built-in id such as
      ``"tabular/titanic-survival"``, an id found on ``task_path``, or a :class:`Task`), its
      :class:`CompInfo` taken from the task unless given.

    ``CompetitionRegistry(name, data_dir, comp_info, metric_class)`` registers one competition at
    once and ``competitions=`` starts from a dict of them, as MLE-Dojo's; :meth:`from_tasks` holds
    every dojo_lite task under its id.  ``cache`` is where task data is prepared
    (``$DOJO_LITE_CACHE`` by default).
    """

    def __init__(
        self,
        name: str | None = None,
        data_dir: str | os.PathLike[str] | None = None,
        comp_info: CompInfo | None = None,
        metric_class: type[Any] | None = None,
        competitions: Mapping[str, Competition] | None = None,
        *,
        tasks_root: str | os.PathLike[str] | None = None,
        cache: str | os.PathLike[str] | None = None,
    ) -> None:
        self._tasks_root = Path(tasks_root).resolve() if tasks_root is not None else None
        self.cache = Path(cache).resolve() if cache is not None else None
        self._competitions: dict[str, Competition] = {}
        for key, competition in (competitions or {}).items():
            if not isinstance(competition, Competition):
                raise ConfigError(f"competitions[{key!r}] is a {type(competition).__name__}, not a Competition")
            self._competitions[key] = competition
        if name is not None:
            if data_dir is None:
                raise CompetitionDataError(f"no data_dir for competition {name!r}")
            self.register(name, data_dir, comp_info, metric_class)

    @classmethod
    def from_tasks(cls, task_path: Sequence[str | os.PathLike[str]] = (), *,
                   cache: str | os.PathLike[str] | None = None) -> CompetitionRegistry:
        """A registry of every dojo_lite task on the search path (plus ``task_path``), each under
        its id (e.g. ``"tabular/titanic-survival"``)."""
        registry = cls(cache=cache)
        for task in list_tasks(task_path):
            registry.register_task(task.id, task)
        return registry

    @property
    def tasks_root(self) -> Path:
        """Where :meth:`register` writes converted task folders: the ``tasks_root`` given, else
        ``<cache root>/mledojo-tasks`` (``$DOJO_LITE_CACHE``, else ``~/.cache/dojo_lite``)."""
        return self._tasks_root or cache_root() / "mledojo-tasks"

    def register(
        self,
        name: str,
        data_dir: str | os.PathLike[str],
        comp_info: CompInfo | None = None,
        metric_class: type[Any] | None = None,
    ) -> Competition:
        """Register an MLE-Dojo prepared competition under ``name``; returns its :class:`Competition`.

        ``data_dir`` must hold MLE-Dojo's ``REQUIRED_PATHS`` (else CompetitionDataError);
        ``metric_class`` is the competition's ``CompetitionMetrics`` subclass (else MetricError).
        The competition becomes the dojo_lite task ``<domain>/<name>`` in
        ``tasks_root/<hash of data_dir>/`` (the domain from ``comp_info.category``, else guessed
        from the data; two competitions of one name but other data do not collide); the
        importer's TaskImportError says what stops it.  CompetitionAlreadyExistsError if ``name``
        is taken.
        """
        self._check_free(name)
        folder = Path(data_dir).resolve()
        for relative in Competition.REQUIRED_PATHS:
            if not (folder / relative).exists():
                raise CompetitionDataError(f"Required path does not exist: {folder / relative}",
                                           "an MLE-Dojo competition's data_dir holds public/description.txt, "
                                           "public/sample_submission.csv and private/test_answer.csv")
        metric = _check_metric_class(metric_class)
        info = comp_info if comp_info is not None else CompInfo()
        task = self._import(name, folder, info, metric)
        competition = Competition(name, info, task, str(folder), metric, self.cache)
        self._competitions[name] = competition
        return competition

    def _import(self, name: str, folder: Path, info: CompInfo, metric: type[Any]) -> Task:
        # One root per data_dir: the same name registered for other data gets a folder of its own.
        # The importer returns a folder made from the same inputs as it is, and rebuilds it when
        # they changed (overwrite): registering again in a later process costs a digest, not a copy.
        root = self.tasks_root / hashlib.sha256(str(folder).encode()).hexdigest()[:12]
        return import_mledojo(folder, root, data_dir=folder, metric=metric, task_id=_task_name(name),
                              domain=known_domain(info.category), overwrite=True)

    def register_task(self, name: str, task: str | Task, *, task_path: Sequence[str | os.PathLike[str]] = (),
                      comp_info: CompInfo | None = None) -> Competition:
        """Register the dojo_lite ``task`` (an id, found on the search path plus ``task_path``,
        or a :class:`Task`) under ``name``; returns its :class:`Competition`.  TaskNotFound for an
        unknown id; CompetitionAlreadyExistsError if ``name`` is taken."""
        self._check_free(name)
        found = task if isinstance(task, Task) else find_task(task, task_path)
        info = comp_info if comp_info is not None else CompInfo.from_task(found)
        competition = Competition(name, info, found, cache=self.cache)
        self._competitions[name] = competition
        return competition

    def _check_free(self, name: str) -> None:
        if not isinstance(name, str) or not name:
            raise ConfigError(f"a competition name is a non-empty string, got {name!r}")
        if name in self._competitions:
            raise CompetitionAlreadyExistsError(f"Competition '{name}' already registered",
                                                "each competition must have a unique name")

    def get(self, name: str) -> Competition:
        """The competition ``name``; CompetitionNotFoundError (with the names there are) if none."""
        if name not in self._competitions:
            close = difflib.get_close_matches(str(name), list(self._competitions), n=3)
            hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
            known = ", ".join(sorted(self._competitions)) or "none"
            raise CompetitionNotFoundError(f"Competition '{name}' not found",
                                           f"registered: {known}{hint}")
        return self._competitions[name]

    def unregister(self, name: str) -> None:
        """Forget ``name`` (its converted task folder stays); CompetitionNotFoundError if unknown."""
        self.get(name)
        del self._competitions[name]

    def list_competitions(self) -> list[str]:
        """The registered names, in registration order."""
        return list(self._competitions)

    def get_competitions_by_category(self, category: str) -> list[Competition]:
        """The competitions whose ``info.category`` is ``category`` (any case)."""
        return [c for c in self._competitions.values() if c.info.category.lower() == category.lower()]

    def get_competitions_by_level(self, level: str) -> list[Competition]:
        """The competitions whose ``info.level`` is ``level`` (any case)."""
        return [c for c in self._competitions.values() if c.info.level.lower() == level.lower()]

    def __contains__(self, name: object) -> bool:
        return name in self._competitions

    def __len__(self) -> int:
        return len(self._competitions)


