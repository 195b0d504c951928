"""The environment: one task, episodes of actions, Gymnasium's API and its async twins."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import math
import os
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import attrs
import gymnasium
import pandas as pd

import sandbox

from . import _feedback
from ._errors import EnvClosed, SubmissionError
from ._grading import read_submission, score_submission
from ._observation import ACTIONS, INFO_TOPICS, ActionSpace, Observation, ObservationSpace, Status, clip_text
from ._scores import Grade, Leaderboard, Medal, grade_score
from ._task import VARIANTS, PreparedData, Task, find_task
from ._trajectory import TrajectoryWriter

if TYPE_CHECKING:
    from ._admission import GpuNeed
    from ._scheduler import Scheduler

__all__ = ["DojoEnv", "RewardFn", "task_pool"]

_log = logging.getLogger("dojo_lite")

DATA_INSIDE = "/data"          # where a pool shows the task's public data: /data/full, /data/micro
SOLUTION_FILE = "solution.py"  # the name agent code runs under (tracebacks show it)
RewardFn = Callable[[Grade | None, "EpisodeState"], float]


def task_pool(task: Task, *, cache: Path | None = None, **kwargs: Any) -> sandbox.Pool:
    """A (not yet started) sandbox pool for ``task``'s episodes: its preload list, its public data
    mounted read-only under ``/data/full`` and ``/data/micro``; hidden inside: the task folder, the
    data cache, and the task's ``sources`` in the runtime (the data it was built from).  Keyword
    arguments go to :class:`sandbox.Pool`."""
    full, micro = task.prepare("full", cache), task.prepare("micro", cache)
    mounts = [sandbox.Mount(full.public, f"{DATA_INSIDE}/full"), sandbox.Mount(micro.public, f"{DATA_INSIDE}/micro")]
    runtime = kwargs.setdefault("runtime", sandbox.Runtime())
    hidden = [task.path.parent.parent, task.data_dir(cache).parent.parent, *runtime.locate(task.sources),
              *kwargs.pop("hidden", ())]
    kwargs.setdefault("limits", task.limits)
    kwargs.setdefault("disk_quota", task.disk_quota)
    kwargs.setdefault("name", task.id.replace("/", "--"))
    return sandbox.Pool(preload=task.preload, ro_mounts=mounts, hidden=hidden, **kwargs)


@attrs.define
class EpisodeState:
    """What one episode has done so far (mutable; the env owns it)."""

    episode_id: str
    started: float
    queued_s: float = 0.0  # time spent waiting for the scheduler: not charged to the budget
    steps: int = 0
    best: Grade | None = None
    history: list[dict[str, Any]] = attrs.field(factory=list)


def position_reward(grade: Grade | None, state: EpisodeState) -> float:
    """The default reward: this execution's position score (0 when it could not be graded)."""
    return float(grade.position_score or 0.0) if grade is not None else 0.0


def _parse_action(action: Any) -> tuple[dict[str, Any] | None, str]:
    """The action as a dict, or None and what is wrong with it."""
    if isinstance(action, (str, bytes)):
        try:
            action = json.loads(action)
        except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError, huge ints, deep nesting
            return None, f"the action is not valid JSON ({clip_text(str(exc), 300)})"
    if not isinstance(action, dict):
        return None, f"an action must be a dict or a JSON object, got {type(action).__name__}"
    name = action.get("action")
    if name not in ACTIONS:
        return None, f"unknown action {name!r}; the actions are {', '.join(ACTIONS)}"
    if name in ("validate_code", "execute_code") and not isinstance(action.get("code"), str):
        return None, f"{name} needs a 'code' string holding a Python script"
    topic = action.get("topic", "all")
    if name == "request_info" and topic not in (*INFO_TOPICS, "all"):
        return None, f"unknown topic {topic!r}; the topics are {', '.join(INFO_TOPICS)} (or all)"
    return action, ""


class DojoEnv(gymnasium.Env[dict[str, Any], dict[str, Any]]):
    """A Kaggle-style task as a Gymnasium environment.

    ``reset(seed=None, options=None) -> (obs, info)`` starts an episode: a fresh work dir and
    budgets; ``obs`` is the task's overview.  ``step(action) -> (obs, reward, terminated,
    truncated, info)`` runs one action, a dict (or its JSON text):

    - ``{"action": "request_info", "topic": T}``: T in overview, data, submission, metric,
      limits, or all (the default).
    - ``{"action": "validate_code", "code": C}``: a syntax check, then a run on the micro data
      under the validation limits, then the submission's format. No score, reward 0.
    - ``{"action": "execute_code", "code": C}``: a run on the full data under the task's limits,
      then grading; the reward is the position score (or ``reward=``'s choice).
    - ``{"action": "get_history"}``: every step so far, in ``obs["data"]["history"]``.
    - ``{"action": "reset"}``: empties the work dir (a fresh start); budgets and history go on.

    ``obs`` is ``{"action", "status", "feedback", "data"}``: a :class:`Status` value, text for
    an agent, and structured facts.  Errors of the agent (bad code, a malformed action or
    submission) are observations, never exceptions.  ``terminated`` is always False (an agent
    may always try to do better); ``truncated`` becomes True on the step that spends the step or
    wall-clock budget (time waiting in a scheduler's queue is not charged), and later steps
    answer ``budget_exhausted``.  ``info`` holds the step's
    ``score``, ``position_score`` (alias ``human_rank``), ``medal``, the episode's ``best_*``,
    ``steps_left`` and ``seconds_left``.

    Code runs in the work dir with the data under ``./input/`` and must write
    ``./submission.csv``.  ``variant="micro"`` makes ``execute_code`` run and grade on the micro
    data too (fast rollouts; its scores are not comparable with the leaderboard's).
    ``areset``/``astep`` are the async twins; use one style per env (the sync methods run an
    event loop of their own).  ``close()`` stops the sandbox and
    removes the work dir; every episode leaves a JSON-lines trajectory in ``trajectory_dir``.
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 1}

    def __init__(
        self,
        task: str | Task,
        *,
        task_path: Sequence[str | os.PathLike[str]] = (),
        reward: RewardFn = position_reward,
        pool: sandbox.Pool | None = None,
        trajectory_dir: str | os.PathLike[str] | None = None,
        cache: str | os.PathLike[str] | None = None,
        max_steps: int | None = None,
        max_seconds: float | None = None,
        render_mode: str | None = None,
        pool_options: dict[str, Any] | None = None,
        variant: str = "full",
        scheduler: Scheduler | None = None,
        gpu: GpuNeed | None = None,
        leaderboard: Any = ...,
        disk_quota: Any = ...,
    ) -> None:
        self.task = task if isinstance(task, Task) else find_task(task, task_path)
        self.observation_space = ObservationSpace()
        self.action_space = ActionSpace()
        self.render_mode = render_mode
        self.reward_fn = reward
        self.cache = Path(cache).resolve() if cache else None
        self.max_steps = self.task.budget.steps if max_steps is None else max_steps
        self.max_seconds = self.task.budget.seconds if max_seconds is None else max_seconds
        if variant not in VARIANTS or self.max_steps < 1 or self.max_seconds <= 0:
            raise ValueError(f"want variant in {VARIANTS}, max_steps >= 1 and max_seconds > 0; got {variant!r}, "
                             f"{self.max_steps!r}, {self.max_seconds!r}")
        # the task's leaderboard unless one is given (None: grade without positions or medals)
        self.leaderboard: Leaderboard | None = self.task.leaderboard() if leaderboard is ... else leaderboard
        self.trajectory_dir = Path(trajectory_dir) if trajectory_dir else None
        self.variant = variant
        self._disk_quota = disk_quota
        self.scheduler = scheduler
        self.gpu = gpu
        self._pool = pool
        self._own_pool = pool is None and scheduler is None
        self._pool_options = dict(pool_options or {})
        self._runner: asyncio.Runner | None = None
        self._state: EpisodeState | None = None
        self._trajectory: TrajectoryWriter | None = None
        self._last: Observation | None = None
        self._closed = False
        self._data: dict[str, PreparedData] = {}
        self._answer_cache: dict[str, pd.DataFrame] = {}
        self._info_cache: dict[str, tuple[str, dict[str, Any]]] = {}

    # ------------------------------------------------------------ sync API (Gymnasium)

    def reset(self, *, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
        obs, info = self._sync(self.areset(seed=seed, options=options))
        return obs, info

    def step(self, action: Any) -> tuple[dict[str, Any], float, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self._sync(self.astep(action))
        return obs, reward, terminated, truncated, info

    def render(self) -> str | None:  # type: ignore[override]
        """With ``render_mode="ansi"``: the last observation's feedback."""
        if self.render_mode != "ansi":
            return None
        return self._last.feedback if self._last else ""

    def close(self) -> None:
        """End the episode and stop the sandbox; after async use, prefer ``await aclose()``."""
        if self._runner is None and self._pool is not None and not self._closed:
            # the pool lives on the event loop that started it; only that loop can stop it
            raise RuntimeError("this env runs on an event loop (areset/astep): close it with `await env.aclose()`")
        if self._runner is None:
            self._runner = asyncio.Runner()
        try:
            self._runner.run(self.aclose())
        finally:
            self._runner.close()
            self._runner = None

    def _sync(self, coro: Any) -> Any:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            coro.close()
            raise RuntimeError("DojoEnv's sync methods cannot run inside an event loop: use areset/astep")
        if self._runner is None:
            self._runner = asyncio.Runner()
        return self._runner.run(coro)

    # ------------------------------------------------------------ async API

    async def areset(self, *, seed: int | None = None,
                     options: dict[str, Any] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
        """Start a new episode (ending the current one); returns the overview and info."""
        self._check_open()
        super().reset(seed=seed)
        await self._end_episode()
        pool = await self._ensure_pool()
        state = EpisodeState(episode_id=uuid.uuid4().hex[:12], started=time.monotonic())
        await pool.prepare_workdir(state.episode_id, disk_quota=self._episode_quota(pool, options or {}))
        self._state = state
        if self.trajectory_dir is not None:
            self._trajectory = TrajectoryWriter.open(self.trajectory_dir, self.task, state.episode_id, seed)
        obs = self._info_observation("overview")
        self._last = obs
        return obs.to_dict(), self._info(None)

    async def astep(self, action: Any) -> tuple[dict[str, Any], float, bool, bool, dict[str, Any]]:
        """Run one action; see the class docstring for what comes back."""
        self._check_open()
        if self._state is None:
            raise gymnasium.error.ResetNeeded("call reset() before step()")
        state = self._state
        started, wall = time.time(), time.monotonic()
        if self._budget_spent():
            obs, grade = self._exhausted(), None
        else:
            state.steps += 1
            try:
                obs, grade = await self._act(action)
            except asyncio.CancelledError:
                cancelled = Observation("cancelled", Status.SANDBOX_ERROR, "The step was cancelled.")
                self._record(action, cancelled, 0.0, False, self._info(None), started, time.monotonic() - wall)
                raise
            except Exception as exc:  # the controller must survive whatever an action brings
                _log.exception("dojo_lite: internal error in a step of %s", self.task.id)
                obs, grade = Observation("internal", Status.SANDBOX_ERROR,
                                         f"The environment failed on this step (not your fault): {exc!r}"), None
        reward = float(self.reward_fn(grade, state)) if obs.status is Status.OK else 0.0
        if grade is not None and obs.status is Status.OK:
            state.best = _better(state.best, grade, self.task)
        truncated = self._budget_spent()
        info = self._info(grade)
        self._record(action, obs, reward, truncated, info, started, time.monotonic() - wall)
        self._last = obs
        return obs.to_dict(), reward, False, truncated, info

    async def aclose(self) -> None:
        """End the episode, stop the sandbox (if this env started it); idempotent."""
        if self._closed:
            return
        self._closed = True
        try:
            await self._end_episode()
        finally:
            if self._own_pool and self._pool is not None:
                await self._pool.aclose()
            elif self.scheduler is not None and self._pool is not None:
                self.scheduler.release_pool(self.task)
            self._pool = None

    # ------------------------------------------------------------ episode bookkeeping

    @property
    def episode_id(self) -> str | None:
        return self._state.episode_id if self._state else None

    @property
    def workdir(self) -> Path | None:
        """The host path of the current episode's work dir."""
        return self._pool.workdir(self._state.episode_id) if self._pool and self._state else None

    @property
    def trajectory_path(self) -> Path | None:
        return self._trajectory.path if self._trajectory else None

    @property
    def history(self) -> list[dict[str, Any]]:
        return [dict(h) for h in self._state.history] if self._state else []

    def _episode_quota(self, pool: sandbox.Pool, options: dict[str, Any]) -> sandbox.DiskQuota | None:
        """The work dir's quota: ``reset(options={"disk_quota": ...})``, else the env's ``disk_quota``,
        else the task's, unless the pool was made without quotas (an explicit opt-out)."""
        if "disk_quota" in options:
            return cast(sandbox.DiskQuota | None, options["disk_quota"])
        if self._disk_quota is not ...:
            return cast(sandbox.DiskQuota | None, self._disk_quota)
        return self.task.disk_quota if pool.disk_quota is not None else None

    def _check_open(self) -> None:
        if self._closed:
            raise EnvClosed("this environment was closed")

    async def _ensure_pool(self) -> sandbox.Pool:
        if self._pool is None and self.scheduler is not None:
            self._pool = await self.scheduler.lease_pool(self.task)
        elif self._pool is None:
            # preparing the task's data (the first time) and probing the runtime: off the event loop
            self._pool = await asyncio.to_thread(task_pool, self.task, cache=self.cache, **self._pool_options)
            await self._pool.start()
        return self._pool

    async def _end_episode(self) -> None:
        try:
            if self._trajectory is not None:
                trajectory, self._trajectory = self._trajectory, None
                trajectory.close(self._summary())
        finally:
            state, self._state = self._state, None
            if state is not None and self._pool is not None and not self._pool.closed:
                await self._pool.remove_workdir(state.episode_id)

    def _seconds_left(self) -> float:
        assert self._state is not None
        return self.max_seconds - (time.monotonic() - self._state.started - self._state.queued_s)

    def _budget_spent(self) -> bool:
        assert self._state is not None
        return self._state.steps >= self.max_steps or self._seconds_left() <= 0

    def _exhausted(self) -> Observation:
        assert self._state is not None
        return Observation("none", Status.BUDGET_EXHAUSTED,
                           f"The episode's budget is spent ({self._state.steps} of {self.max_steps} steps, "
                           f"{self.max_seconds:.0f} s): call reset() to start a new episode.")

    def _info(self, grade: Grade | None) -> dict[str, Any]:
        assert self._state is not None
        best = self._state.best
        return {
            "task": self.task.id, "step": self._state.steps,
            "score": grade.score if grade else None,
            "position_score": grade.position_score if grade else None,
            "human_rank": grade.position_score if grade else None,
            "medal": grade.medal.value if grade else None,
            "best_score": best.score if best else None,
            "best_position_score": best.position_score if best else None,
            "best_medal": best.medal.value if best else Medal.NONE.value,
            "steps_left": max(0, self.max_steps - self._state.steps),
            "seconds_left": max(0, math.floor(self._seconds_left())),
        }

    def _summary(self) -> dict[str, Any]:
        info = self._info(None) if self._state else {}
        return {key: info.get(key) for key in ("step", "best_score", "best_position_score", "best_medal")}

    def _record(self, action: Any, obs: Observation, reward: float, truncated: bool,
                info: dict[str, Any], started: float, wall_s: float) -> None:
        assert self._state is not None
        entry = {"step": self._state.steps, "action": obs.action, "status": obs.status.value,
                 "score": info["score"], "position_score": info["position_score"], "medal": info["medal"],
                 "reward": reward, "wall_s": round(wall_s, 3)}
        self._state.history.append(entry)
        if self._trajectory is not None:
            self._trajectory.step(action=action, observation=obs.to_dict(), reward=reward,
                                  truncated=truncated, info=info, started=started, wall_s=wall_s)

    # ------------------------------------------------------------ the actions

    async def _act(self, raw: Any) -> tuple[Observation, Grade | None]:
        action, problem = _parse_action(raw)
        if action is None:
            return Observation("invalid", Status.INVALID_ACTION, f"Invalid action: {problem}."), None
        name = action["action"]
        if name == "request_info":  # the data topic reads the public files once: off the event loop
            return await asyncio.to_thread(self._info_observation, action.get("topic", "all")), None
        if name == "get_history":
            return self._history_observation(), None
        if name == "reset":
            return await self._reset_workdir(), None
        return await self._run_code(name, action["code"])

    @functools.cached_property
    def _custom_grader(self) -> Callable[..., float] | None:
        """The task's ``grade.py`` hook, loaded once."""
        grader: Callable[..., float] | None = self.task.custom_grader()
        return grader

    def _answers(self, variant: str) -> pd.DataFrame:
        """The private answers of ``variant``, read once per env (never shown to agent code)."""
        if variant not in self._answer_cache:
            self._answer_cache[variant] = self._prepared(variant).answers()
        return self._answer_cache[variant]

    def _prepared(self, variant: str) -> PreparedData:
        if variant not in self._data:
            self._data[variant] = self.task.prepare(variant, self.cache)
        return self._data[variant]

    def _topic(self, topic: str) -> tuple[str, dict[str, Any]]:
        if topic == "limits":
            return self._limits_topic()
        if topic not in self._info_cache:
            self._info_cache[topic] = self._static_topic(topic)
        text, data = self._info_cache[topic]
        return text, dict(data)

    def _static_topic(self, topic: str) -> tuple[str, dict[str, Any]]:
        task, spec = self.task, self.task.grading
        if topic == "overview":
            return task.description, {"task": task.id, "title": task.title, "domain": task.domain}
        if topic == "data":
            files = _feedback.data_files(self._prepared("full"))
            return _feedback.data_text(files), {"files": files}
        if topic == "submission":
            return _feedback.submission_format(task, self._prepared(self.variant))
        metric = {"metric": spec.metric, "direction": spec.direction.value}
        better = "higher" if spec.direction.value == "maximize" else "lower"
        return f"Metric: {spec.metric} ({spec.direction.value}: {better} is better).", metric

    def _limits_topic(self) -> tuple[str, dict[str, Any]]:
        assert self._state is not None
        run, check = self.task.limits, self.task.validate_limits
        data = {
            "execute": {"timeout_s": run.timeout, "memory_bytes": run.memory, "cpus": run.cpus},
            "validate": {"timeout_s": check.timeout, "memory_bytes": check.memory, "cpus": check.cpus},
            "steps_left": max(0, self.max_steps - self._state.steps),
            "seconds_left": max(0, math.floor(self._seconds_left())),
        }
        text = (f"execute_code: up to {run.timeout:.0f} s, {run.memory >> 20} MiB, {run.cpus:g} CPU(s) on the "
                f"{self.variant} data. validate_code: up to {check.timeout:.0f} s on the micro data. Budget left: "
                f"{data['steps_left']} steps, {data['seconds_left']} s.")
        return text, data

    def _info_observation(self, topic: str) -> Observation:
        topics = INFO_TOPICS if topic == "all" else (topic,)
        parts = {t: self._topic(t) for t in topics}
        feedback = "\n\n".join(f"## {t}\n{text}" for t, (text, _) in parts.items())
        return Observation("request_info", Status.OK, feedback, {t: data for t, (_, data) in parts.items()})

    def _history_observation(self) -> Observation:
        history = self.history
        lines = [f"{h['step']:>3} {h['action']:<14} {h['status']:<17}"
                 + (f" score={h['score']:.6g} position_score={h['position_score']}" if h["score"] is not None else "")
                 for h in history]
        text = "Steps so far:\n" + "\n".join(lines) if lines else "No steps yet."
        return Observation("get_history", Status.OK, text, {"history": history})

    async def _reset_workdir(self) -> Observation:
        assert self._pool is not None and self._state is not None
        await self._pool.clear_workdir(self._state.episode_id)
        return Observation("reset", Status.OK, "The work dir is empty again; budgets and history go on.")

    async def _run_code(self, name: str, code: str) -> tuple[Observation, Grade | None]:
        variant = "micro" if name == "validate_code" else self.variant
        problem = await asyncio.to_thread(_syntax_problem, code)
        if problem:
            return Observation(name, Status.CODE_ERROR, f"Your code does not compile: {problem}. Nothing was run.",
                               {"syntax_error": problem}), None
        result = await self._run(code, variant, validate=name == "validate_code")
        where = f"on the {variant} data"
        text, data = _feedback.describe_run(result, where), {"run": _feedback.run_data(result)}
        if result.status is sandbox.Status.SANDBOX_ERROR:
            return Observation(name, Status.SANDBOX_ERROR, text, data), None
        if result.status is not sandbox.Status.OK:
            return Observation(name, Status.CODE_ERROR, text, data), None
        return await asyncio.to_thread(self._check_and_grade, name, variant, text, data)

    async def _run(self, code: str, variant: str, *, validate: bool) -> sandbox.RunResult:
        pool, workdir = self._pool, self.workdir
        assert pool is not None and workdir is not None and self._state is not None
        await asyncio.to_thread(_prepare_run, workdir, pool.agent_path(f"{DATA_INSIDE}/{variant}"))
        limits = self.task.validate_limits if validate else self.task.limits
        limits = attrs.evolve(limits, timeout=max(1.0, min(limits.timeout, self._seconds_left())))
        if self.scheduler is None:
            return await pool.run(code, workdir=self._state.episode_id, limits=limits, filename=SOLUTION_FILE)
        async with self.scheduler.admit(self._state.episode_id, limits, self.gpu) as grant:
            self._state.queued_s += grant.waited_s
            held = time.monotonic()
            result = await pool.run(code, workdir=self._state.episode_id, limits=limits, filename=SOLUTION_FILE,
                                    gpu=grant.gpu)
            self.scheduler.record_overhead(time.monotonic() - held - result.wall_s)
        return result

    def _check_and_grade(self, name: str, variant: str, text: str,
                         data: dict[str, Any]) -> tuple[Observation, Grade | None]:
        spec = self.task.grading
        answers = self._answers(variant)
        workdir = self.workdir
        assert workdir is not None
        try:
            submission = read_submission(workdir, spec, answers[spec.id_column])
            if name == "validate_code":
                return Observation(name, Status.OK, f"{text}\n\nThe submission's format is valid ({len(submission)} "
                                   "rows). Run execute_code to get a score on the full data.", data), None
            score = score_submission(spec, submission, answers, self._custom_grader)
        except SubmissionError as exc:
            data["submission_error"] = {"code": exc.code, "message": exc.message}
            return Observation(name, Status.SUBMISSION_ERROR, f"{text}\n\nThe submission is not valid: {exc.message}",
                               data), None
        grade = grade_score(self.leaderboard, score)
        data["grade"] = grade.to_dict()
        return Observation(name, Status.OK, f"{text}\n\n{grade.describe(spec.metric)}", data), grade


def _prepare_run(workdir: Path, data: str) -> None:
    """``./input`` -> this run's data (a link the controller owns and resets before each run), and
    no stale ``submission.csv`` to grade.  Whatever the agent left at either name goes (a link is
    never followed)."""
    for name in ("input", "submission.csv"):
        sandbox.remove_tree(workdir / name)
    (workdir / "input").symlink_to(data)


def _syntax_problem(code: str) -> str:
    """Why ``code`` does not compile, or "" (run in a thread: compiling is the controller's work)."""
    try:
        compile(code, SOLUTION_FILE, "exec")
    except SyntaxError as exc:
        line = clip_text((exc.text or "").rstrip(), 300)
        return f"{type(exc).__name__}: {exc.msg} (line {exc.lineno}): {line}"
    except (ValueError, RecursionError, MemoryError, OverflowError) as exc:
        return f"{type(exc).__name__}: {clip_text(str(exc), 300) or 'the code is too deeply nested or too large'}"
    return ""


def _better(best: Grade | None, grade: Grade, task: Task) -> Grade:
    if best is None or best.score is None:
        return grade
    if grade.score is not None and task.grading.direction.better(grade.score, best.score):
        return grade
    return best
