"""dojo_lite for TRL: an environment class for ``GRPOTrainer(environment_factory=...)``.

::

    from trl import GRPOConfig, GRPOTrainer
    from dojo_lite.integrations.trl import DojoTRLEnvironment

    dataset = Dataset.from_list([{"prompt": [{"role": "user", "content": ""}],
                                  "task": "tabular/titanic-survival"}] * 64)
    trainer = GRPOTrainer(model=..., train_dataset=dataset, args=GRPOConfig(...),
                          environment_factory=DojoTRLEnvironment)

How TRL uses it (TRL 1.x, ``trl/trainer/grpo_trainer.py``): it makes instances with the factory
(no arguments), keeps them in a pool and reuses them, one per rollout of a batch; before each
rollout it calls ``reset(**row)`` with the dataset row and appends the string it returns to the
row's last user message; every public method other than ``reset`` and ``get_reward`` is a tool,
its JSON schema built by ``transformers.utils.get_json_schema`` from the type hints and the
Google-style docstring; a tool's return value is sent to the model as the tool's message (an
exception becomes ``{"error": ...}``); after the rollout ``get_reward()`` scores it.  TRL calls
all of these synchronously from the trainer's thread, one rollout after another.

Here ``reset`` ends the instance's previous episode and starts one of the row's ``task`` (its
``seed`` too, when the row has one; else the task given to the constructor) on the process's
:class:`~dojo_lite.integrations.DojoRuntime`, through its sync bridge; the tools are the actions
``request_info``, ``validate_code``, ``execute_code`` and ``get_history`` (dojo_lite's ``reset``
action, which empties the work dir, has no tool here: TRL keeps that name for itself).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, TypeVar

import attrs

from .._chat import ACTION_TOOLS, FIRST_TURN
from .._errors import ConfigError, UsageError
from ._runtime import DojoRuntime, RuntimeConfig, Session, default_runtime, require, task_and_seed

# Nothing of TRL's is used here (TRL calls this class), but the class is for TRL: say so early.
require("trl", "trl", __name__)

__all__ = ["DojoTRLEnvironment", "EnvironmentFactory", "environment_factory"]

F = TypeVar("F", bound=Callable[..., str])
_TOOLS = {tool["function"]["name"]: tool["function"] for tool in ACTION_TOOLS}
_DESCRIPTIONS = {name: tool["description"] for name, tool in _TOOLS.items()}
_CODE = _TOOLS["execute_code"]["parameters"]["properties"]["code"]["description"]


def _tool_doc(action: str, returns: str, **arguments: str) -> Callable[[F], F]:
    """Give a tool method the Google-style docstring transformers' ``get_json_schema`` reads for
    TRL: dojo_lite's own description of ``action`` (the one its chat agent offers, on one line:
    the whole first paragraph is the description), each argument's, and what it returns."""
    def decorate(method: F) -> F:
        args = "".join(f"\n    {name}: {text[:1].upper()}{text[1:]}." for name, text in arguments.items())
        method.__doc__ = (f"{_DESCRIPTIONS[action]}\n" + (f"\nArgs:{args}\n" if args else "")
                          + f"\nReturns:\n    {returns}\n")
        return method
    return decorate


class DojoTRLEnvironment:
    """One rollout slot of TRL's ``GRPOTrainer`` (see the module docstring): an episode per
    :meth:`reset`, the actions as tools, :meth:`get_reward` the episode's reward.

    ``task``: the task of rows that name none; ``runtime``: where episodes run (the process's
    :func:`~dojo_lite.integrations.default_runtime` by default).  Bind them with
    :func:`environment_factory` (TRL calls the factory without arguments).  TRL treats every
    public method but ``reset`` and ``get_reward`` as a tool: the others' names start with ``_``.
    """

    def __init__(self, task: str | None = None, *, runtime: DojoRuntime | None = None) -> None:
        self._task = task
        self._runtime = runtime
        self._session: Session | None = None

    def reset(self, **row: Any) -> str:
        """Start an episode of ``row["task"]`` (the constructor's ``task`` when the row has none)
        with ``row.get("seed")``, ending the one before; returns the prompt TRL appends to the
        row's last user message: the task's overview, the actions, and the first turn."""
        task, seed = task_and_seed(row, self._task, where="DojoTRLEnvironment.reset (the dataset row)")
        self._close()
        runtime = self._runtime if self._runtime is not None else default_runtime()
        self._session = runtime.open_session(task, seed=seed)
        return f"{self._session.prompt}\n\n{FIRST_TURN}"

    @_tool_doc("request_info", "The answer, after the step's status, its scores and the budget left.",
               topic="which part: overview, data, submission, metric, limits, or all (the default)")
    def request_info(self, topic: Literal["overview", "data", "submission", "metric", "limits", "all"] = "all") -> str:
        return self._act({"action": "request_info", "topic": topic})

    @_tool_doc("validate_code", "What happened: the run's output tails or traceback, and what is wrong with the "
               "submission, if anything.", code=_CODE)
    def validate_code(self, code: str) -> str:
        return self._act({"action": "validate_code", "code": code})

    @_tool_doc("execute_code", "What happened: the run's output tails or traceback, the score and its place on the "
               "leaderboard.", code=_CODE)
    def execute_code(self, code: str) -> str:
        return self._act({"action": "execute_code", "code": code})

    @_tool_doc("get_history", "One line per step of the episode.")
    def get_history(self) -> str:
        return self._act({"action": "get_history"})

    def get_reward(self) -> float:
        """The episode's reward: the position score of its best graded execution (or of its
        last, as the runtime's config says), 0 when none was graded or before any reset."""
        return self._session.reward if self._session is not None else 0.0

    @property
    def session(self) -> Session | None:
        """The current episode (None before the first reset and after :meth:`_close`)."""
        return self._session

    def _act(self, action: dict[str, Any]) -> str:
        if self._session is None:
            raise UsageError("no episode: TRL calls reset() before the first tool call")
        return self._session.step(action).text

    def _close(self) -> None:
        """End the current episode, if any (a leading underscore: TRL must not see a tool)."""
        session, self._session = self._session, None
        if session is not None:
            session.close()


@attrs.frozen
class EnvironmentFactory:
    """A zero-argument factory of :class:`DojoTRLEnvironment` (make it with
    :func:`environment_factory`).  Without a ``runtime`` it pickles (TRL's asynchronous GRPO
    sends factories to its rollout workers): each process then makes its default runtime from
    ``config`` when it makes its first environment."""

    task: str | None = None
    config: RuntimeConfig | None = None
    runtime: DojoRuntime | None = attrs.field(default=None, eq=False)

    def __call__(self) -> DojoTRLEnvironment:
        runtime = self.runtime if self.runtime is not None else default_runtime(self.config)
        return DojoTRLEnvironment(self.task, runtime=runtime)


def environment_factory(task: str | None = None, *, runtime: DojoRuntime | None = None,
                        **options: Any) -> EnvironmentFactory:
    """The factory to give ``GRPOTrainer(environment_factory=...)``: rows without a ``task`` get
    ``task``; episodes run on ``runtime``, or on the process's default runtime, made with
    ``options`` (the fields of :class:`~dojo_lite.integrations.RuntimeConfig`, e.g.
    ``variant="micro", cpus=8``; checked here).  Raises :class:`~dojo_lite.ConfigError` for both
    a runtime and options, or for options the runtime does not take."""
    if runtime is not None and options:
        raise ConfigError("give a runtime or runtime options, not both")
    config = RuntimeConfig.from_mapping(options, where="environment_factory") if options else None
    return EnvironmentFactory(task, config, runtime)
