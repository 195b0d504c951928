"""Run untrusted Python in an nsjail jail with cgroup limits, through a warm zygote.

The public API::

    async with sandbox.Pool(preload=["numpy"]) as pool:
        pool.workdir("ep1")                       # host path of the episode's work dir
        result = await pool.run("print(1)", workdir="ep1")
        result.status                             # sandbox.RunStatus.OK

    sandbox.run("print(1)")                        # blocking, one fresh jail
"""

from ._cgroups import CgroupVersion as CgroupVersion
from ._cleanup import remove_tree as remove_tree
from ._doctor import Check as Check
from ._doctor import HostReport as HostReport
from ._doctor import doctor as doctor
from ._errors import ConfigError as ConfigError
from ._errors import GuaranteeUnavailable as GuaranteeUnavailable
from ._errors import HostError as HostError
from ._errors import NsjailNotFound as NsjailNotFound
from ._errors import PoolClosed as PoolClosed
from ._errors import SandboxError as SandboxError
from ._gpu import GpuDevice as GpuDevice
from ._gpu import GpuInventory as GpuInventory
from ._gpu import GpuRequest as GpuRequest
from ._gpu import NvidiaInventory as NvidiaInventory
from ._isolation import Isolation as Isolation
from ._jail import Mount as Mount
from ._jail import Placement as Placement
from ._jail import Runtime as Runtime
from ._jail import install_nsjail as install_nsjail
from ._limits import Limits as Limits
from ._limits import parse_size as parse_size
from ._pool import Pool as Pool
from ._quota import DiskQuota as DiskQuota
from ._result import FileChange as FileChange
from ._result import Output as Output
from ._result import RunResult as RunResult
from ._result import RunStatus as RunStatus
from ._seccomp import SeccompPolicy as SeccompPolicy
from ._sync import run as run

__all__ = [
    "CgroupVersion", "Check", "ConfigError", "DiskQuota", "FileChange", "GpuDevice", "GpuInventory", "GpuRequest",
    "GuaranteeUnavailable", "HostError", "HostReport", "Isolation", "Limits", "Mount", "NsjailNotFound",
    "NvidiaInventory", "Output", "Placement", "Pool", "PoolClosed", "RunResult", "RunStatus", "Runtime", "SandboxError",
    "SeccompPolicy", "doctor", "install_nsjail", "parse_size", "remove_tree", "run",
]
