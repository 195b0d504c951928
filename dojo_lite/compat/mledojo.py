"""MLE-Dojo's API over dojo_lite: MLE-Dojo's agents run here after changing one import.

::

    from dojo_lite.compat.mledojo import CompetitionRegistry, CompInfo, KaggleEnvironment

    registry = CompetitionRegistry()
    registry.register_task("titanic", "tabular/titanic-survival")       # a dojo_lite task, or
    registry.register("pizza", data_dir, CompInfo(category="NLP"), PizzaMetrics)   # MLE-Dojo's data
    env = KaggleEnvironment.make("titanic", "runs/titanic", registry, execution_timeout=600)
    obs, reward = env.step("request_info", info_type="overview")
    obs, reward = env.step("execute_code", code=code)
    print(obs["action_status"], obs["feedback"]["base"]["feedback"], obs["best_position_score"])
    env.close()

The surface is MLE-Dojo's (``mledojo.gym``): :class:`KaggleEnvironment` with ``make`` and
``step(action, **kwargs) -> (obs, reward)``, the observation dict its agents read,
:class:`CompetitionRegistry`, :class:`CompInfo`, :class:`Competition`, and its error names.
Inside, each environment is one :class:`dojo_lite.DojoEnv`: agent code runs in a jail, answers
are graded in the controller, and every MLE-Dojo step is exactly one DojoEnv step (so the
episode's budgets, history and trajectory are dojo_lite's).  Where dojo_lite is deliberately
different, the shape stays MLE-Dojo's and the behaviour ours:

- Agent code runs in its own work directory, not on the host: it reads ``./input/`` and writes
  ``./submission.csv``, and ``request_info`` says so (``data_path`` is ``./input``,
  ``output_path`` is ``.``).  Host paths do not exist there; a failed run whose code names
  ``output_dir`` or the competition's data directory is told so.
- Private answers are out of the agent's reach (MLE-Dojo keeps them beside the public data).
- A malformed step (an unknown action, an unknown ``info_type``, a missing ``code``) is a
  ``"FAILED"`` observation, never an exception (MLE-Dojo raises ``ValueError``).
- ``step("reset")`` empties the work dir (dojo_lite's ``reset`` action): the episode's budgets,
  history and best scores go on; ``env.reset()`` starts a new episode.
- An episode has dojo_lite's budgets (the task's, or ``max_steps=``/``max_seconds=``); once
  spent, every step answers ``"FAILED"`` with the reason.

``output_dir`` (on the host, never seen by agent code) receives what MLE-Dojo keeps there:
``env_history/history.json`` (MLE-Dojo's history: every step's result and feedback, the best
code and scores), each code sent as ``validation_<n>.py``/``execution_<n>.py``, and each
``execute_code`` submission as ``submission_<n>.csv``; plus dojo_lite's JSON-lines trajectory
of each episode under ``env_history/<domain>--<name>/``.
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import json
import logging
import math
import numbers
import os
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from io import StringIO
from pathlib import Path
from typing import Any

import attrs
import pandas as pd

import sandbox

from .._backend import Backend, PoolBackend
from .._env import DojoEnv
from .._episode import Episode, position_reward
from .._errors import ConfigError, DojoError, SubmissionError, TaskFormatError, TaskNotFound
from .._feedback import data_text
from .._grading import MAX_SUBMISSION_BYTES, SUBMISSION, _read_bytes
from .._importers import import_mledojo
from .._metrics import Direction
from .._observation import clip_text
from .._scores import Grade
from .._task import Task, cache_root, find_task, list_tasks
from ._mledojo_base import CompetitionMetrics, InvalidSubmissionError

__all__ = [
    "CompInfo",
    "Competition",
    "CompetitionAlreadyExistsError",
    "CompetitionDataError",
    "CompetitionError",
    "CompetitionMetrics",
    "CompetitionNotFoundError",
    "CompetitionRegistry",
    "DojoStep",
    "InvalidSubmissionError",
    "KaggleEnvironment",
    "MLEDojoError",
    "MetricError",
]

_log = logging.getLogger("dojo_lite")

# ------------------------------------------------------------------ errors (MLE-Dojo's names)


class MLEDojoError(DojoError):
    """Root of the errors with MLE-Dojo's names (``mledojo.gym.error``); a :class:`DojoError`,
    so ``except dojo_lite.DojoError`` catches them too.  ``message`` and ``details`` as MLE-Dojo's."""

    def __init__(self, message: str, details: str | None = None) -> None:
        self.message = message
        self.details = details
        super().__init__(message if details is None else f"{message}\nDetails: {details}")


class CompetitionError(MLEDojoError):
    """A competition's registration or lookup failed."""


class CompetitionNotFoundError(CompetitionError, TaskNotFound):
    """No competition of that name in the registry (also a :class:`dojo_lite.TaskNotFound`)."""


class CompetitionAlreadyExistsError(CompetitionError, ConfigError):
    """A competition of that name is registered already."""


class CompetitionDataError(CompetitionError, TaskFormatError):
    """A competition's data directory lacks what MLE-Dojo requires (``Competition.REQUIRED_PATHS``)."""


class MetricError(CompetitionError, ConfigError):
    """A competition's metric class is missing, not a metric class, or cannot be made."""


# ------------------------------------------------------------------ competitions and the registry

_CATEGORIES = {"tabular": "Tabular", "vision": "Vision", "nlp": "NLP", "timeseries": "Time Series"}
_DOMAINS = {"tabular": "tabular", "vision": "vision", "cv": "vision", "computer vision": "vision",
            "image": "vision", "nlp": "nlp", "text": "nlp", "time series": "timeseries",
            "timeseries": "timeseries", "time-series": "timeseries"}


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
    if not isinstance(metric_class, type) or not (
            issubclass(metric_class, CompetitionMetrics)
            or all(callable(getattr(metric_class, m, None)) for m in ("evaluate", "validate_submission"))):
        raise MetricError("Invalid metric class",
                          f"{metric_class!r} is not a CompetitionMetrics subclass (with evaluate and "
                          "validate_submission)")
    return metric_class


def _task_name(name: str) -> str:
    """A dojo_lite task name for an MLE-Dojo competition name (lower case, [a-z0-9._-])."""
    slug = re.sub(r"[^a-z0-9._-]+", "-", name.lower()).strip("-._")
    return slug or "competition"


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
                              domain=_DOMAINS.get(info.category.strip().lower()), overwrite=True)

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


# ------------------------------------------------------------------ the environment

INFO_TYPES: dict[str, str] = {
    # MLE-Dojo's info types -> the DojoEnv topic the step asks for (recorded, budgeted)
    "overview": "overview", "sample_submission": "submission", "data_structure": "data",
    "data_path": "data", "output_path": "submission", "name": "overview", "metadata": "metric",
    # and dojo_lite's own topics, so that every topic a DojoEnv knows is an info type here too
    "data": "data", "submission": "submission", "metric": "metric", "limits": "limits",
}
DATA_PATH = "./input"  # what request_info answers for data_path: where agent code finds the data
OUTPUT_PATH = "."      # ... and for output_path: where it writes submission.csv (its work dir)
WHERE = ("Where your code runs: in a sandbox, in a work directory of its own (its current directory), not "
         "on the host, so host paths do not exist there. "
         f"data_path is {DATA_PATH}: the competition's files, read-only. "
         f"output_path is {OUTPUT_PATH}: write your submission to ./{SUBMISSION}. "
         "validate_code runs your code on a small sample of the data (the same files and columns); "
         "execute_code runs it on the data it is scored on.")
_HEADERS = {"request_info": "=== Competition Info ===", "validate_code": "=== Code Validation Results ===",
            "execute_code": "=== Code Execution Results ===", "get_history": "=== History ===",
            "reset": "=== Reset ==="}


@attrs.frozen
class DojoStep:
    """The DojoEnv step inside an MLE-Dojo step: Gymnasium's five values, for programs that
    want more than MLE-Dojo's observation (``info`` has dojo_lite's scores, medal and budgets)."""

    obs: dict[str, Any]
    reward: float
    terminated: bool
    truncated: bool
    info: dict[str, Any]


def _positive(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value <= 0:
        raise ConfigError(f"{what} must be a positive number, got {value!r}")
    return float(value)


def _gib(value: Any, what: str) -> int:
    """``value`` GB (MLE-Dojo's unit, 2**30 bytes) in bytes."""
    return int(_positive(value, what) * (1 << 30))


def _with_limits(task: Task, memory_limit: Any, execution_timeout: Any) -> Task:
    """``task`` with MLE-Dojo's limits: ``memory_limit`` (GB) caps every run, validation too (MLE-Dojo
    runs both in one sandbox); ``execution_timeout`` (seconds) is execute_code's limit and caps
    validate_code's."""
    run, check = task.limits, task.validate_limits
    if memory_limit is not None:
        memory = _gib(memory_limit, "memory_limit")
        run, check = attrs.evolve(run, memory=memory), attrs.evolve(check, memory=memory)
    if execution_timeout is not None:
        timeout = _positive(execution_timeout, "execution_timeout")
        run, check = attrs.evolve(run, timeout=timeout), attrs.evolve(check, timeout=min(check.timeout, timeout))
    return attrs.evolve(task, limits=run, validate_limits=check)


def _make_backend(gpu_device: Any, gpu_memory_limit: Any, pool_options: Mapping[str, Any] | None,
                  backend: Backend | None) -> Backend:
    options = dict(pool_options or {})
    if gpu_memory_limit is not None and gpu_device is None:
        raise ConfigError("gpu_memory_limit caps the memory of gpu_device: give gpu_device too, or leave "
                          "gpu_memory_limit out")
    if backend is not None and (options or gpu_device is not None):
        raise ConfigError("backend= is the whole backend: give gpu_device and pool_options without it")
    if backend is not None:
        return backend
    if gpu_device is None:
        return PoolBackend(**options)
    if isinstance(gpu_device, bool) or not isinstance(gpu_device, numbers.Integral) or gpu_device < 0:
        raise ConfigError(f"gpu_device must be a GPU index (an int >= 0), got {gpu_device!r}")
    memory = _gib(gpu_memory_limit, "gpu_memory_limit") if gpu_memory_limit is not None else None
    request = sandbox.GpuRequest((int(gpu_device),), memory_bytes=memory)  # type: ignore[arg-type]  # attrs converter
    if "gpus" in options:
        raise ConfigError("give the GPU as gpu_device, not as pool_options['gpus']")
    return PoolBackend(gpu=request, **options)  # MLE-Dojo runs all code on gpu_device


def _raw_reward(grade: Grade | None, episode: Episode) -> float:
    """score_mode="raw": the execution's raw score (0 when it could not be graded)."""
    return float(grade.score) if grade is not None and grade.score is not None else 0.0


def _render(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, indent=2, default=str)


def _sample_head(text: str) -> Any:
    """The first rows of the sample submission as MLE-Dojo gives them (``DataFrame.to_dict()``)."""
    try:
        return pd.read_csv(StringIO(text)).head(3).to_dict()
    except (ValueError, pd.errors.ParserError):
        return text


class KaggleEnvironment:
    """MLE-Dojo's ``KaggleEnvironment`` over a :class:`dojo_lite.DojoEnv`.

    ``KaggleEnvironment.make(competition_name, output_dir, competition_registry, ...)`` (or the
    constructor, as MLE-Dojo's ``setup_environment`` calls it) starts the sandbox and the first
    episode; then ``step(action, **kwargs) -> (obs, reward)``:

    - ``step("request_info", info_type=T)``: T one of MLE-Dojo's ``overview``,
      ``sample_submission``, ``data_structure``, ``data_path`` (answers ``./input``),
      ``output_path`` (answers ``.``), ``name``, ``metadata``, or dojo_lite's ``data``,
      ``submission``, ``metric``, ``limits``, or ``all`` (the default): every one of them.
    - ``step("validate_code", code=C)``: a run on the micro data and a check of the submission's
      format; no score.
    - ``step("execute_code", code=C)``: a run on the data it is graded on, then its score.
    - ``step("get_history")``: the steps so far, in the feedback.
    - ``step("reset")``: empties the work dir (budgets, history and best scores go on).

    ``obs`` is MLE-Dojo's dict: ``action_status`` (``"SUCCESS"`` when the action did what was asked,
    else ``"FAILED"``), ``feedback`` (``{"base": {"feedback_status": "SUCCESS", "feedback": text}}``:
    the text an LLM reads), ``current_raw_score`` and ``current_position_score`` (of the last
    execute_code that was scored; 0.0 before), ``best_raw_score`` and ``best_position_score``
    (the best execution by the metric's direction, with its position score; None before),
    ``history_summary`` (``"Total Actions: N, Last Action: A"``).  ``reward`` is the
    execution's position score on the task's leaderboard (``score_mode="position"``, the default)
    or its raw score (``"raw"``); 0.0 for every other step and every failure.  A malformed step
    is a ``"FAILED"`` observation, never an exception; misuse of the library raises a
    :class:`dojo_lite.DojoError`.

    ``reset(seed=None, options=None) -> (obs, {})`` starts a new episode (a fresh work dir and
    budgets; scores, best and history forgotten) with MLE-Dojo's reset observation.  ``render()``
    (``render_mode="human"``) logs and returns a line of progress; ``close()`` ends the episode and
    the sandbox.  :attr:`dojo_env` is the DojoEnv inside and :attr:`last_step` its last step.

    Arguments, as MLE-Dojo's (sizes in GB, times in seconds):

    - ``competition_registry``: where ``competition_name`` is looked up (CompetitionNotFoundError
      if it is not there); None: ``competition_name`` is a dojo_lite task id.
    - ``gpu_device``: the GPU every run gets (only its device node is mounted; ConfigError at
      once if the host has no such GPU); ``gpu_memory_limit``: a cap on its memory (needs
      ``gpu_device``).
    - ``memory_limit``: each run's memory (RAM and swap, a cgroup limit); ``execution_timeout``:
      each execute_code's wall-clock limit (validate_code keeps the task's, if shorter).  Left
      out, the task's limits hold.  Every run's limit is also capped by the episode's time left.
    - ``cpu_time_limit``, ``custom_interface``, ``custom_feedback_manager``, and a
      ``feedback_mode`` other than ``["base"]`` are not supported: ConfigError.
    - ``score_mode``: ``"position"`` or ``"raw"``; ``render_mode``: None or ``"human"``.

    and dojo_lite's own, by keyword: ``variant`` (``"micro"``: execute_code on the micro data, for
    fast rollouts), ``max_steps`` and ``max_seconds`` (the episode's budgets; the task's by
    default), ``pool_options`` (for the :class:`sandbox.Pool`, e.g. ``{"isolation": "none"}``),
    ``backend`` (a :class:`dojo_lite.Backend` instead of a pool of the env's own; not with
    ``gpu_device`` or ``pool_options``), ``cache`` (where task data is prepared).
    """

    actions = ("request_info", "validate_code", "execute_code", "reset", "get_history")
    metadata = {"render_modes": ["human"]}

    # MLE-Dojo's state, of the current episode (reset() starts them again)
    step_count: int
    total_reward: float
    current_raw_score: float
    current_position_score: float
    best_raw_score: float | None
    best_position_score: float | None
    best_code: str | None

    @classmethod
    def make(
        cls,
        competition_name: str,
        output_dir: str | os.PathLike[str],
        competition_registry: CompetitionRegistry | None = None,
        render_mode: str | None = None,
        gpu_device: int | None = None,
        gpu_memory_limit: float | None = None,
        cpu_time_limit: float | None = None,
        memory_limit: float | None = None,
        execution_timeout: float | None = None,
        custom_interface: object | None = None,
        custom_feedback_manager: object | None = None,
        score_mode: str = "position",
        *,
        variant: str = "full",
        max_steps: int | None = None,
        max_seconds: float | None = None,
        pool_options: Mapping[str, Any] | None = None,
        backend: Backend | None = None,
        cache: str | os.PathLike[str] | None = None,
    ) -> KaggleEnvironment:
        """A started environment (see the class docstring for the arguments)."""
        return cls(competition_name, output_dir, competition_registry, render_mode, gpu_device, gpu_memory_limit,
                   cpu_time_limit, memory_limit, execution_timeout, interface=custom_interface,
                   feedback_manager=custom_feedback_manager, score_mode=score_mode, variant=variant,
                   max_steps=max_steps, max_seconds=max_seconds, pool_options=pool_options, backend=backend,
                   cache=cache)

    def __init__(
        self,
        competition_name: str,
        output_dir: str | os.PathLike[str],
        competition_registry: CompetitionRegistry | None = None,
        render_mode: str | None = None,
        gpu_device: int | None = None,
        gpu_memory_limit: float | None = None,
        cpu_time_limit: float | None = None,
        memory_limit: float | None = None,
        execution_timeout: float | None = None,
        interface: object | None = None,
        feedback_manager: object | None = None,
        feedback_mode: Sequence[str] | None = None,
        score_mode: str = "position",
        *,
        variant: str = "full",
        max_steps: int | None = None,
        max_seconds: float | None = None,
        pool_options: Mapping[str, Any] | None = None,
        backend: Backend | None = None,
        cache: str | os.PathLike[str] | None = None,
    ) -> None:
        if score_mode not in ("position", "raw"):
            raise ConfigError(f"score_mode must be 'position' or 'raw', got {score_mode!r}")
        if render_mode not in (None, *self.metadata["render_modes"]):
            raise ConfigError(f"render_mode must be None or 'human', got {render_mode!r}")
        if interface is not None or feedback_manager is not None:
            raise ConfigError("custom_interface and custom_feedback_manager (MLE-Dojo's own classes) are not "
                              "supported: the actions and their feedback are dojo_lite's")
        if feedback_mode is not None and list(feedback_mode) != ["base"]:
            raise ConfigError(f"feedback_mode must be ['base'] (the only feedback there is), got {feedback_mode!r}")
        if cpu_time_limit is not None:
            raise ConfigError("cpu_time_limit (CPU seconds) is not supported: runs are limited by wall-clock time "
                              "(execution_timeout), memory and CPU cores (the task's limits)")
        registry = competition_registry if competition_registry is not None else _task_registry(competition_name,
                                                                                               cache)
        competition = registry.get(competition_name)
        if competition.info.output_type != SUBMISSION:
            raise ConfigError(f"comp_info.output_type must be {SUBMISSION!r} (the file graded), got "
                              f"{competition.info.output_type!r}")
        task = _with_limits(competition.task, memory_limit, execution_timeout)
        chosen = _make_backend(gpu_device, gpu_memory_limit, pool_options, backend)
        self.competition_name = competition_name
        self.competition_registry = registry
        self.competition = competition
        self.score_mode = score_mode
        self.render_mode = render_mode
        self.output_dir = Path(output_dir).resolve()
        self.history_dir = self.output_dir / "env_history"
        self.history_file = self.history_dir / "history.json"
        try:
            self.history_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"cannot write to output_dir {self.output_dir}: {exc}") from exc
        # host paths agent code may have been told (MLE-Dojo's README writes them into code)
        self._host_paths = [str(self.output_dir), *([competition.data_dir] if competition.data_dir else [])]
        self.last_step: DojoStep | None = None
        self._dojo = DojoEnv(task, backend=chosen, reward=position_reward if score_mode == "position" else _raw_reward,
                             variant=variant, max_steps=max_steps, max_seconds=max_seconds,
                             cache=cache if cache is not None else competition.cache,
                             trajectory_dir=self.history_dir)
        try:
            self._new_episode(None, None)
        except BaseException:
            with contextlib.suppress(DojoError):
                self._dojo.close()
            raise

    # ------------------------------------------------------------ MLE-Dojo's API

    def step(self, action: str, **kwargs: Any) -> tuple[dict[str, Any], float]:
        """Run ``action`` with its keyword arguments; returns ``(obs, reward)`` (see the class
        docstring).  What the agent gets wrong is an observation; a :class:`dojo_lite.DojoError`
        is raised only for misuse or a failing host (a closed env: EnvClosed)."""
        # the name recorded: an unknown one is the agent's text, recorded as DojoEnv records it
        name = action if isinstance(action, str) and action in self.actions else "invalid"
        request, info_type = self._request(name, action, kwargs)
        dojo_obs, reward, terminated, truncated, info = self._dojo.step(request)
        code = request.get("code")
        if isinstance(code, str):  # a copy of each code sent, as MLE-Dojo keeps them
            self._save_text({"validate_code": "validation", "execute_code": "execution"}[name], ".py", code)
        self.last_step = DojoStep(dojo_obs, reward, terminated, truncated, info)
        ok = dojo_obs["status"] == "ok"
        status = "SUCCESS" if ok else "FAILED"
        self.step_count += 1
        self.total_reward += reward
        scored = name == "execute_code" and ok and info["score"] is not None
        if scored:
            self.current_raw_score = float(info["score"])
            self.current_position_score = float(info["position_score"] or 0.0)
        before = self.best_raw_score
        self.best_raw_score = info["best_score"]
        self.best_position_score = None if info["best_score"] is None else float(info["best_position_score"] or 0.0)
        if scored and self.best_raw_score != before:
            self.best_code = code
        if name == "execute_code" and dojo_obs["status"] in ("ok", "submission_error"):
            self._archive_submission()
        values = self._info_values(info_type, dojo_obs["data"]) if name == "request_info" and ok else None
        text = self._feedback_text(name, dojo_obs, info, info_type, values, code)
        feedback = {"base": {"feedback_status": "SUCCESS", "feedback": text}}
        result: dict[str, Any] = {"status": status, "dojo_status": dojo_obs["status"]}
        if name != "get_history":  # its data is the history itself: recording it again would snowball
            result["data"] = values if values is not None else dojo_obs["data"]
        self._record(name, result, feedback)
        return self._observation(status, feedback), reward

    def reset(self, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
        """Start a new episode (``seed`` and ``options`` go to :meth:`DojoEnv.reset`); returns
        MLE-Dojo's reset observation (``feedback`` is text here) and an empty info dict."""
        self._new_episode(seed, options)
        return {"feedback": "Environment reset successfully: a new episode, with an empty work dir, fresh "
                            "budgets and no scores yet. " + WHERE,
                "total_reward": 0.0, "current_raw_score": 0.0, "current_position_score": 0.0,
                "history_summary": "History initialized"}, {}

    def render(self) -> str | None:
        """With ``render_mode="human"``: a line of progress, logged (``dojo_lite`` logger) and returned."""
        if self.render_mode != "human":
            return None
        line = (f"Step: {self.step_count}, Total Reward: {self.total_reward}, Current Raw Score: "
                f"{self.current_raw_score}, Current Position Score: {self.current_position_score}, "
                f"Actions Taken: {len(self._history['actions'])}")
        _log.info("%s: %s", self.competition_name, line)
        return line

    def close(self) -> None:
        """End the episode and close the sandbox; idempotent."""
        self._dojo.close()

    def __enter__(self) -> KaggleEnvironment:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def dojo_env(self) -> DojoEnv:
        """The :class:`dojo_lite.DojoEnv` inside (Gymnasium's API, ``info``, the trajectory)."""
        return self._dojo

    # ------------------------------------------------------------ translation

    def _request(self, name: str, action: Any, kwargs: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        """The DojoEnv action for an MLE-Dojo step, and the info type asked for.  What DojoEnv would
        refuse is passed on as it is, so that the step is answered, counted and recorded there."""
        if name == "request_info":
            info_type = kwargs.get("info_type", "all")
            if isinstance(info_type, str) and (info_type == "all" or info_type in INFO_TYPES):
                return {"action": "request_info", "topic": INFO_TYPES.get(info_type, "all")}, info_type
            # every DojoEnv topic is an info type here: what is not one here is refused there too
            return {"action": "request_info", "topic": info_type}, info_type
        if name in ("validate_code", "execute_code"):
            code = kwargs.get("code")
            # MLE-Dojo refuses an empty script; without "code", DojoEnv answers invalid_action
            return ({"action": name, "code": code} if isinstance(code, str) and code.strip()
                    else {"action": name}), None
        if name in ("get_history", "reset"):
            return {"action": name}, None
        return {"action": action if isinstance(action, str) else repr(action)}, None

    def _info_values(self, info_type: str, data: dict[str, Any]) -> dict[str, Any]:
        """MLE-Dojo's answer to request_info (``{info_type: value}``), from the DojoEnv's topics."""
        keys = list(INFO_TYPES) if info_type == "all" else [info_type]
        submission = data.get("submission", {})
        values: dict[str, Any] = {}
        for key in keys:
            if key == "overview":
                values[key] = self._dojo.task.description
            elif key == "sample_submission":
                values[key] = _sample_head(submission.get("sample_head", ""))
            elif key in ("data_structure", "data"):
                values[key] = data_text(data.get("data", {}).get("files", []))
            elif key == "data_path":
                values[key] = DATA_PATH
            elif key == "output_path":
                values[key] = OUTPUT_PATH
            elif key == "name":
                values[key] = self.competition_name
            elif key == "metadata":
                values[key] = dict(vars(self.competition.info))
            elif key == "submission":
                values[key] = (f"Write ./{SUBMISSION}: a CSV with the columns {submission.get('columns')}, one row "
                               f"per id of the test set ({submission.get('rows')} rows), each prediction a "
                               f"{submission.get('prediction_kind')}. ./input/sample_submission.csv begins:\n"
                               f"{submission.get('sample_head', '')}")
            elif key == "metric":
                metric = data.get("metric", {})
                values[key] = {**metric, "higher_is_better": metric.get("direction") == Direction.MAXIMIZE.value}
            else:
                values[key] = data.get("limits", {})
        return values

    def _feedback_text(self, name: str, obs: dict[str, Any], info: dict[str, Any], info_type: Any,
                       values: dict[str, Any] | None, code: Any) -> str:
        parts = [_HEADERS.get(name, "=== Invalid Action ===")]
        if values is not None:
            parts.append(WHERE)
            parts += [f"## {key}\n{_render(value)}" for key, value in values.items()]
        elif name == "request_info" and obs["status"] == "invalid_action":
            parts.append(f"Unknown info_type {clip_text(repr(info_type), 200)}; the info types are "
                         f"{', '.join(INFO_TYPES)}, or all. Nothing else was done.")
        else:
            parts.append(obs["feedback"])
        if name == "execute_code" and obs["status"] == "ok" and info["score"] is not None:
            position = info["position_score"]
            parts.append("=== Submission Evaluation ===\nSubmission successful\n"
                         f"Raw Score: {info['score']}\n"
                         f"Position Score: {'n/a (no leaderboard)' if position is None else f'{position:.4f}'}\n"
                         f"Best Raw Score: {self.best_raw_score}\nBest Position Score: {self.best_position_score}")
        if obs["status"] != "ok" and isinstance(code, str):
            named = [path for path in self._host_paths if path in code]
            if named:
                parts.append(f"Note: your code names {', '.join(named)}, a path on the host that does not exist "
                             f"where your code runs: read the data from {DATA_PATH}/ and write ./{SUBMISSION}.")
        return "\n\n".join(parts)

    def _observation(self, status: str, feedback: dict[str, Any]) -> dict[str, Any]:
        return {
            "action_status": status,
            "feedback": feedback,
            "current_raw_score": self.current_raw_score,
            "current_position_score": self.current_position_score,
            "best_raw_score": self.best_raw_score,
            "best_position_score": self.best_position_score,
            "history_summary": self._summary(),
        }

    def _summary(self) -> str:
        actions = self._history["actions"]
        if not actions:
            return "No actions taken yet."
        return f"Total Actions: {len(actions)}, Last Action: {actions[-1]['action']}"

    # ------------------------------------------------------------ episodes and output_dir

    def _new_episode(self, seed: int | None, options: dict[str, Any] | None) -> None:
        self._dojo.reset(seed=seed, options=options)
        self.total_reward = 0.0
        self.current_raw_score = 0.0
        self.current_position_score = 0.0
        self.best_code = None
        self.best_raw_score = None
        self.best_position_score = None
        self.step_count = 0
        trajectory = self._dojo.trajectory_path
        self._history: dict[str, Any] = {
            "competition": self.competition_name, "task": self._dojo.task.id, "episode_id": self._dojo.episode_id,
            "trajectory": str(trajectory) if trajectory else None, "actions": [], "total_reward": 0.0,
            "best_code": None, "best_raw_score": None, "best_position_score": None, "step_count": 0,
            "created_at": datetime.now().isoformat(),
        }
        self._write_history()

    def _record(self, name: str, result: dict[str, Any], feedback: dict[str, Any]) -> None:
        self._history["actions"].append({"step": self.step_count, "action": name,
                                         "timestamp": datetime.now().isoformat(), "result": result,
                                         "feedback": feedback})
        self._history.update(total_reward=self.total_reward, step_count=self.step_count, best_code=self.best_code,
                             best_raw_score=self.best_raw_score, best_position_score=self.best_position_score)
        self._write_history()

    def _write_history(self) -> None:
        staging = self.history_file.with_name(self.history_file.name + ".tmp")
        try:
            staging.write_text(json.dumps(self._history, indent=2, default=str), encoding="utf-8")
            staging.replace(self.history_file)  # a reader never sees half a file
        except OSError as exc:  # the operator's copy: the episode goes on without it
            _log.warning("dojo_lite: cannot write %s: %s", self.history_file, exc)

    def _save_text(self, prefix: str, suffix: str, text: str | bytes) -> None:
        """Keep a copy as ``output_dir/<prefix>_<n><suffix>``, n counting on from the copies there."""
        data = text.encode() if isinstance(text, str) else text
        n = len(list(self.output_dir.glob(f"{prefix}_*{suffix}"))) + 1
        try:
            while True:
                try:
                    with open(self.output_dir / f"{prefix}_{n}{suffix}", "xb") as handle:
                        handle.write(data)
                    return
                except FileExistsError:
                    n += 1
        except OSError as exc:
            _log.warning("dojo_lite: cannot keep a copy in %s: %s", self.output_dir, exc)

    def _archive_submission(self) -> None:
        workdir = self._dojo.workdir
        if workdir is None:
            return
        try:
            # the agent's file: read as the grader reads it (no links followed, size capped)
            data = _read_bytes(workdir, SUBMISSION, MAX_SUBMISSION_BYTES)
        except (SubmissionError, OSError):
            return
        self._save_text("submission", ".csv", data)


def _task_registry(name: str, cache: str | os.PathLike[str] | None) -> CompetitionRegistry:
    """The registry of a make without one: ``name`` is a dojo_lite task id."""
    registry = CompetitionRegistry(cache=cache)
    try:
        registry.register_task(name, name)
    except TaskNotFound as exc:
        raise CompetitionNotFoundError(f"Competition '{name}' not found",
                                       f"no competition_registry was given, and it is no dojo_lite task: {exc}"
                                       ) from exc
    return registry
