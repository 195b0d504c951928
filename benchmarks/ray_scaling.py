"""Ray scaling: the local scheduler against dojo_lite.ray with one node and with two, on one host.

The workload: one small task written to a temp dir by this script (``y = x1 + x2``, 40 test
rows, rmse, 1 CPU and 1 GiB per run, preload numpy and pandas) and a trivial ``execute_code``
snippet that writes a precomputed, exact ``submission.csv`` (no import): the steps are as cheap
as a step can be, so what is measured is the path, not the agent's code.  Every step is graded.

Configurations, all with 2 CPUs of budget in all, side by side in one run (one Ray cluster of
this host: a head with no CPUs, node ``one`` with 2 CPUs, nodes ``two-a`` and ``two-b`` with 1
CPU each, each a raylet with its own object store and workers):

  local      ``dojo_lite.Scheduler(cpus=2)`` in this process;
  ray-1      ``dojo_lite.ray.RayScheduler(nodes=[one])``: one node actor, budget 2 CPUs;
  ray-2      ``RayScheduler(nodes=[two-a, two-b])``: two node actors, 1 CPU each;
  ray-2-on   ray-2, the agents shipped to the nodes (``on_node=True``): no round trip per step.

In local, ray-1 and ray-2 the agent runs here, in this process, and each step is a call to the
episode's node (what a caller with an LLM client does).  Each configuration is warmed (its pools
started, a few untimed episodes) before any clock starts, and the configurations take turns,
round after round, so that a slow spell of the host (steal on a VM) hits all of them alike.

Measured:

- step latency, one episode alone (``--steps`` sequential steps, per round): from the agent's
  action to the observation that answers it, as the agent sees it; for ``execute_code`` (a run in
  a jail and grading) and for ``get_history`` (no run: the bare path).  ``ray_step_overhead_ms``
  is the p50 of ray-1's execute_code latency minus local's (the headline), and the same for ray-2.
- throughput: ``--episodes`` concurrent episodes of ``--executions`` steps each; executed steps per
  second, from the first reset to the last result; the median over rounds; and its ratio to
  local's.  ``throughput_ratio`` is the lower of ray-1's and ray-2's.
- the host's busy CPU share (all CPUs, steal included) while each throughput run ran.

Prints a table and ends stdout with one JSON line (the headline numbers and the targets: overhead
<= 2 ms, throughput >= 90% of local's).  Run it from the repository root::

    .venv/bin/python benchmarks/ray_scaling.py            # about 2 minutes on 2 cores
    .venv/bin/python benchmarks/ray_scaling.py --quick    # a smoke test
    nox -s ray -- --quick                                 # the same through nox
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import logging
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import ray
from measures import host_busy_s, percentile, progress
from ray.cluster_utils import Cluster
from toy_task import EXACT, write_toy_task

import dojo_lite
from dojo_lite.ray import RayScheduler

TASK_ID = "tabular/bench-ray"
TRIVIAL = {"action": "execute_code", "code": f"open('submission.csv', 'w').write({EXACT!r})\n"}
HISTORY = {"action": "get_history"}
CPUS = 2  # the budget of every configuration, in all
STORE = 80 << 20  # each Ray node's object store
TARGET_OVERHEAD_MS = 2.0
TARGET_RATIO = 0.9
CONFIGS = ("local", "ray-1", "ray-2", "ray-2-on")


class RunFailed(RuntimeError):
    """A benchmarked step did not succeed: the numbers would be meaningless."""


@dataclasses.dataclass
class Config:
    steps: int        # sequential steps of the lone episode, per round and action
    episodes: int     # concurrent episodes of the throughput runs
    executions: int   # steps per episode there
    rounds: int


@dataclasses.dataclass
class Results:
    latency: dict[str, dict[str, list[float]]] = dataclasses.field(default_factory=dict)  # config -> action -> s
    rates: dict[str, list[float]] = dataclasses.field(default_factory=dict)  # config -> steps/s per round
    busy: dict[str, list[float]] = dataclasses.field(default_factory=dict)   # config -> host busy share per round
    stats: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)


# ------------------------------------------------------------------ the workload


def make_task(base: Path) -> tuple[Path, Path]:
    """Write the task under ``base/tasks`` and prepare its data in ``base/cache``."""
    root, cache = base / "tasks", base / "cache"
    write_toy_task(root, TASK_ID, steps=100000, cache=cache)
    return root, cache


class BenchAgent:
    """An async agent that plays ``count`` copies of ``action`` and times each, from the action to
    the observation that answers it; every answer must be ``ok``.  Picklable (for ``on_node``)."""

    def __init__(self, action: dict[str, Any], count: int) -> None:
        self.action, self.left = action, count
        self.sent: float | None = None
        self.latencies: list[float] = []

    async def __call__(self, obs: dict[str, Any], info: dict[str, Any]) -> dict[str, Any] | None:
        if self.sent is not None:
            self.latencies.append(time.perf_counter() - self.sent)
            if obs["status"] != "ok":
                raise RunFailed(f"status {obs['status']}: {obs['feedback'][-2000:]}")
        if self.left == 0:
            return None
        self.left -= 1
        self.sent = time.perf_counter()
        return self.action


Sched = dojo_lite.Scheduler | RayScheduler


async def episodes(sched: Sched, agents: Sequence[BenchAgent], *, on_node: bool = False) -> int:
    """Run one episode per agent at once; returns the steps they took (each one checked)."""
    if isinstance(sched, RayScheduler):
        results = await sched.gather([(TASK_ID, agent) for agent in agents], on_node=on_node)
    else:
        results = await sched.gather([(TASK_ID, agent) for agent in agents])
    steps = 0
    for result in results:
        if isinstance(result, BaseException):
            raise result
        if any(h["status"] != "ok" for h in result.history):
            raise RunFailed(f"a step failed: {result.history}")
        steps += result.steps
    return steps


# ------------------------------------------------------------------ measuring


async def latency(sched: Sched, action: dict[str, Any], steps: int) -> list[float]:
    agent = BenchAgent(action, steps)
    await episodes(sched, [agent])
    return agent.latencies


async def throughput(sched: Sched, config: Config, *, on_node: bool = False) -> tuple[float, float]:
    """Executed steps per second of ``config.episodes`` concurrent episodes, and the host's busy share."""
    agents = [BenchAgent(TRIVIAL, config.executions) for _ in range(config.episodes)]
    busy, started = host_busy_s(), time.perf_counter()
    steps = await episodes(sched, agents, on_node=on_node)
    elapsed = time.perf_counter() - started
    return steps / elapsed, (host_busy_s() - busy) / (elapsed * (os.cpu_count() or 1))


@contextlib.asynccontextmanager
async def schedulers(nodes: dict[str, str], root: Path, cache: Path) -> AsyncIterator[dict[str, Sched]]:
    """The three schedulers, open, each with its pools warm."""
    common: dict[str, Any] = {"task_path": [root], "cache": cache, "idle_close_s": 3600}
    async with contextlib.AsyncExitStack() as stack:
        local = await stack.enter_async_context(dojo_lite.Scheduler(cpus=CPUS, **common))
        one = await stack.enter_async_context(RayScheduler(nodes=[nodes["one"]], **common))
        two = await stack.enter_async_context(RayScheduler(nodes=[nodes["two-a"], nodes["two-b"]], **common))
        scheds: dict[str, Sched] = {"local": local, "ray-1": one, "ray-2": two}
        for name, sched in scheds.items():  # pools started (one per node), spares forked, code paths warm
            progress(f"warming {name}...")
            await episodes(sched, [BenchAgent(TRIVIAL, 3) for _ in range(4)])
        await episodes(two, [BenchAgent(TRIVIAL, 3) for _ in range(4)], on_node=True)
        yield scheds


async def measure(config: Config, nodes: dict[str, str], root: Path, cache: Path) -> Results:
    results = Results()
    async with schedulers(nodes, root, cache) as scheds:
        for round_ in range(config.rounds):
            progress(f"round {round_ + 1} of {config.rounds}...")
            for name in CONFIGS:
                sched = scheds["ray-2" if name == "ray-2-on" else name]
                on_node = name == "ray-2-on"
                if not on_node:
                    for label, action in (("execute_code", TRIVIAL), ("get_history", HISTORY)):
                        samples = await latency(sched, action, config.steps)
                        results.latency.setdefault(name, {}).setdefault(label, []).extend(samples)
                rate, busy = await throughput(sched, config, on_node=on_node)
                results.rates.setdefault(name, []).append(rate)
                results.busy.setdefault(name, []).append(busy)
        for name, sched in scheds.items():
            stats = await sched.astats() if isinstance(sched, RayScheduler) else sched.stats()
            results.stats[name] = stats.to_dict()
    return results


def start_cluster() -> tuple[Cluster, dict[str, str]]:
    """A Ray cluster on this host: a head with no CPUs, node ``one`` (2 CPUs), ``two-a`` and ``two-b``
    (1 CPU each)."""
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "object_store_memory": STORE})
    nodes = {name: cluster.add_node(num_cpus=cpus, object_store_memory=STORE).node_id
             for name, cpus in (("one", 2), ("two-a", 1), ("two-b", 1))}
    cluster.wait_for_nodes()
    ray.init(address=cluster.address, logging_level=logging.WARNING, log_to_driver=False)
    return cluster, nodes


# ------------------------------------------------------------------ report


def summary(config: Config, results: Results) -> dict[str, Any]:
    def p50_ms(name: str, action: str) -> float:
        value = percentile(results.latency[name][action], 50)
        assert value is not None
        return value * 1000

    rate = {name: statistics.median(rates) for name, rates in results.rates.items()}
    overhead = {name: p50_ms(name, "execute_code") - p50_ms("local", "execute_code") for name in ("ray-1", "ray-2")}
    bare = {name: p50_ms(name, "get_history") - p50_ms("local", "get_history") for name in ("ray-1", "ray-2")}
    ratio = {name: rate[name] / rate["local"] for name in ("ray-1", "ray-2", "ray-2-on")}
    headline = {
        "benchmark": "ray_scaling",
        "ray_step_overhead_ms": round(overhead["ray-1"], 3),
        "ray_step_overhead_ms_2_nodes": round(overhead["ray-2"], 3),
        "ray_bare_step_overhead_ms": round(bare["ray-1"], 3),
        "local_step_p50_ms": round(p50_ms("local", "execute_code"), 3),
        "throughput_ratio": round(min(ratio["ray-1"], ratio["ray-2"]), 3),
        "throughput_ratio_1_node": round(ratio["ray-1"], 3),
        "throughput_ratio_2_nodes": round(ratio["ray-2"], 3),
        "throughput_ratio_2_nodes_agents_on_nodes": round(ratio["ray-2-on"], 3),
        "local_steps_per_s": round(rate["local"], 1),
        "cpus": CPUS,
        "episodes": config.episodes,
        "rounds": config.rounds,
        "targets": {"ray_step_overhead_ms": TARGET_OVERHEAD_MS, "throughput_ratio": TARGET_RATIO},
    }
    headline["met"] = {"ray_step_overhead_ms": headline["ray_step_overhead_ms"] <= TARGET_OVERHEAD_MS,
                       "throughput_ratio": headline["throughput_ratio"] >= TARGET_RATIO}
    return headline


def table(results: Results) -> str:
    rows = [f"{'config':<10} {'exec p50':>9} {'exec p95':>9} {'hist p50':>9} {'steps/s':>8} {'ratio':>6} "
            f"{'host busy':>9}"]
    local_rate = statistics.median(results.rates["local"])
    for name in CONFIGS:
        lat = results.latency.get(name, {})

        def ms(action: str, q: float, lat: dict[str, list[float]] = lat) -> str:
            value = percentile(lat.get(action, []), q)
            return f"{value * 1000:9.2f}" if value is not None else f"{'-':>9}"

        rate = statistics.median(results.rates[name])
        rows.append(f"{name:<10} {ms('execute_code', 50)} {ms('execute_code', 95)} {ms('get_history', 50)} "
                    f"{rate:8.1f} {rate / local_rate:6.2f} {statistics.median(results.busy[name]):9.0%}")
    return "\n".join(rows)


def parse_args(argv: Sequence[str] | None = None) -> Config:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--steps", type=int, default=60, help="sequential steps of the lone episode, per round")
    parser.add_argument("--episodes", type=int, default=16, help="concurrent episodes of the throughput runs")
    parser.add_argument("--executions", type=int, default=10, help="steps per episode in the throughput runs")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; the configurations take turns in each")
    parser.add_argument("--quick", action="store_true", help="tiny counts: a smoke test, not a measurement")
    args = parser.parse_args(argv)
    if args.quick:
        args.steps, args.episodes, args.executions, args.rounds = 10, 4, 3, 1
    if min(args.steps, args.episodes, args.executions, args.rounds) < 1:
        parser.error("counts must be at least 1")
    return Config(steps=args.steps, episodes=args.episodes, executions=args.executions, rounds=args.rounds)


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(levelname)s: %(message)s")
    config = parse_args(argv)
    started = time.perf_counter()
    base = Path(tempfile.mkdtemp(prefix="ray-scaling-"))
    cluster: Cluster | None = None
    try:
        root, cache = make_task(base)
        progress("starting a Ray cluster on this host (a head, nodes one, two-a, two-b)...")
        cluster, nodes = start_cluster()
        results = asyncio.run(measure(config, nodes, root, cache))
    except RunFailed as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    finally:
        ray.shutdown()
        if cluster is not None:
            cluster.shutdown()
        shutil.rmtree(base, ignore_errors=True)
    headline = summary(config, results)
    print(f"machine: {os.cpu_count()} CPUs; Python {platform.python_version()}; Ray {ray.__version__}")
    print(f"every configuration: {CPUS} CPUs of budget; latency: one episode alone, {config.steps} steps x "
          f"{config.rounds} rounds; throughput: {config.episodes} episodes x {config.executions} steps, median of "
          f"{config.rounds} rounds; times in ms")
    print(table(results))
    print(f"({time.perf_counter() - started:.0f} s in all)")
    print(json.dumps(headline))
    return 0


if __name__ == "__main__":
    sys.exit(main())
