"""GPU assignment, with a fake inventory; and the real thing where a GPU is lent."""

from __future__ import annotations

import asyncio
import os

import attrs
import pytest

import sandbox
from sandbox import ConfigError, GpuDevice, GpuRequest
from sandbox._gpu import jail_nodes, plan


@attrs.frozen
class FakeInventory:
    gpus: tuple[GpuDevice, ...] = (
        GpuDevice(0, "/dev/nvidia0", 80 << 30, "H100"),
        GpuDevice(1, "/dev/nvidia1", 80 << 30, "H100"),
        GpuDevice(2, "/dev/nvidia2", 40 << 30, "A100"),
    )
    mps: str | None = None

    def devices(self) -> list[GpuDevice]:
        return list(self.gpus)

    def control_nodes(self) -> list[str]:
        return ["/dev/nvidiactl", "/dev/nvidia-uvm"]

    def mps_pipe(self) -> str | None:
        return self.mps


def test_a_jail_mounts_only_its_gpus_and_the_control_nodes() -> None:
    nodes = jail_nodes(FakeInventory(), [1])
    assert nodes == ("/dev/nvidia1", "/dev/nvidiactl", "/dev/nvidia-uvm")
    assert jail_nodes(FakeInventory(), []) == ()


def test_asking_for_a_gpu_the_host_lacks_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="no GPU"):
        jail_nodes(FakeInventory(), [7])


def test_a_run_without_a_request_sees_no_gpu() -> None:
    result = plan(FakeInventory(), None, [0, 1])
    assert result.env["CUDA_VISIBLE_DEVICES"] == ""
    assert result.nodes == ()
    assert set(result.hidden) == {"/dev/nvidia0", "/dev/nvidia1"}
    assert result.memory_fraction is None


def test_a_run_gets_its_device_by_host_index_and_the_others_are_hidden() -> None:
    result = plan(FakeInventory(), GpuRequest((1,)), [0, 1])
    assert result.env["CUDA_VISIBLE_DEVICES"] == "1"
    assert result.nodes == ("/dev/nvidia1",)
    assert result.hidden == ("/dev/nvidia0",)


def test_memory_cap_without_mps_is_a_torch_fraction_of_the_smallest_gpu() -> None:
    result = plan(FakeInventory(), GpuRequest((0, 2), memory_bytes=10 << 30), [0, 2])
    assert result.memory_fraction == pytest.approx(10 / 40)
    assert "CUDA_MPS_PINNED_DEVICE_MEM_LIMIT" not in result.env


def test_memory_cap_with_mps_uses_mps_limits() -> None:
    result = plan(FakeInventory(mps="/tmp/mps"), GpuRequest((0,), memory_bytes=2 << 30), [0])
    assert result.memory_fraction is None
    assert result.env["CUDA_MPS_PINNED_DEVICE_MEM_LIMIT"] == "0=2048M"
    assert result.env["CUDA_MPS_PIPE_DIRECTORY"] == "/tmp/mps"


def test_a_run_cannot_ask_for_a_gpu_outside_its_pool() -> None:
    with pytest.raises(ConfigError, match="not mounted"):
        plan(FakeInventory(), GpuRequest((2,)), [0, 1])


def test_unknown_total_memory_refuses_a_cap() -> None:
    inventory = FakeInventory(gpus=(GpuDevice(0, "/dev/nvidia0"),))
    with pytest.raises(ConfigError, match="unknown"):
        plan(inventory, GpuRequest((0,), memory_bytes=1 << 30), [0])


@pytest.mark.parametrize("devices", [(0, 0), (-1,)])
def test_bad_requests(devices: tuple[int, ...]) -> None:
    with pytest.raises(ConfigError):
        GpuRequest(devices)


def _has_gpu() -> bool:
    if not os.path.exists("/dev/nvidia0"):
        return False
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


GPU_PROBE = """
import torch
assert torch.cuda.device_count() == 1, torch.cuda.device_count()
x = torch.ones(1024, 1024, device="cuda")
print("matmul", float((x @ x).sum()))
try:
    big = torch.empty(int(3 * 2**30), dtype=torch.uint8, device="cuda")
    print("NO CAP")
except torch.OutOfMemoryError:
    print("capped")
"""


@pytest.mark.gpu
@pytest.mark.skipif(not _has_gpu(), reason="needs an NVIDIA GPU with CUDA torch")
def test_two_runs_on_one_gpu_each_get_the_device_and_the_memory_cap() -> None:
    async def main() -> list[sandbox.RunResult]:
        async with sandbox.Pool(gpus=[0], preload=["torch"], limits=sandbox.Limits(timeout=120, memory="8G")) as pool:
            request = GpuRequest((0,), memory_bytes=2 << 30)
            return list(await asyncio.gather(
                pool.run(GPU_PROBE, workdir="a", gpu=request), pool.run(GPU_PROBE, workdir="b", gpu=request)))

    for result in asyncio.run(main()):
        assert result.ok, result.stderr.text
        assert "matmul" in result.stdout.text
        assert "capped" in result.stdout.text
