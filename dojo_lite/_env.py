"""The environment: one task, episodes of actions, Gymnasium's API and its async twins."""

from __future__ import annotations

import asyncio
import logging
import math
import os
import time
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import Any, TypeVar

import gymnasium

from ._actions import HANDLERS, Stage, info_observation, parse_action
from ._backend import Backend, PoolBackend
from ._defaults import FROM_TASK, FromTask
from ._episode import Episode, RewardFn, position_reward
from ._errors import (
    ConfigError,
    EnvClosed,
    PrepareError,
    RewardError,
    TaskCodeError,
    TaskFormatError,
    UsageError,
)
from ._judge import Judge
from ._observation import Action, ActionSpace, Observation, ObservationSpace, Status
from ._scores import Grade, Leaderboard
from ._task import VARIANTS, Task, find_task
from ._trajectory import TrajectoryWriter

__all__ = ["DojoEnv"]

_log = logging.getLogger("dojo_lite")
T = TypeVar("T")


class DojoEnv(gymnasium.Env[dict[str, Any], dict[str, Any] | str]):
    """A Kaggle-style task as a Gymnasium environment.

    ``reset(seed=None, options=None) -> (obs, info)`` starts an episode: a fresh work dir and
    budgets; ``obs`` is the task's overview.  ``options={"disk_quota": q}`` overrides the work
    dir's quota for that episode.  ``step(action) -> (obs, reward, terminated, truncated, info)``
    runs one action, a dict (or its JSON text):

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
    submission) are observations, never exceptions.  A failure of the task's own code (its
    ``grade.py``) answers ``task_error`` and one of dojo_lite's ``internal_error``; both are
    logged with their traceback on the ``dojo_lite`` logger, for the operator.  ``terminated`` is
    always False (an agent may always try to do better); ``truncated`` becomes True on the step
    that spends the step or wall-clock budget, and later steps answer ``budget_exhausted``.
    ``info`` holds the step's ``score``, ``position_score``, ``medal``, the episode's ``best_*``,
    ``steps_left`` and ``seconds_left``.  The spaces are an :class:`ObservationSpace` and an
    :class:`ActionSpace` (whose ``contains`` is True for the well-formed actions), so
    ``gymnasium.make_vec`` (sync or async: each env then has a sandbox pool of its own) and
    Gymnasium's wrappers work as with any env.

    Code runs in the work dir with the data under ``./input/`` and must write
    ``./submission.csv``.  ``areset``/``astep``/``aclose`` are the async twins; use one style
    per env (the sync methods run an event loop of their own).  ``close()`` ends the episode and
    closes the backend.  Misuse raises a :class:`DojoError`.

    Arguments (all but ``task`` by keyword):

    - ``task``: a task id (``tabular/titanic-survival``, or its Gymnasium id) or a :class:`Task`.
    - ``task_path``: extra folders to look for ``task`` in (see ``tasks/README.md``).
    - ``backend``: where code runs (a :class:`Backend`): by default a :class:`PoolBackend` of
      the env's own; ``PoolBackend(isolation="none")`` and other :class:`sandbox.Pool` options;
      a :class:`SharedPoolBackend`; or a scheduler's, ``Scheduler.backend(gpu=...)``.
    - ``reward``: ``reward(grade, episode) -> float`` for a clean ``execute_code``; by default
      its position score on the leaderboard.  Other steps give 0.
    - ``variant``: ``"full"`` (the default) or ``"micro"``: the data ``execute_code`` runs and
      is graded on (micro makes fast rollouts; its scores are not comparable with the
      leaderboard's).  ``validate_code`` always runs on micro.
    - ``max_steps``, ``max_seconds``: the episode's budgets (the task's ``[budget]`` by default).
    - ``leaderboard``: the :class:`Leaderboard` positions and medals come from: the task's by
      default (:data:`FROM_TASK`), or None to grade without them.
    - ``disk_quota``: the work dir's :class:`sandbox.DiskQuota`, the task's by default
      (:data:`FROM_TASK`), or None for none.
    - ``cache``: where prepared task data is kept (``$DOJO_LITE_CACHE`` by default).
    - ``trajectory_dir``: where each episode's JSON-lines trajectory goes (none by default).
    - ``render_mode``: None, or ``"ansi"`` (``render()`` gives the last feedback).
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 1}

    def __init__(
        self,
        task: str | Task,
        *,
        task_path: Sequence[str | os.PathLike[str]] = (),
        backend: Backend | None = None,
        reward: RewardFn = position_reward,
        variant: str = "full",
        max_steps: int | None = None,
        max_seconds: float | None = None,
        leaderboard: Leaderboard | FromTask | None = FROM_TASK,
        disk_quota: Any = FROM_TASK,
        cache: str | os.PathLike[str] | None = None,
        trajectory_dir: str | os.PathLike[str] | None = None,
        render_mode: str | None = None,
    ) -> None:
        self.task = task if isinstance(task, Task) else find_task(task, task_path)
        self.observation_space = ObservationSpace()
        self.action_space = ActionSpace()
        if render_mode not in (None, *self.metadata["render_modes"]):
            raise ConfigError(f"render_mode must be None or 'ansi', got {render_mode!r}")
        self.render_mode = render_mode
        self.reward_fn = reward
        self.cache = Path(cache).resolve() if cache else None
        self.max_steps = self.task.budget.steps if max_steps is None else max_steps
        self.max_seconds = self.task.budget.seconds if max_seconds is None else max_seconds
        if variant not in VARIANTS or self.max_steps < 1 or self.max_seconds <= 0:
            raise ConfigError(f"want variant in {VARIANTS}, max_steps >= 1 and max_seconds > 0; got {variant!r}, "
                              f"{self.max_steps!r}, {self.max_seconds!r}")
        self.variant = variant
        self.leaderboard = self.task.leaderboard() if leaderboard is FROM_TASK else leaderboard
        self.trajectory_dir = Path(trajectory_dir) if trajectory_dir else None
        self.backend: Backend = backend if backend is not None else PoolBackend()
        self._disk_quota = disk_quota
        self._judge = Judge(self.task, self.cache, self.leaderboard)
        self._topics: dict[str, tuple[str, dict[str, Any]]] = {}
        self._runner: asyncio.Runner | None = None
        self._started = False
        self._episode: Episode | None = None
        self._workdir: Path | None = None
        self._last: Observation | None = None
        self._closed = False

    # ------------------------------------------------------------ sync API (Gymnasium)

    def reset(self, *, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
        return self._sync(self.areset(seed=seed, options=options))

    def step(self, action: Any) -> tuple[dict[str, Any], float, bool, bool, dict[str, Any]]:
        return self._sync(self.astep(action))

    def render(self) -> str | None:  # type: ignore[override]
        """With ``render_mode="ansi"``: the last observation's feedback."""
        if self.render_mode != "ansi":
            return None
        return self._last.feedback if self._last else ""

    def close(self) -> None:
        """End the episode and close the backend; after async use, ``await aclose()`` instead."""
        if self._closed:
            return
        if not self._started:  # nothing was started: nothing to stop, on whatever loop
            self._closed = True
            if self._runner is not None:
                self._runner.close()
                self._runner = None
            return
        if self._runner is None:
            # what the backend started lives on the event loop that started it
            raise UsageError("this env runs on an event loop (areset/astep): close it with `await env.aclose()`")
        try:
            self._sync(self.aclose())
        finally:
            if self._runner is not None:
                self._runner.close()
                self._runner = None

    def _sync(self, coro: Coroutine[Any, Any, T]) -> T:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            coro.close()
            raise UsageError("DojoEnv's sync methods cannot run inside an event loop: use areset/astep/aclose")
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
        if not self._started:
            await self.backend.start(self.task, self.cache)
            self._started = True
        episode = Episode(self.task.id, self.max_steps, self.max_seconds)
        quota = (options or {}).get("disk_quota", self._disk_quota)
        self._workdir = await self.backend.open_workdir(episode.episode_id, quota)
        self._episode = episode
        if self.trajectory_dir is not None:
            try:
                episode.trajectory = TrajectoryWriter.open(self.trajectory_dir, self.task, episode.episode_id, seed)
            except OSError as exc:
                await self.backend.remove_workdir(episode.episode_id)
                self._episode = None
                raise ConfigError(f"cannot write trajectories to {self.trajectory_dir}: {exc}") from exc
        obs = info_observation(self._stage(), "overview")  # reads no files
        self._last = obs
        return obs.to_dict(), episode.info(None)

    async def astep(self, action: Any, *, note: dict[str, Any] | None = None,
                    ) -> tuple[dict[str, Any], float, bool, bool, dict[str, Any]]:
        """Run one action; see the class docstring for what comes back.  ``note``, a JSON-able
        dict from the agent about how it chose the action (an LLM's message and token use), is
        kept in the step's trajectory record as ``"agent"``; the env reads nothing of it."""
        self._check_open()
        episode = self._episode
        if episode is None:
            raise gymnasium.error.ResetNeeded("call reset() before step()")
        started, wall = time.time(), time.monotonic()
        if episode.spent():
            obs, grade = episode.exhausted(), None
        else:
            episode.steps += 1
            try:
                obs, grade = await self._act(action)
            except (asyncio.CancelledError, EnvClosed, UsageError, ConfigError) as exc:
                # the caller's doing (a cancel, a closed scheduler, misuse): recorded, then raised
                ended = Observation(Action.CANCELLED, Status.SANDBOX_ERROR, f"The step did not finish: {exc!r}.")
                episode.record(action, ended, 0.0, False, episode.info(None), started, time.monotonic() - wall,
                               note=note)
                raise
            except Exception as exc:  # neither the agent's fault nor the sandbox's: the operator's log has it
                obs, grade = self._failure(exc), None
        reward, problem = self._reward(obs, grade, episode)
        if grade is not None and obs.status is Status.OK:
            episode.improve(grade, self.task.grading.direction)
        truncated = episode.spent()
        info = episode.info(grade)
        episode.record(action, obs, reward, truncated, info, started, time.monotonic() - wall, note=note)
        self._last = obs
        if problem is not None:
            raise RewardError(f"the reward function failed on step {episode.steps}: {problem!r}") from problem
        return obs.to_dict(), reward, False, truncated, info

    async def aclose(self) -> None:
        """End the episode and close the backend; idempotent."""
        if self._closed:
            return
        self._closed = True
        try:
            await self._end_episode()
        finally:
            await self.backend.aclose()

    # ------------------------------------------------------------ episode bookkeeping

    @property
    def episode(self) -> Episode | None:
        """The current episode (None before the first reset and after close)."""
        return self._episode

    @property
    def episode_id(self) -> str | None:
        return self._episode.episode_id if self._episode else None

    @property
    def workdir(self) -> Path | None:
        """The host path of the current episode's work dir."""
        return self._workdir if self._episode else None

    @property
    def trajectory_path(self) -> Path | None:
        trajectory = self._episode.trajectory if self._episode else None
        return trajectory.path if trajectory else None

    @property
    def history(self) -> list[dict[str, Any]]:
        return [dict(h) for h in self._episode.history] if self._episode else []

    def _check_open(self) -> None:
        if self._closed:
            raise EnvClosed("this environment was closed")

    def _stage(self) -> Stage:
        assert self._episode is not None and self._workdir is not None
        return Stage(self.task, self.backend, self._judge, self.variant, self._episode, self._workdir, self._topics)

    async def _end_episode(self) -> None:
        episode, self._episode = self._episode, None
        if episode is None:
            return
        try:
            episode.end()
        finally:
            await self.backend.remove_workdir(episode.episode_id)

    async def _act(self, raw: Any) -> tuple[Observation, Grade | None]:
        action, problem = parse_action(raw)
        if action is None:
            return Observation(Action.INVALID, Status.INVALID_ACTION, f"Invalid action: {problem}."), None
        return await HANDLERS[Action(action["action"])](self._stage(), action)

    def _reward(self, obs: Observation, grade: Grade | None, episode: Episode) -> tuple[float, Exception | None]:
        """The step's reward (0 unless it went well), or 0 and what the reward function raised."""
        if obs.status is not Status.OK:
            return 0.0, None
        try:
            reward = float(self.reward_fn(grade, episode))
        except Exception as exc:  # the caller's function: the step is recorded, then this is raised
            return 0.0, exc
        if not math.isfinite(reward):
            return 0.0, ValueError(f"the reward is {reward}, not a finite number")
        return reward, None

    def _failure(self, exc: Exception) -> Observation:
        if isinstance(exc, TaskCodeError | TaskFormatError | PrepareError):  # the task author's to fix
            _log.error("dojo_lite: task %s: its own code failed on a step", self.task.id, exc_info=exc)
            return Observation(Action.INTERNAL, Status.TASK_ERROR,
                               "The task's own grading code failed on this step: a bug of the task, not of "
                               "your code or of the sandbox. The operator has the details; the step is not "
                               "scored.")
        _log.error("dojo_lite: internal error in a step of %s", self.task.id, exc_info=exc)
        return Observation(Action.INTERNAL, Status.INTERNAL_ERROR,
                           f"dojo_lite failed on this step (a bug of the environment, not of your code): "
                           f"{type(exc).__name__}. The operator has the details; the step is not scored.")
