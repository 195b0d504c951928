"""dojo_lite: Docker-free, Gym-style environments for machine-learning-engineering agents.

The environment layer (tasks, grading, actions, scheduler) is built on the
``sandbox`` package's public API.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
