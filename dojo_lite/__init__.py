"""dojo_lite: Docker-free, Gym-style environments for machine-learning-engineering agents.

::

    env = dojo_lite.make("tabular/titanic-survival")      # a gymnasium.Env
    obs, info = env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step({"action": "execute_code", "code": code})

Agent code runs in the ``sandbox`` package's jails (through its public API only); grading runs
here, in the controller.  ``docs/architecture.md`` maps the modules.
"""

from ._actions import SOLUTION_FILE as SOLUTION_FILE
from ._admission import GpuNeed as GpuNeed
from ._agents import Agent as Agent
from ._agents import EpisodeResult as EpisodeResult
from ._agents import ScriptedAgent as ScriptedAgent
from ._agents import agent_note as agent_note
from ._agents import baseline_agent as baseline_agent
from ._agents import make_agent as make_agent
from ._agents import open_chat as open_chat
from ._agents import run_episode as run_episode
from ._agents import script_agent as script_agent
from ._backend import Backend as Backend
from ._backend import PoolBackend as PoolBackend
from ._backend import Ran as Ran
from ._backend import SharedPoolBackend as SharedPoolBackend
from ._backend import task_pool as task_pool
from ._chat import ChatAgent as ChatAgent
from ._chat import ChatClient as ChatClient
from ._chat import ChatConfig as ChatConfig
from ._chat import ChatStep as ChatStep
from ._chat import ChatUsage as ChatUsage
from ._defaults import FROM_TASK as FROM_TASK
from ._defaults import FromTask as FromTask
from ._durations import Durations as Durations
from ._env import DojoEnv as DojoEnv
from ._episode import Episode as Episode
from ._episode import RewardFn as RewardFn
from ._episode import position_reward as position_reward
from ._errors import ConfigError as ConfigError
from ._errors import DojoError as DojoError
from ._errors import EnvClosed as EnvClosed
from ._errors import NodeLost as NodeLost
from ._errors import PrepareError as PrepareError
from ._errors import RewardError as RewardError
from ._errors import SandboxUnavailable as SandboxUnavailable
from ._errors import SubmissionError as SubmissionError
from ._errors import TaskCodeError as TaskCodeError
from ._errors import TaskFormatError as TaskFormatError
from ._errors import TaskImportError as TaskImportError
from ._errors import TaskNotFound as TaskNotFound
from ._errors import TrajectoryError as TrajectoryError
from ._errors import UsageError as UsageError
from ._export import chat_example as chat_example
from ._export import export_chat as export_chat
from ._grading import GradingSpec as GradingSpec
from ._importers import import_mlebench as import_mlebench
from ._importers import import_mledojo as import_mledojo
from ._metrics import Direction as Direction
from ._metrics import PredictionKind as PredictionKind
from ._observation import Action as Action
from ._observation import ActionSpace as ActionSpace
from ._observation import JsonDict as JsonDict
from ._observation import Observation as Observation
from ._observation import ObservationSpace as ObservationSpace
from ._observation import Status as Status
from ._observation import UnicodeText as UnicodeText
from ._registry import gym_id as gym_id
from ._registry import make as make
from ._registry import register_tasks as register_tasks
from ._scheduler import Scheduler as Scheduler
from ._scheduler import SchedulerBackend as SchedulerBackend
from ._scheduler import SchedulerStats as SchedulerStats
from ._scores import Grade as Grade
from ._scores import Leaderboard as Leaderboard
from ._scores import Medal as Medal
from ._scores import Precision as Precision
from ._scores import Thresholds as Thresholds
from ._task import Budget as Budget
from ._task import PreparedData as PreparedData
from ._task import Task as Task
from ._task import canonical_id as canonical_id
from ._task import find_task as find_task
from ._task import list_tasks as list_tasks
from ._trajectory import Trajectory as Trajectory
from ._trajectory import TrajectoryWriter as TrajectoryWriter
from ._trajectory import read_trajectory as read_trajectory
from ._trajectory import write_batch_record as write_batch_record

__version__ = "0.1.0"
__all__ = [
    "FROM_TASK",
    "SOLUTION_FILE",
    "Action",
    "ActionSpace",
    "Agent",
    "Backend",
    "Budget",
    "ChatAgent",
    "ChatClient",
    "ChatConfig",
    "ChatStep",
    "ChatUsage",
    "ConfigError",
    "Direction",
    "DojoEnv",
    "DojoError",
    "Durations",
    "EnvClosed",
    "Episode",
    "EpisodeResult",
    "FromTask",
    "GpuNeed",
    "Grade",
    "GradingSpec",
    "JsonDict",
    "Leaderboard",
    "Medal",
    "NodeLost",
    "Observation",
    "ObservationSpace",
    "PoolBackend",
    "Precision",
    "PredictionKind",
    "PrepareError",
    "PreparedData",
    "Ran",
    "RewardError",
    "RewardFn",
    "SandboxUnavailable",
    "Scheduler",
    "SchedulerBackend",
    "SchedulerStats",
    "ScriptedAgent",
    "SharedPoolBackend",
    "Status",
    "SubmissionError",
    "Task",
    "TaskCodeError",
    "TaskFormatError",
    "TaskImportError",
    "TaskNotFound",
    "Thresholds",
    "Trajectory",
    "TrajectoryError",
    "TrajectoryWriter",
    "UnicodeText",
    "UsageError",
    "__version__",
    "agent_note",
    "baseline_agent",
    "canonical_id",
    "chat_example",
    "export_chat",
    "find_task",
    "gym_id",
    "import_mlebench",
    "import_mledojo",
    "list_tasks",
    "make",
    "make_agent",
    "open_chat",
    "position_reward",
    "read_trajectory",
    "register_tasks",
    "run_episode",
    "script_agent",
    "task_pool",
    "write_batch_record",
]

register_tasks()  # cheap: folder names only (see _registry)
