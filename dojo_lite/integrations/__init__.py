"""dojo_lite inside RL libraries: adapters for TRL, verl, verifiers and SkyRL.

One module per library, each an optional extra (``pip install 'dojo-lite[trl]'``, ``[verl]``,
``[verifiers]``, ``[skyrl]``); importing one without its library raises
:class:`~dojo_lite.ConfigError` naming the extra:

- :mod:`dojo_lite.integrations.trl`: :class:`~dojo_lite.integrations.trl.DojoTRLEnvironment`
  for ``GRPOTrainer(environment_factory=...)``: ``reset(**row)`` gives the task's prompt, the
  actions are typed, documented methods (TRL's tools), ``get_reward()`` the episode's reward.
- :mod:`dojo_lite.integrations.verl`: :class:`~dojo_lite.integrations.verl.DojoTool`, a
  ``BaseTool`` per action (``create``, ``execute``, ``calc_reward``, ``release``), the tool
  config that declares them, and :class:`~dojo_lite.integrations.verl.DojoAgentLoop`
  (``dojo_agent``): one trajectory is one episode, its reward the episode's.
- :mod:`dojo_lite.integrations.verifiers`: a verifiers taskset, environment and in-process
  harness (``load_environment(tasks=...)``), the model calling the actions as tools, the
  position score the task's reward.
- :mod:`dojo_lite.integrations.skyrl`: :class:`~dojo_lite.integrations.skyrl.DojoTextEnv`, a
  SkyRL-Gym ``BaseTextEnv`` (registered as ``dojo_lite``).

All of them share the process's :class:`DojoRuntime` (:func:`default_runtime`, or one of your
own): one event loop on its own thread owning one :class:`~dojo_lite.Scheduler`, which sync
callers reach with ``asyncio.run_coroutine_threadsafe`` and async ones without blocking their
loop.  Every integration shows a model the same prompt (dojo_lite's ``system_prompt`` of the
task's overview) and observation text, and rewards an episode with a position score (see
:data:`REWARDS`).
"""

from ._runtime import REWARDS as REWARDS
from ._runtime import DojoRuntime as DojoRuntime
from ._runtime import RuntimeConfig as RuntimeConfig
from ._runtime import RuntimeStats as RuntimeStats
from ._runtime import Session as Session
from ._runtime import StepOutcome as StepOutcome
from ._runtime import default_runtime as default_runtime

__all__ = ["REWARDS", "DojoRuntime", "RuntimeConfig", "RuntimeStats", "Session", "StepOutcome", "default_runtime"]
