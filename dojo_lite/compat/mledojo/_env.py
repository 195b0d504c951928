"""MLE-Dojo's ``KaggleEnvironment`` over a :class:`dojo_lite.DojoEnv`."""

from __future__ import annotations

import contextlib
import json
import logging
import math
import numbers
import os
from collections.abc import Mapping, Sequence
from datetime import datetime
from io import StringIO
from pathlib import Path
from typing import Any

import attrs
import pandas as pd

import sandbox

from ..._backend import Backend, PoolBackend
from ..._env import DojoEnv
from ..._episode import Episode, position_reward
from ..._errors import ConfigError, DojoError, SubmissionError, TaskNotFound
from ..._feedback import data_text
from ..._grading import MAX_SUBMISSION_BYTES, SUBMISSION, _read_bytes
from ..._metrics import Direction
from ..._observation import INFO_TOPICS, clip_text
from ..._scores import Grade
from ..._task import Task
from ._errors import CompetitionNotFoundError
from ._registry import CompetitionRegistry

__all__ = ["DojoStep", "KaggleEnvironment"]

_log = logging.getLogger("dojo_lite")


INFO_TYPES: dict[str, str] = {
    # MLE-Dojo's info types -> the DojoEnv topic the step asks for (recorded, budgeted)
    "overview": "overview", "sample_submission": "submission", "data_structure": "data",
    "data_path": "data", "output_path": "submission", "name": "overview", "metadata": "metric",
}
# and dojo_lite's own topics, so that every topic a DojoEnv knows is an info type here too
INFO_TYPES |= {topic: topic for topic in INFO_TOPICS if topic not in INFO_TYPES}
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
        self._next_copy: dict[str, int] = {}  # <prefix><suffix> -> the next n of _save_text
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
        """Keep a copy as ``output_dir/<prefix>_<n><suffix>``, n counting on from the copies there
        (counted once per prefix; a name taken meanwhile, say by another env, is skipped)."""
        data = text.encode() if isinstance(text, str) else text
        key = prefix + suffix
        if key not in self._next_copy:
            self._next_copy[key] = len(list(self.output_dir.glob(f"{prefix}_*{suffix}"))) + 1
        try:
            while True:
                n, self._next_copy[key] = self._next_copy[key], self._next_copy[key] + 1
                try:
                    with open(self.output_dir / f"{prefix}_{n}{suffix}", "xb") as handle:
                        handle.write(data)
                    return
                except FileExistsError:
                    pass
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
