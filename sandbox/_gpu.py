"""GPUs: what the host has, and what one run is given.

The logic takes an injectable :class:`GpuInventory`, so it is testable on a
machine without a GPU; :class:`NvidiaInventory` reads the real one.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from typing import Protocol

import attrs

from ._errors import ConfigError

_CONTROL_NODES = ("/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools", "/dev/nvidia-modeset")
_MPS_PIPE = "/tmp/nvidia-mps"


@attrs.frozen
class GpuDevice:
    index: int
    node: str
    memory_bytes: int | None = None
    name: str = ""


class GpuInventory(Protocol):
    """Where GPUs come from: the real host, or a test's fake."""

    def devices(self) -> list[GpuDevice]: ...

    def control_nodes(self) -> list[str]: ...

    def mps_pipe(self) -> str | None: ...


class NvidiaInventory:
    """The host's NVIDIA GPUs, from ``/dev/nvidia<N>`` and ``nvidia-smi`` when present."""

    def devices(self) -> list[GpuDevice]:
        memory = _smi_memory()
        found = []
        for node in glob.glob("/dev/nvidia[0-9]*"):
            match = re.fullmatch(r"/dev/nvidia(\d+)", node)
            if match:
                index = int(match.group(1))
                total, name = memory.get(index, (None, ""))
                found.append(GpuDevice(index, node, total, name))
        return sorted(found, key=lambda d: d.index)

    def control_nodes(self) -> list[str]:
        return [n for n in _CONTROL_NODES if os.path.exists(n)]

    def mps_pipe(self) -> str | None:
        pipe = os.environ.get("CUDA_MPS_PIPE_DIRECTORY", _MPS_PIPE)
        return pipe if os.path.exists(os.path.join(pipe, "control")) else None


class CachedInventory:
    """An inventory read once: GPUs do not come and go under a running pool."""

    def __init__(self, inner: GpuInventory) -> None:
        self._devices = inner.devices()
        self._control = inner.control_nodes()
        self._mps = inner.mps_pipe()

    def devices(self) -> list[GpuDevice]:
        return list(self._devices)

    def control_nodes(self) -> list[str]:
        return list(self._control)

    def mps_pipe(self) -> str | None:
        return self._mps


def _smi_memory() -> dict[int, tuple[int, str]]:
    smi = shutil.which("nvidia-smi")
    if not smi:
        return {}
    try:
        out = subprocess.run([smi, "--query-gpu=index,memory.total,name", "--format=csv,noheader,nounits"],
                             capture_output=True, text=True, timeout=20, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    rows = {}
    for line in out.splitlines():
        parts = [p.strip() for p in line.split(",", 2)]
        if len(parts) == 3 and parts[0].isdigit() and parts[1].isdigit():
            rows[int(parts[0])] = (int(parts[1]) << 20, parts[2])
    return rows


@attrs.frozen
class GpuRequest:
    """GPUs for one run: host device indices, and optionally a memory cap on each."""

    devices: tuple[int, ...] = attrs.field(converter=tuple)
    memory_bytes: int | None = None

    @devices.validator
    def _check(self, attribute: attrs.Attribute[tuple[int, ...]], value: tuple[int, ...]) -> None:
        if len(set(value)) != len(value) or any(i < 0 for i in value):
            raise ConfigError(f"bad GPU indices {value!r}")


@attrs.frozen
class GpuPlan:
    """How a run sees its GPUs: device nodes to show, nodes to hide, environment,
    and the per-process memory fraction the child applies when MPS cannot."""

    nodes: tuple[str, ...] = ()
    hidden: tuple[str, ...] = ()
    env: dict[str, str] = attrs.field(factory=dict)
    memory_fraction: float | None = None


def jail_nodes(inventory: GpuInventory, indices: Sequence[int]) -> tuple[str, ...]:
    """Device nodes a jail that may serve runs on ``indices`` mounts."""
    by_index = {d.index: d for d in inventory.devices()}
    missing = [i for i in indices if i not in by_index]
    if missing:
        raise ConfigError(f"no GPU {missing} on this host (have {sorted(by_index)})")
    if not indices:
        return ()
    return tuple(by_index[i].node for i in indices) + tuple(inventory.control_nodes())


def plan(inventory: GpuInventory, request: GpuRequest | None, jail_indices: Sequence[int]) -> GpuPlan:
    """What a run gets.  Without a request it sees no GPU at all."""
    by_index = {d.index: d for d in inventory.devices()}
    wanted = request.devices if request else ()
    outside = [i for i in wanted if i not in jail_indices]
    if outside:
        raise ConfigError(f"GPU {outside} is not mounted in this pool (pool has {list(jail_indices)})")
    hidden = tuple(by_index[i].node for i in jail_indices if i not in wanted and i in by_index)
    # The driver enumerates every GPU on the host whatever nodes are mounted,
    # so visibility is by host index (in PCI order, as nvidia-smi counts).
    env = {"CUDA_VISIBLE_DEVICES": ",".join(str(i) for i in wanted),
           "CUDA_DEVICE_ORDER": "PCI_BUS_ID"}
    fraction = None
    if request and request.memory_bytes:
        pipe = inventory.mps_pipe()
        if pipe:
            env["CUDA_MPS_PIPE_DIRECTORY"] = pipe
            env["CUDA_MPS_PINNED_DEVICE_MEM_LIMIT"] = ",".join(
                f"{n}={request.memory_bytes >> 20}M" for n in range(len(wanted)))
        else:
            totals = [by_index[i].memory_bytes for i in wanted]
            if any(t is None for t in totals):
                raise ConfigError("cannot cap GPU memory: total memory of the GPU is unknown")
            fraction = min(1.0, request.memory_bytes / min(t for t in totals if t is not None))
    return GpuPlan(tuple(by_index[i].node for i in wanted), hidden, env, fraction)
