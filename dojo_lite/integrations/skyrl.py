"""dojo_lite for SkyRL: a SkyRL-Gym ``BaseTextEnv``, registered as ``dojo_lite``.

::

    import skyrl_gym
    import dojo_lite.integrations.skyrl  # registers "dojo_lite"

    env = skyrl_gym.make("dojo_lite", env_config={"variant": "micro"},
                         extras={"task": "tabular/titanic-survival"})
    conversation, metadata = env.init([])     # the system prompt and the first turn
    out = env.step(model_reply)               # {"observations", "reward", "done", "metadata"}
    env.close()

SkyRL-Gym's contract (``skyrl_gym/envs/base_text_env.py``): text in, text out.  ``init(prompt)``
returns the conversation the model starts from; ``step(action)`` takes the model's whole reply
and returns the next observation messages, a reward and whether the episode is done; ``close()``
ends it.  SkyRL's generator makes one env per trajectory with ``skyrl_gym.make(env_class,
env_config=..., extras=row)`` and calls these synchronously (from worker threads).

Here the reply is read as ChatAgent reads a reply without tools: the action is its last fenced
JSON block (the system prompt asks for one).  A reply with no action ends the episode (the
model's way to say it is done); a malformed one is answered as an invalid action and counts as
a step.  The reward is 0 until the episode ends, then the episode's reward (the position score
of its best graded execution, see :data:`~dojo_lite.integrations.REWARDS`); it ends when the
model stops, when the budget is spent, or after ``max_turns`` replies.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._errors import ConfigError, UsageError
from ._runtime import (
    RuntimeConfig,
    Session,
    default_runtime,
    messages_with_prompt,
    read_reply,
    task_and_seed,
)

try:
    import skyrl_gym
    from skyrl_gym.envs.base_text_env import BaseTextEnv, BaseTextEnvStepOutput
except ImportError as exc:
    raise ConfigError("dojo_lite.integrations.skyrl needs SkyRL-Gym: pip install 'dojo-lite[skyrl]'") from exc

__all__ = ["ENV_ID", "DojoTextEnv"]

ENV_ID = "dojo_lite"
"""The id this module registers :class:`DojoTextEnv` under (``skyrl_gym.make(ENV_ID, ...)``)."""

def _plain(config: Any) -> dict[str, Any]:
    """``env_config`` (None, a mapping, an OmegaConf ``DictConfig``) as a plain dict."""
    from omegaconf import DictConfig, OmegaConf  # SkyRL passes its config section as one (skyrl-gym needs omegaconf)

    if config is None:
        return {}
    if isinstance(config, DictConfig):
        return dict(OmegaConf.to_container(config, resolve=True))  # type: ignore[arg-type]
    if isinstance(config, Mapping):
        return dict(config)
    raise ConfigError(f"the dojo_lite env_config must be a mapping, got {type(config).__name__}")


class DojoTextEnv(BaseTextEnv):  # type: ignore[misc]
    """One episode of a dojo_lite task as a SkyRL-Gym text environment (see the module docstring).

    ``env_config``: the fields of :class:`~dojo_lite.integrations.RuntimeConfig` for the
    process's runtime (``variant``, ``max_steps``, ``cpus``, ...), plus a default ``task``;
    ``extras``: the dataset row: its ``task`` and ``seed`` (or those of its ``extra_info``),
    and ``max_turns`` (by default the episode's step budget).
    """

    def __init__(self, env_config: Any = None, extras: Mapping[str, Any] | None = None) -> None:
        super().__init__()
        options, extras = _plain(env_config), dict(extras or {})
        default_task = options.pop("task", None)
        self.runtime = default_runtime(RuntimeConfig.from_mapping(options, where="the dojo_lite env_config")
                                       if options else None)
        row = {**dict(extras.get("extra_info") or {}), **extras}
        self.task, self.seed = task_and_seed(row, default_task, where="DojoTextEnv (extras)")
        # the row's, else the episode's step budget (known once init() opens the episode)
        self._max_turns = int(row.get("max_turns") or self.runtime.config.max_steps or 0)
        self.max_turns = self._max_turns or 1
        self.session: Session | None = None
        self._summary: dict[str, Any] | None = None

    def init(self, prompt: list[dict[str, Any]] | None) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """Start the episode; returns the conversation the model starts from (dojo_lite's system
        prompt, then ``prompt``'s user turns or the first turn) and ``{"task", "episode_id"}``."""
        if self.session is not None:
            raise UsageError("init() starts the episode once: make a new env for the next one")
        self.session = self.runtime.open_session(self.task, seed=self.seed)
        self.max_turns = self._max_turns or self.session.env.max_steps
        return messages_with_prompt(self.session, prompt), {"task": self.task,
                                                              "episode_id": self.session.episode_id}

    def step(self, action: str) -> BaseTextEnvStepOutput:
        """Read the model's reply as an action and run it; see the module docstring for the reward
        and when the episode is done.  ``metadata`` holds the step's ``status`` and ``info``."""
        session = self.session
        if session is None:
            raise UsageError("call init() before step()")
        self.turns += 1
        parsed, problem = read_reply(action)
        if parsed is None and problem is None:  # no action at all: the model is done
            return BaseTextEnvStepOutput(observations=[], reward=session.reward, done=True,
                                         metadata={"status": "stopped", "info": session.info})
        outcome, text = session.answer(parsed, problem, action)
        done = outcome.truncated or self.turns >= self.max_turns
        return BaseTextEnvStepOutput(observations=[] if done else [{"role": "user", "content": text}],
                                     reward=session.reward if done else 0.0, done=done,
                                     metadata={"status": outcome.status, "info": outcome.info})

    def close(self) -> None:
        """End the episode; idempotent."""
        session, self.session = self.session, None
        if session is not None:
            self._summary = session.summary()
            session.close()

    def get_metrics(self) -> dict[str, Any]:
        """The episode in numbers (also after close): steps, reward, and the best score and
        position score when something was graded."""
        summary = self.session.summary() if self.session is not None else self._summary
        if summary is None:
            return {"steps": self.turns}
        return {key: summary[key] for key in ("steps", "reward", "best_score", "best_position_score")
                if summary[key] is not None}


if ENV_ID not in skyrl_gym.registry:
    skyrl_gym.register(id=ENV_ID, entry_point=f"{__name__}:DojoTextEnv")
