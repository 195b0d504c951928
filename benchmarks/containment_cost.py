"""What containment costs: each layer's own price, and warm latency with and without the filter.

Measured side by side in one run:

  (1) The per-run setup a spare and its agent do ahead of each request, each step in a forked
      child of this process (wall and CPU, the children's rusage), against the step it replaced:
      - ``unshare(user|mnt|pid)`` (before) against ``unshare(user|mnt|pid|net|ipc)`` plus bringing
        up ``lo`` (now: per-run network and IPC namespaces);
      - a run's init: ``posix_spawn`` of ``sleep`` as pid 1, then SIGKILL and reap (now: the agent
        is pid 2, so signals it sends itself act as in any process);
      - dropping every capability and zeroing the namespace quotas; installing the seccomp filter.
      The floor is ``fork()`` + ``_exit`` of this same process.
  (2) Warm latency through a real pool, one run at a time with a spare ready (``spares=1``): a
      trivial snippet and a syscall-heavy one (20,000 ``os.stat`` calls), with the default seccomp
      filter against ``seccomp=None`` (the filter's own cost on every syscall).
  (3) Making an episode's work dir: a loop-mounted ext4 disk with a quota against a plain directory.

Prints a table and ends stdout with one JSON line.  Run it as root from the repository root::

    .venv/bin/python benchmarks/containment_cost.py [--repeat N] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import json
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import sandbox
from sandbox import _zygote as zygote

CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID = 0x00020000, 0x10000000, 0x20000000
CLONE_NEWNET, CLONE_NEWIPC = 0x40000000, 0x08000000
SYSCALL_HEAVY = "import os\nfor _ in range(20000):\n    os.stat('.')\n"


def _in_child(step: Callable[[], None]) -> tuple[float, float]:
    """(wall ms, CPU ms) of ``step`` in a forked child that then exits; fork and exit included."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            step()
        except BaseException:
            os._exit(1)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    wall = (time.perf_counter() - start) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"step {step.__name__} failed in the child")
    cpu = (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) * 1000
    return wall, cpu


def _unshare(flags: int) -> None:
    zygote._enter_user_namespace(flags)


def step_floor() -> None:
    """fork + _exit only."""


def step_old_namespaces() -> None:
    _unshare(CLONE_NEWNS | CLONE_NEWPID)
    os._exit(0) if os.fork() == 0 else os.wait()


def step_new_namespaces() -> None:
    _unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC)
    zygote._loopback_up()
    os._exit(0) if os.fork() == 0 else os.wait()


def step_init() -> None:
    _unshare(CLONE_NEWNS | CLONE_NEWPID)
    init = zygote._start_init("/usr/bin/sleep")
    child = os.fork()
    if child == 0:
        os._exit(0)
    os.waitpid(child, 0)
    os.kill(init, 9)
    os.waitpid(init, 0)


def step_confine() -> None:
    _unshare(CLONE_NEWNS)
    zygote._confine()


PROGRAM = sandbox.SeccompPolicy.default().compile()


def step_seccomp() -> None:
    zygote.install_seccomp(PROGRAM)


STEPS: dict[str, Callable[[], None]] = {
    "fork + exit (floor)": step_floor,
    "unshare user|mnt|pid + fork (before)": step_old_namespaces,
    "unshare user|mnt|pid|net|ipc + lo up + fork (now)": step_new_namespaces,
    "unshare user|mnt|pid + init (sleep as pid 1) + fork (now)": step_init,
    "drop capabilities, namespace quotas 0": step_confine,
    "install the seccomp filter": step_seccomp,
}


def _percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"p50": statistics.median(ordered), "p95": ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]}


def measure_steps(repeat: int) -> dict[str, dict[str, float]]:
    out = {}
    for name, step in STEPS.items():
        _in_child(step)  # warm
        samples = [_in_child(step) for _ in range(repeat)]
        walls, cpus = [s[0] for s in samples], [s[1] for s in samples]
        out[name] = {"wall_p50_ms": statistics.median(walls), "cpu_mean_ms": statistics.fmean(cpus)}
    return out


async def _latencies(pool: sandbox.Pool, code: str, repeat: int) -> list[float]:
    for _ in range(3):
        await pool.run(code, workdir="bench")
    samples = []
    for _ in range(repeat):
        await asyncio.sleep(0.02)  # an agent's cadence: the spare is ready
        start = time.perf_counter()
        result = await pool.run(code, workdir="bench")
        samples.append((time.perf_counter() - start) * 1000)
        if not result.ok:
            raise RuntimeError(f"run failed: {result.status} {result.message} {result.stderr.text[-500:]}")
    return samples


async def measure_latency(repeat: int) -> dict[str, dict[str, float]]:
    out = {}
    for label, seccomp in (("default filter", sandbox.SeccompPolicy.default()), ("seccomp=None", None)):
        async with sandbox.Pool(name="bench", spares=1, seccomp=seccomp) as pool:
            for snippet, code in (("trivial", "x = 1\n"), ("20k stat calls", SYSCALL_HEAVY)):
                out[f"{snippet}, {label}"] = _percentiles(await _latencies(pool, code, repeat))
    return out


async def measure_workdirs(repeat: int) -> dict[str, float]:
    out = {}
    async with sandbox.Pool(name="benchdirs", spares=0) as pool:
        for label, quota in (("loop ext4 with quota", sandbox.DiskQuota()), ("plain dir", None)):
            samples = []
            for i in range(repeat):
                start = time.perf_counter()
                await pool.prepare_workdir(f"{label[:4]}-{i}", disk_quota=quota)
                samples.append((time.perf_counter() - start) * 1000)
            for i in range(repeat):
                await pool.remove_workdir(f"{label[:4]}-{i}")
            out[label] = statistics.median(samples)
    return out


def _table(steps: dict[str, dict[str, float]], latency: dict[str, dict[str, float]],
           workdirs: dict[str, float]) -> str:
    lines = ["per-run setup step (in a forked child)            wall p50 ms   CPU mean ms"]
    lines += [f"  {name:<48} {v['wall_p50_ms']:>10.2f} {v['cpu_mean_ms']:>12.2f}" for name, v in steps.items()]
    lines += ["", "warm latency through a pool (spares=1)          p50 ms      p95 ms"]
    lines += [f"  {name:<44} {v['p50']:>8.2f} {v['p95']:>10.2f}" for name, v in latency.items()]
    lines += ["", "making a work dir                                p50 ms"]
    lines += [f"  {name:<44} {v:>8.2f}" for name, v in workdirs.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=100)
    parser.add_argument("--quick", action="store_true", help="tiny counts: a smoke test, not a measurement")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        print("run as root (disk quotas and the namespace steps as the jail does them)", file=sys.stderr)
        return 2
    repeat = 5 if args.quick else args.repeat
    steps = measure_steps(repeat)
    latency = asyncio.run(measure_latency(repeat))
    workdirs = asyncio.run(measure_workdirs(max(3, repeat // 10)))
    print(_table(steps, latency, workdirs))
    old = steps["unshare user|mnt|pid + fork (before)"]
    new = steps["unshare user|mnt|pid|net|ipc + lo up + fork (now)"]
    headline: dict[str, Any] = {
        "benchmark": "containment_cost", "repeat": repeat,
        "netns_ipcns_extra_wall_ms": round(new["wall_p50_ms"] - old["wall_p50_ms"], 3),
        "netns_ipcns_extra_cpu_ms": round(new["cpu_mean_ms"] - old["cpu_mean_ms"], 3),
        "init_extra_wall_ms": round(steps["unshare user|mnt|pid + init (sleep as pid 1) + fork (now)"]["wall_p50_ms"]
                                    - old["wall_p50_ms"], 3),
        "init_extra_cpu_ms": round(steps["unshare user|mnt|pid + init (sleep as pid 1) + fork (now)"]["cpu_mean_ms"]
                                   - old["cpu_mean_ms"], 3),
        "seccomp_install_wall_ms": round(steps["install the seccomp filter"]["wall_p50_ms"]
                                         - steps["fork + exit (floor)"]["wall_p50_ms"], 3),
        "trivial_p50_ms": round(latency["trivial, default filter"]["p50"], 3),
        "trivial_p50_ms_no_filter": round(latency["trivial, seccomp=None"]["p50"], 3),
        "syscall_heavy_p50_ms": round(latency["20k stat calls, default filter"]["p50"], 3),
        "syscall_heavy_p50_ms_no_filter": round(latency["20k stat calls, seccomp=None"]["p50"], 3),
        "workdir_quota_ms": round(workdirs["loop ext4 with quota"], 3),
        "workdir_plain_ms": round(workdirs["plain dir"], 3),
    }
    print(json.dumps(headline))
    return 0


if __name__ == "__main__":
    ctypes.CDLL(None)  # the zygote's helpers use libc through ctypes
    sys.exit(main())
