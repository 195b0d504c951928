"""dojo_lite on a Ray cluster: one node actor per node owns that node's scheduler and jails; a
router places each episode on the least-loaded node and keeps it there.

::

    async with dojo_lite.ray.RayScheduler("auto") as sched:        # every node of the cluster
        results = await sched.gather([(task, agent) for task in tasks])
        print(sched.stats().nodes)

Needs Ray (``pip install 'dojo-lite[ray]'``) and dojo_lite installed on every node.  See the
README's "Across hosts: Ray" section for what runs where and how to scale.
"""

try:
    import ray as _ray  # noqa: F401  (Ray is an extra: say which)
except ImportError as exc:  # pragma: no cover - depends on the install
    raise ImportError("dojo_lite.ray needs Ray: pip install 'dojo-lite[ray]'") from exc

from .._errors import NodeLost as NodeLost
from ._node import NodeInfo as NodeInfo
from ._router import NodeStats as NodeStats
from ._router import RayEnv as RayEnv
from ._router import RayScheduler as RayScheduler
from ._router import RaySchedulerStats as RaySchedulerStats

__all__ = ["NodeInfo", "NodeLost", "NodeStats", "RayEnv", "RayScheduler", "RaySchedulerStats"]
