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


from ._env import DojoStep as DojoStep
from ._env import KaggleEnvironment as KaggleEnvironment
from ._errors import CompetitionAlreadyExistsError as CompetitionAlreadyExistsError
from ._errors import CompetitionDataError as CompetitionDataError
from ._errors import CompetitionError as CompetitionError
from ._errors import CompetitionNotFoundError as CompetitionNotFoundError
from ._errors import MetricError as MetricError
from ._errors import MLEDojoError as MLEDojoError
from ._metrics import CompetitionMetrics as CompetitionMetrics
from ._metrics import InvalidSubmissionError as InvalidSubmissionError
from ._registry import Competition as Competition
from ._registry import CompetitionRegistry as CompetitionRegistry
from ._registry import CompInfo as CompInfo

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
