"""dojo_lite: Docker-free, Gym-style environments for machine-learning-engineering agents.

::

    env = dojo_lite.make("tabular/titanic-survival")      # a gymnasium.Env
    obs, info = env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step({"action": "execute_code", "code": code})

Agent code runs in the ``sandbox`` package's jails (through its public API only); grading runs
here, in the controller.
"""

from ._admission import GpuNeed as GpuNeed
from ._agents import EpisodeResult as EpisodeResult
from ._agents import ScriptedAgent as ScriptedAgent
from ._agents import baseline_agent as baseline_agent
from ._agents import make_agent as make_agent
from ._agents import run_episode as run_episode
from ._agents import script_agent as script_agent
from ._env import DojoEnv as DojoEnv
from ._env import task_pool as task_pool
from ._errors import DojoError as DojoError
from ._errors import EnvClosed as EnvClosed
from ._errors import PrepareError as PrepareError
from ._errors import SubmissionError as SubmissionError
from ._errors import TaskFormatError as TaskFormatError
from ._errors import TaskNotFound as TaskNotFound
from ._observation import Observation as Observation
from ._observation import Status as Status
from ._registry import gym_id as gym_id
from ._registry import make as make
from ._registry import register_tasks as register_tasks
from ._scheduler import Scheduler as Scheduler
from ._scheduler import SchedulerStats as SchedulerStats
from ._scores import Grade as Grade
from ._scores import Leaderboard as Leaderboard
from ._scores import Medal as Medal
from ._task import Task as Task
from ._task import find_task as find_task
from ._task import list_tasks as list_tasks
from ._trajectory import Trajectory as Trajectory
from ._trajectory import read_trajectory as read_trajectory

__version__ = "0.1.0"
__all__ = [
    "DojoEnv",
    "DojoError",
    "EnvClosed",
    "EpisodeResult",
    "GpuNeed",
    "Grade",
    "Leaderboard",
    "Medal",
    "Observation",
    "PrepareError",
    "Scheduler",
    "SchedulerStats",
    "ScriptedAgent",
    "Status",
    "SubmissionError",
    "Task",
    "TaskFormatError",
    "TaskNotFound",
    "Trajectory",
    "__version__",
    "baseline_agent",
    "find_task",
    "gym_id",
    "list_tasks",
    "make",
    "make_agent",
    "read_trajectory",
    "register_tasks",
    "run_episode",
    "script_agent",
    "task_pool",
]

register_tasks()
