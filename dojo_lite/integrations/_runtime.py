"""The process's bridge to dojo_lite for RL libraries: one event loop on a thread of its own.

dojo_lite's envs belong to the event loop that started them (their sandbox pools live there),
while RL libraries call environments from wherever they run: TRL and SkyRL synchronously, from
the trainer's thread or a pool of worker threads; verl and verifiers from coroutines on event
loops of their own.  A :class:`DojoRuntime` owns one loop, on a daemon thread, and on it one
:class:`~dojo_lite.Scheduler` (so episodes share warm pools and the host's CPU and memory
budgets).  Everything else reaches it through two doors:

- :meth:`DojoRuntime.call` (from any other thread): submits a coroutine with
  ``asyncio.run_coroutine_threadsafe`` and blocks that thread, never the loop, until it is done;
- :meth:`DojoRuntime.acall` (from a coroutine on any other loop): the same, awaited without
  blocking the caller's loop; cancelling the caller cancels the work.

Each submitted coroutine runs as a child of the runtime's :class:`~dojo_lite._nursery.Nursery`,
so closing the runtime cancels what is in flight (its callers get :class:`~dojo_lite.EnvClosed`),
then closes every open :class:`Session` and the scheduler: no process, cgroup or work dir is left.

A :class:`Session` is one episode of one task (a :class:`~dojo_lite.DojoEnv` on the scheduler's
pools), with the prompt every integration shows a model (:func:`~dojo_lite._chat.system_prompt`
of the task's overview), its steps as :class:`StepOutcome` (what the model reads is
:func:`~dojo_lite._chat.observation_message`), and the episode's reward (see :data:`REWARDS`).
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import importlib.util
import json
import math
import os
import threading
import time
from collections.abc import Coroutine, Mapping, Sequence
from typing import Any, TypeVar

import attrs

from .._chat import FIRST_TURN, _action_from_call, _action_from_text, observation_message, system_prompt
from .._env import DojoEnv
from .._errors import ConfigError, EnvClosed, UsageError
from .._nursery import Nursery, shielded
from .._observation import Action, Status
from .._scheduler import Scheduler, SchedulerStats
from .._task import VARIANTS, Task, find_task

__all__ = [
    "REWARDS",
    "DojoRuntime",
    "RuntimeConfig",
    "RuntimeStats",
    "Session",
    "StepOutcome",
    "default_runtime",
    "invalid_outcome_text",
    "messages_with_prompt",
    "read_reply",
    "read_tool_call",
    "require",
    "task_and_seed",
]

T = TypeVar("T")

REWARDS = ("best", "last")
"""The episode rewards a runtime can give (:attr:`RuntimeConfig.reward`):

- ``"best"`` (the default): the position score of the episode's best graded ``execute_code``,
  0 when none was graded.  The task is to reach the best score within the budget, as on a
  leaderboard where the best submission counts; an agent that tries a bold idea after a good
  one is not punished for the try, and the number is the one dojo_lite reports for every
  episode (``info["best_position_score"]``, ``EpisodeResult.best_position_score``).
- ``"last"``: the position score of the last graded ``execute_code`` (0 when none was), for
  trainers that want the final submission to be the good one.

Either way it is the position score ``(N - position + 1) / N`` on the task's leaderboard,
dojo_lite's default step reward (:func:`~dojo_lite.position_reward`).
"""


def _tuple(value: Any) -> tuple[Any, ...]:
    if value is None:
        return ()
    if isinstance(value, str | bytes):
        return (value,)
    return tuple(value)


def _paths(value: Any) -> tuple[str, ...]:
    return tuple(map(str, _tuple(value)))


def _in(choices: tuple[str, ...]) -> Any:
    def check(instance: object, attribute: attrs.Attribute[Any], value: str) -> None:
        if value not in choices:
            raise ConfigError(f"{attribute.name} must be one of {choices}, got {value!r}")
    return check


def _positive_or_none(instance: object, attribute: attrs.Attribute[Any], value: float | None) -> None:
    if value is not None and not (value > 0 and math.isfinite(value)):
        raise ConfigError(f"{attribute.name} must be a positive number (or None), got {value!r}")


@attrs.frozen
class RuntimeConfig:
    """How a :class:`DojoRuntime` runs episodes (every field has a default).

    - ``cpus``, ``memory`` (bytes or ``"64G"``), ``gpus``, ``oversubscribe``: the scheduler's
      budgets (see :class:`~dojo_lite.Scheduler`; by default all CPUs and 80% of the memory).
    - ``variant``: ``"full"`` or ``"micro"``: the data ``execute_code`` runs and is graded on
      (micro for fast rollouts; its scores are not comparable with the leaderboard's).
    - ``max_steps``, ``max_seconds``: each episode's budgets (the task's ``[budget]`` by default).
    - ``reward``: which execution's position score is the episode's reward (:data:`REWARDS`).
    - ``task_path``, ``cache``, ``trajectory_dir``: where tasks are found, where their prepared
      data is kept, where each episode's JSON-lines trajectory goes (none by default).
    - ``idle_close_s``, ``spares``, ``pool_options``: the sandbox pools (see the scheduler).
    - ``freeze_gc``: let the scheduler ``gc.freeze()`` the process's heap once, at start (its
      default): full collections then skip what exists by then (in a trainer: the libraries,
      the model), and stay short for the loop and every other thread (measured: 60 ms instead of
      170 ms with 2,000 episodes open); what was alive then and later dies in a reference cycle
      is never collected.  Only the first start in a process freezes: a host that imports more
      later (a model library) can call ``gc.freeze()`` itself, or the loop stops for every full
      collection of it (measured: 440 ms with transformers, TRL and Ray imported after the
      freeze).  False leaves the collector alone.
    """

    cpus: float | None = attrs.field(default=None, validator=_positive_or_none)
    memory: int | str | None = None
    gpus: tuple[int, ...] = attrs.field(default=(), converter=_tuple)
    oversubscribe: bool = False
    variant: str = attrs.field(default="full", validator=_in(VARIANTS))
    max_steps: int | None = attrs.field(default=None, validator=_positive_or_none)
    max_seconds: float | None = attrs.field(default=None, validator=_positive_or_none)
    reward: str = attrs.field(default="best", validator=_in(REWARDS))
    task_path: tuple[str, ...] = attrs.field(default=(), converter=_paths)
    cache: str | None = None
    trajectory_dir: str | None = None
    idle_close_s: float = 30.0
    spares: int = 1
    pool_options: Mapping[str, Any] = attrs.field(factory=dict, converter=dict)
    freeze_gc: bool = True

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None, *, where: str = "the runtime options") -> RuntimeConfig:
        """A config from a mapping (a YAML or OmegaConf section, say); unknown keys are a
        :class:`~dojo_lite.ConfigError` that names ``where`` and the known ones."""
        data = dict(data or {})
        known = {field.name for field in attrs.fields(cls)}
        if wrong := sorted(set(data) - known):
            raise ConfigError(f"{where}: unknown options {wrong}; the runtime takes {sorted(known)}")
        try:
            return cls(**data)
        except TypeError as exc:
            raise ConfigError(f"{where}: {exc}") from exc

    def env_options(self) -> dict[str, Any]:
        """The keyword arguments each episode's :class:`~dojo_lite.DojoEnv` gets."""
        return {"variant": self.variant, "max_steps": self.max_steps, "max_seconds": self.max_seconds}


@attrs.frozen
class StepOutcome:
    """One step of a :class:`Session`: the env's ``obs``, ``reward``, ``truncated`` and ``info``
    (as :meth:`DojoEnv.step <dojo_lite.DojoEnv.step>` gives them), and ``text``, what a model
    reads of it (:func:`~dojo_lite._chat.observation_message`)."""

    obs: dict[str, Any]
    reward: float
    truncated: bool
    info: dict[str, Any]
    text: str

    @property
    def status(self) -> str:
        return str(self.obs.get("status", ""))


@attrs.frozen
class RuntimeStats:
    """A snapshot: sessions open now and opened so far, calls submitted, the loop's worst lag
    seen by its own ticker (seconds), and the scheduler's statistics."""

    sessions_open: int
    sessions_opened: int
    calls: int
    worst_lag_s: float
    scheduler: SchedulerStats


@attrs.define(eq=False)
class Session:
    """One episode of one task, on a :class:`DojoRuntime` (make it with
    :meth:`DojoRuntime.open_session` or :meth:`DojoRuntime.aopen_session`).

    ``prompt`` is the system prompt every integration gives the model (the task's overview and
    the actions); the user turn that opens the conversation is ``FIRST_TURN``.  :meth:`step`
    (from a thread) and :meth:`astep` (from a coroutine on any loop) run one action, a dict such
    as ``{"action": "execute_code", "code": ...}`` (or its JSON text), and return a
    :class:`StepOutcome`; steps of one session run one at a time.  :meth:`answer` and
    :meth:`aanswer` run what a model wrote, read by :func:`read_reply` or :func:`read_tool_call`,
    and give what the model reads back.  ``reward`` is the episode's
    reward so far (:data:`REWARDS`), ``truncated`` whether its budget is spent.  :meth:`close`
    and :meth:`aclose` end the episode (idempotent; the runtime closes what is left open).
    Misuse (a step after close) raises :class:`~dojo_lite.EnvClosed`.
    """

    runtime: DojoRuntime
    env: DojoEnv = attrs.field(repr=False)
    prompt: str = attrs.field(repr=False)
    info: dict[str, Any] = attrs.field(repr=False)
    steps: int = 0
    truncated: bool = False
    last_execution_reward: float = 0.0
    closed: bool = False
    _lock: asyncio.Lock = attrs.field(factory=asyncio.Lock, repr=False)

    @property
    def task_id(self) -> str:
        return self.env.task.id

    @property
    def episode_id(self) -> str:
        return str(self.env.episode_id or "")

    @property
    def reward(self) -> float:
        """The episode's reward so far: ``"best"`` or ``"last"`` as the runtime's config says."""
        if self.runtime.config.reward == "last":
            return self.last_execution_reward
        return float(self.info.get("best_position_score") or 0.0)

    def summary(self) -> dict[str, Any]:
        """The episode in numbers (JSON-able): task, episode id, steps, reward, best score and
        position score, medal, and whether the budget ran out."""
        return {"task": self.task_id, "episode_id": self.episode_id, "steps": self.steps, "reward": self.reward,
                "best_score": self.info.get("best_score"),
                "best_position_score": self.info.get("best_position_score"),
                "best_medal": self.info.get("best_medal"), "truncated": self.truncated}

    # ------------------------------------------------------------ steps

    def step(self, action: Any) -> StepOutcome:
        """Run ``action`` (blocks this thread until it is done; never call it on the runtime's loop)."""
        return self.runtime.call(self._step(action), name=f"a step of {self.task_id}")

    async def astep(self, action: Any) -> StepOutcome:
        """Run ``action`` from a coroutine on any event loop."""
        return await self.runtime.acall(self._step(action), name=f"a step of {self.task_id}")

    def answer(self, action: dict[str, Any] | None, problem: str | None, raw: Any) -> tuple[StepOutcome, str]:
        """Run what a model wrote: ``action`` and ``problem`` as :func:`read_reply` or
        :func:`read_tool_call` read it, ``raw`` what it wrote (run as it is when ``action`` is
        None: the env answers and counts the malformed action).  Returns the outcome and what the
        model reads of it: :func:`invalid_outcome_text` when there was a problem, else the
        outcome's text.  Blocks this thread, as :meth:`step`."""
        return self._answered(self.step(action if action is not None else raw), problem)

    async def aanswer(self, action: dict[str, Any] | None, problem: str | None, raw: Any,
                      ) -> tuple[StepOutcome, str]:
        """:meth:`answer`, from a coroutine on any event loop."""
        return self._answered(await self.astep(action if action is not None else raw), problem)

    @staticmethod
    def _answered(outcome: StepOutcome, problem: str | None) -> tuple[StepOutcome, str]:
        return outcome, invalid_outcome_text(problem, outcome) if problem else outcome.text

    def close(self) -> None:
        """End the episode (its work dir is removed, its trajectory closed); idempotent, and a
        no-op once the runtime is closing (which closes every episode itself)."""
        if not self.closed and not self.runtime.closed:
            with contextlib.suppress(EnvClosed):
                self.runtime.call(self._close(), name=f"closing an episode of {self.task_id}")

    async def aclose(self) -> None:
        """:meth:`close`, from a coroutine on any event loop."""
        if not self.closed and not self.runtime.closed:
            with contextlib.suppress(EnvClosed):
                await self.runtime.acall(self._close(), name=f"closing an episode of {self.task_id}")

    # ------------------------------------------------------------ on the runtime's loop

    async def _step(self, action: Any) -> StepOutcome:
        async with self._lock:
            if self.closed:
                raise EnvClosed(f"this episode of {self.task_id} was closed")
            obs, reward, _, truncated, info = await self.env.astep(action)
            self.steps += 1
            self.info, self.truncated = info, truncated  # once spent, every later step is truncated too
            if obs["action"] == Action.EXECUTE_CODE.value and obs["status"] == Status.OK.value:
                self.last_execution_reward = float(info.get("position_score") or 0.0)
            return StepOutcome(obs, reward, truncated, info, observation_message(obs, info))

    async def _close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            await shielded(self.env.aclose())
        finally:
            self.runtime._sessions.discard(self)


class DojoRuntime:
    """One event loop on a daemon thread that owns a :class:`~dojo_lite.Scheduler`; see the
    module docstring.  Make one with a :class:`RuntimeConfig` (or its fields by keyword), or
    share the process's with :func:`default_runtime`.

    It starts on first use (or :meth:`start`) and runs until :meth:`close` (or the end of the
    ``with`` block; one still open when the interpreter exits is closed then).  :meth:`call` and :meth:`acall`
    run a coroutine on its loop; :meth:`open_session` and :meth:`aopen_session` start an episode.
    A runtime belongs to the process that started it (after a fork, make a new one).
    """

    def __init__(self, config: RuntimeConfig | None = None, **options: Any) -> None:
        if config is not None and options:
            raise ConfigError("give a RuntimeConfig or its fields by keyword, not both")
        self.config = config if config is not None else RuntimeConfig.from_mapping(options)
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._start_error: BaseException | None = None
        self._scheduler: Scheduler | None = None
        self._nursery = Nursery("the dojo_lite runtime")
        self._sessions: set[Session] = set()
        self._tasks: dict[str, Task] = {}
        self._opened = 0
        self._calls = 0
        self._worst_lag = 0.0
        self._pid = os.getpid()
        self._closed = False

    def __repr__(self) -> str:
        state = "closed" if self._closed else "running" if self._ready.is_set() else "not started"
        return f"<DojoRuntime {state}, {len(self._sessions)} sessions open>"

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The runtime's event loop (started if it was not)."""
        return self._started()

    def __enter__(self) -> DojoRuntime:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Start the loop's thread and its scheduler, and wait until they run; idempotent.
        Raises what starting the scheduler raised (a :class:`~dojo_lite.ConfigError` for budgets
        this host does not have, say)."""
        self._started()

    def _started(self) -> asyncio.AbstractEventLoop:
        if os.getpid() != self._pid:
            raise UsageError("this dojo_lite runtime belongs to the process that made it: make a new one "
                             "after a fork (default_runtime() does)")
        with self._lock:
            if self._closed:
                raise EnvClosed("the dojo_lite runtime is closed")
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="dojo_lite runtime", daemon=True)
                self._thread.start()
                _close_at_exit(self)
        self._ready.wait()
        if self._start_error is not None:
            raise self._start_error
        assert self._loop is not None
        return self._loop

    def _run(self) -> None:
        # Not asyncio.run: its end starts a thread to shut the thread pool down, which Python
        # refuses while the interpreter exits, when the process's runtime still closes.
        loop = asyncio.new_event_loop()
        executor = _started_executor()
        loop.set_default_executor(executor)
        try:
            loop.run_until_complete(self._main())
        except BaseException as exc:  # starting failed before _main could say so
            if not self._ready.is_set():
                self._start_error = exc
                self._ready.set()
        finally:
            try:
                if left := asyncio.all_tasks(loop):  # none of ours: _main waited for what it started
                    for task in left:
                        task.cancel()
                    loop.run_until_complete(asyncio.gather(*left, return_exceptions=True))
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                executor.shutdown(wait=True)
                loop.close()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        config = self.config
        scheduler: Scheduler | None = None
        try:
            scheduler = Scheduler(
                cpus=config.cpus, memory=config.memory, gpus=config.gpus, oversubscribe=config.oversubscribe,
                idle_close_s=config.idle_close_s, spares=config.spares, task_path=config.task_path,
                cache=config.cache, trajectory_dir=config.trajectory_dir, pool_options=dict(config.pool_options),
                freeze_gc=config.freeze_gc)
            await scheduler.__aenter__()
        except BaseException as exc:
            if scheduler is not None:
                await scheduler.aclose()
            self._start_error = exc
            self._ready.set()
            return
        self._scheduler = scheduler
        try:
            await self._nursery.open()
            self._ready.set()
            self._nursery.start_soon(self._tick(), name="the loop's lag ticker")
            await self._stop.wait()
        finally:
            try:
                await self._nursery.aclose()  # what is in flight: cancelled, its callers get EnvClosed
                for session in list(self._sessions):
                    await session._close()
            finally:
                await scheduler.aclose()

    async def _tick(self, period: float = 0.05) -> None:
        """Keep the worst lag of the loop (how late a ``period`` sleep woke), for :meth:`stats`."""
        while True:
            start = time.monotonic()
            await asyncio.sleep(period)
            self._worst_lag = max(self._worst_lag, time.monotonic() - start - period)

    def close(self) -> None:
        """Cancel what is in flight, end every open session, close the scheduler and stop the
        loop's thread; idempotent.  Call it from any thread but the runtime's own."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            thread = self._thread
        if thread is None or os.getpid() != self._pid:
            return
        if threading.current_thread() is thread:
            raise UsageError("close the dojo_lite runtime from another thread than its own")
        self._ready.wait()
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and self._start_error is None:
            with contextlib.suppress(RuntimeError):  # the loop ended already
                loop.call_soon_threadsafe(stop.set)
        thread.join()

    # ------------------------------------------------------------ the two doors

    def call(self, coro: Coroutine[Any, Any, T], *, name: str = "a call") -> T:
        """Run ``coro`` on the runtime's loop and wait (blocking this thread) for its result or
        error.  Raises :class:`~dojo_lite.UsageError` on the runtime's own thread (it would wait
        for itself) and :class:`~dojo_lite.EnvClosed` once the runtime is closed.  An interrupt
        of the waiting thread (Ctrl-C) cancels ``coro``."""
        future = self._submit(coro, name)
        try:
            return future.result()
        except BaseException:
            future.cancel()
            raise

    async def acall(self, coro: Coroutine[Any, Any, T], *, name: str = "a call") -> T:
        """Run ``coro`` on the runtime's loop and await its result from a coroutine on any loop
        (the runtime's own included) without blocking that loop; cancelling the caller cancels
        ``coro``.  Raises :class:`~dojo_lite.EnvClosed` once the runtime is closed."""
        if not self._ready.is_set():
            try:
                await asyncio.to_thread(self.start)  # the first start takes a while: not on the caller's loop
            except BaseException:
                coro.close()
                raise
        if self._loop is not None and asyncio.get_running_loop() is self._loop:
            return await self._owned(coro, name)
        return await asyncio.wrap_future(self._submit(coro, name))

    def _submit(self, coro: Coroutine[Any, Any, T], name: str) -> concurrent.futures.Future[T]:
        try:
            loop = self._started()
        except BaseException:
            coro.close()
            raise
        if self._thread is threading.current_thread():
            coro.close()
            raise UsageError("a blocking call on the dojo_lite runtime's own thread would wait for itself: "
                             "await acall() there")
        try:
            return asyncio.run_coroutine_threadsafe(self._owned(coro, name), loop)
        except RuntimeError as exc:  # the loop closed between the check and the submit
            coro.close()
            raise EnvClosed("the dojo_lite runtime is closed") from exc

    async def _owned(self, coro: Coroutine[Any, Any, T], name: str) -> T:
        self._calls += 1
        return await self._nursery.run(coro, name=name)

    # ------------------------------------------------------------ sessions

    def open_session(self, task: str | Task, *, seed: int | None = None) -> Session:
        """Start an episode of ``task`` (an id on the runtime's task path, or a Task), from a
        thread; raises :class:`~dojo_lite.TaskNotFound` for an unknown id."""
        return self.call(self._open(task, seed), name=f"opening an episode of {task}")

    async def aopen_session(self, task: str | Task, *, seed: int | None = None) -> Session:
        """:meth:`open_session`, from a coroutine on any event loop."""
        return await self.acall(self._open(task, seed), name=f"opening an episode of {task}")

    async def _task(self, task: str | Task) -> Task:
        if isinstance(task, Task):
            return task
        found = self._tasks.get(task)
        if found is None:  # a walk of the task path: off the loop, once per id
            found = await asyncio.to_thread(find_task, task, self.config.task_path)
            self._tasks[task] = found
        return found

    async def _open(self, task: str | Task, seed: int | None) -> Session:
        found = await self._task(task)
        assert self._scheduler is not None
        env = self._scheduler.env(found, **self.config.env_options())
        try:
            obs, info = await env.areset(seed=seed)
        except BaseException:
            await shielded(env.aclose())
            raise
        session = Session(self, env, system_prompt(str(obs.get("feedback", ""))), info)
        self._sessions.add(session)
        self._opened += 1
        return session

    def stats(self) -> RuntimeStats:
        """Sessions, calls, the loop's worst lag so far and the scheduler's statistics (a
        snapshot; read on the loop, so this waits for it)."""
        async def snapshot() -> RuntimeStats:
            assert self._scheduler is not None
            return RuntimeStats(len(self._sessions), self._opened, self._calls, self._worst_lag,
                                self._scheduler.stats())
        return self.call(snapshot(), name="stats")


_default: DojoRuntime | None = None
_default_lock = threading.Lock()


def _started_executor() -> concurrent.futures.ThreadPoolExecutor:
    """The runtime loop's thread pool (asyncio's default size), every thread started now: closing
    pools needs worker threads, and Python 3.12 starts none once the interpreter is exiting,
    which is when an unclosed runtime is closed."""
    workers = min(32, (os.cpu_count() or 1) + 4)
    executor = concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="dojo_lite runtime worker")
    barrier = threading.Barrier(workers)  # each waits for all: no thread is reused, all are started
    concurrent.futures.wait([executor.submit(barrier.wait) for _ in range(workers)])
    return executor


def require(module: str, extra: str, adapter: str) -> None:
    """Raise :class:`~dojo_lite.ConfigError` naming the extra that installs ``module`` when it
    cannot be imported (checked without importing it)."""
    try:
        found = importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent that will not import, or a module set to None
        found = False
    if not found:
        raise ConfigError(f"{adapter} needs {module}: pip install 'dojo-lite[{extra}]'")


def _close_at_exit(runtime: DojoRuntime) -> None:
    """Close ``runtime`` when the interpreter exits, before the thread pools shut down (closing
    a pool removes its work dirs in worker threads): with threading's exit hooks, which run
    before ``concurrent.futures`` refuses new work, where this Python has them; else at exit."""
    register = getattr(threading, "_register_atexit", None)
    try:
        if register is None:
            raise RuntimeError
        register(runtime.close)
    except RuntimeError:  # no such hook, or the interpreter is exiting already
        atexit.register(runtime.close)


def default_runtime(config: RuntimeConfig | None = None) -> DojoRuntime:
    """The process's shared runtime, made (not yet started) on first use with ``config`` (or the
    defaults) and closed at exit.  Given a ``config`` that differs from the one the runtime was
    made with, raises :class:`~dojo_lite.ConfigError` naming both: one process has one
    scheduler, so its budgets are set once (make a :class:`DojoRuntime` of your own for another)."""
    global _default
    with _default_lock:
        current = _default
        if current is None or current.closed or current._pid != os.getpid():
            current = _default = DojoRuntime(config)
        elif config is not None and config != current.config:
            raise ConfigError(f"the process's dojo_lite runtime runs with {current.config}; another config "
                              f"({config}) needs a DojoRuntime of its own")
        return current


# ------------------------------------------------------------------ what a model wrote, as an action


def read_tool_call(name: str, arguments: Any) -> tuple[dict[str, Any] | None, str]:
    """The action a tool call names (``arguments`` as JSON text, or already parsed), or None and
    what is wrong with it (for the model to read)."""
    if not isinstance(arguments, str):
        try:
            arguments = json.dumps({} if arguments is None else arguments)
        except (TypeError, ValueError):
            return None, f"the arguments of {name!r} are not JSON"
    return _action_from_call(name, arguments)


def read_reply(text: str) -> tuple[dict[str, Any] | None, str | None]:
    """The action a text reply ends with (its last fenced JSON block, or the reply itself when it
    is one JSON object): ``(action, None)``; ``(None, problem)`` when the reply tries an action
    and gets it wrong (a malformed block, an unknown action, a missing argument); ``(None, None)``
    when it takes no action at all, which the text integrations read as the model being done."""
    action, problem = _action_from_text(text)
    if action is not None:
        return action, None
    if "```" not in text and not text.strip().startswith("{"):
        return None, None
    return None, problem


def invalid_outcome_text(problem: str, outcome: StepOutcome) -> str:
    """What a model reads after a malformed action: the problem as :func:`read_reply` or
    :func:`read_tool_call` put it (clearer than the env's own parse of the raw text), then the
    scores and budget of the step the env recorded."""
    return observation_message({**outcome.obs, "feedback": f"Invalid action: {problem}. Reply again with exactly "
                                                          "one valid action."}, outcome.info)


def task_and_seed(options: Mapping[str, Any], default_task: str | None, *, where: str) -> tuple[str, int | None]:
    """``options["task"]`` (else ``default_task``) and ``options.get("seed")``; a
    :class:`~dojo_lite.ConfigError` naming ``where`` when there is no task."""
    task = options.get("task") or default_task
    if not task:
        raise ConfigError(f"{where}: no task: give one (a task id such as 'tabular/titanic-survival')")
    seed = options.get("seed")
    return str(task), None if seed is None else int(seed)


def messages_with_prompt(session: Session, prompt: Sequence[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    """The conversation a model starts from: the session's system prompt, then the user turns
    of ``prompt`` (a dataset row's messages; its own system messages give way), or the first
    turn when it has none."""
    turns = [dict(m) for m in prompt or () if m.get("role") != "system" and m.get("content")]
    first = [{"role": "user", "content": FIRST_TURN}]
    return [{"role": "system", "content": session.prompt}, *(turns or first)]
