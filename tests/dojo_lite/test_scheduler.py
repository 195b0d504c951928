"""The scheduler with real pools: budgets hold, pools are shared, cancel and close leave nothing."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Any

import psutil
import pytest
from conftest import solution

import dojo_lite
import sandbox
from dojo_lite import Scheduler

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sandbox"))
from jailtools import cgroup_dirs, nsjail_process, pool_processes, zygote_process

pytestmark = pytest.mark.slow

# Prints when it ran (host clock), so overlapping runs can be counted.
TIMED = solution(0.0) + "import time\nstart = time.time()\ntime.sleep(0.15)\nprint(start, time.time())\n"


def _max_overlap(spans: list[tuple[float, float]]) -> int:
    events = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans])
    running = peak = 0
    for _, delta in events:
        running += delta
        peak = max(peak, running)
    return peak


class Recorder:
    """An async agent: executes ``TIMED`` ``runs`` times, keeping each run's printed span."""

    def __init__(self, runs: int, code: str = TIMED) -> None:
        self.runs, self.code, self.spans = runs, code, []  # type: ignore[var-annotated]

    async def __call__(self, obs: dict[str, Any], info: dict[str, Any]) -> dict[str, Any] | None:
        if obs["action"] == "execute_code" and obs["status"] == "ok":
            start, end = map(float, obs["data"]["run"]["stdout_tail"].split())
            self.spans.append((start, end))
        if info["step"] >= self.runs:
            return None
        return {"action": "execute_code", "code": self.code}


def test_many_episodes_share_one_pool_within_the_budgets(toy_task: dojo_lite.Task, tmp_path: Path) -> None:
    agents = [Recorder(3) for _ in range(10)]

    async def main() -> tuple[list[dojo_lite.EpisodeResult], dojo_lite.SchedulerStats, int]:
        # each run holds 1 CPU and 1 GiB: 2 CPUs and 3 GiB admit at most two at a time
        async with Scheduler(cpus=2, memory="3G", idle_close_s=0.2, trajectory_dir=tmp_path) as sched:
            results = await sched.gather([(toy_task, agent) for agent in agents])
            stats = sched.stats()
            pools = stats.pools_open
            await asyncio.sleep(0.6)
            return results, sched.stats(), pools  # type: ignore[return-value]

    results, stats, pools_while_open = asyncio.run(main())
    spans = [span for agent in agents for span in agent.spans]
    assert len(spans) == 30 and all(r.best_score == 0.0 for r in results)
    assert _max_overlap(spans) <= 2, "more runs at once than the CPU budget admits"
    assert _max_overlap(spans) == 2, "control: the budget was used"
    assert pools_while_open == 1 and stats.pools_open == 0, "one shared pool, closed when idle"
    assert stats.runs == 30 and stats.episodes_done == 10 and stats.max_queue_length >= 5
    assert stats.wait_p95_s is not None and stats.wait_p95_s > 0.1 and 0 < stats.utilisation["cpus"] <= 1.0
    assert stats.overhead_s >= 0 and stats.queue_length == 0 and stats.in_use["cpus"] == 0


def test_sync_agents_run_in_threads(toy_task: dojo_lite.Task) -> None:
    seen: list[str] = []

    def slow_sync_agent(obs: dict[str, Any], info: dict[str, Any]) -> dict[str, Any] | None:
        time.sleep(0.3)  # an LLM call, say: it must not block the other episodes
        seen.append(obs["action"])
        return None if len(seen) > 1 else {"action": "execute_code", "code": solution(0.0)}

    async def main() -> float:
        async with Scheduler(cpus=2, memory="4G") as sched:
            started = time.monotonic()
            ticks = 0

            async def ticker() -> None:
                nonlocal ticks
                while True:
                    await asyncio.sleep(0.05)
                    ticks += 1

            tick = asyncio.ensure_future(ticker())
            await sched.run_episode(toy_task, slow_sync_agent)
            tick.cancel()
            assert ticks >= 8, "the event loop kept running while the agent thought"
            return time.monotonic() - started

    assert asyncio.run(main()) >= 0.6


def _leftovers(pool_dirs: list[Path]) -> list[str]:
    left = [str(d) for d in pool_dirs if d.exists()]
    left += [str(c) for d in pool_dirs for c in cgroup_dirs(d.name + "*")]
    return left


def test_cancelling_an_episode_kills_its_run_frees_its_budget_and_ends_its_trajectory(
        toy_task: dojo_lite.Task, tmp_path: Path) -> None:
    sleeper = "import time\nopen('started', 'w').close()\ntime.sleep(60)\n"

    async def main() -> tuple[dojo_lite.SchedulerStats, list[Path], float]:
        # no spare child: after a run, the zygote must be the pool's only process
        async with Scheduler(cpus=2, memory="4G", trajectory_dir=tmp_path, spares=0) as sched:
            episode = asyncio.ensure_future(sched.run_episode(toy_task, dojo_lite.ScriptedAgent(
                [{"action": "execute_code", "code": sleeper}])))
            while not list(Path(tmp_path).rglob("*.jsonl")) or sched.stats().in_use["cpus"] == 0:
                await asyncio.sleep(0.05)
            pool = next(iter(sched._leases.values())).pool
            await asyncio.sleep(0.5)
            assert pool_processes(pool), "control: the run is alive"
            cancelled = time.monotonic()
            episode.cancel()
            with pytest.raises(asyncio.CancelledError):
                await episode
            took = time.monotonic() - cancelled
            await asyncio.sleep(0.3)
            assert pool_processes(pool) == [], "the run outlived its episode"
            return sched.stats(), [pool.directory], took

    stats, pool_dirs, took = asyncio.run(main())
    assert took < 2 and stats.in_use == {"cpus": 0, "memory": 0} and stats.queue_length == 0
    (trajectory,) = Path(tmp_path).rglob("*.jsonl")
    record = dojo_lite.read_trajectory(trajectory)
    assert record.steps[-1]["observation"]["action"] == "cancelled" and record.end is not None
    assert _leftovers(pool_dirs) == [], "closing the scheduler leaves no dirs or cgroups"


def test_closing_the_scheduler_cancels_running_episodes_and_leaves_nothing(toy_task: dojo_lite.Task) -> None:
    sleeper = "import time\ntime.sleep(60)\n"

    async def main() -> list[Path]:
        sched = Scheduler(cpus=2, memory="4G", spares=0)
        episodes = [asyncio.ensure_future(sched.run_episode(toy_task, dojo_lite.ScriptedAgent(
            [{"action": "execute_code", "code": sleeper}]))) for _ in range(4)]
        while sched.stats().in_use["cpus"] < 2:
            await asyncio.sleep(0.05)
        pool = next(iter(sched._leases.values())).pool
        directory, jail = pool.directory, nsjail_process(pool)
        deadline = time.monotonic() + 10
        while len(processes := [jail, *jail.children(recursive=True)]) < 4 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert len(processes) >= 4, "control: nsjail, the zygote and the runs"
        await sched.aclose()
        await asyncio.wait(episodes)
        # the callers' tasks are not the scheduler's to cancel: each learns that its episode ended
        assert not any(e.cancelled() for e in episodes)
        assert all(isinstance(e.exception(), dojo_lite.EnvClosed) for e in episodes) and pool.closed
        time.sleep(0.3)
        alive = [p for p in processes if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
        assert alive == [], alive
        return [directory]

    assert _leftovers(asyncio.run(main())) == []


def test_closing_the_scheduler_never_cancels_the_caller(toy_task: dojo_lite.Task) -> None:
    # The scheduler owns the episodes it runs, not the task that asked for one: after closing it,
    # the caller goes on (and its own later awaits are not cancelled).
    sleeper = "import time\ntime.sleep(60)\n"

    async def caller(sched: Scheduler, closed: asyncio.Event) -> str:
        try:
            await sched.run_episode(toy_task, dojo_lite.ScriptedAgent([{"action": "execute_code", "code": sleeper}]))
        except dojo_lite.EnvClosed as exc:
            await closed.wait()
            await asyncio.sleep(0.05)  # a cancelled task would be cancelled again here
            return f"went on after: {exc}"
        return "the episode finished?"

    async def main() -> str:
        closed = asyncio.Event()
        async with Scheduler(cpus=2, memory="4G", spares=0) as sched:
            task = asyncio.ensure_future(caller(sched, closed))
            while sched.stats().in_use["cpus"] == 0:
                await asyncio.sleep(0.05)
        closed.set()
        return await task

    assert asyncio.run(main()).startswith("went on after: the scheduler was closed")


def test_a_zygote_crash_fails_only_the_runs_in_flight(toy_task: dojo_lite.Task) -> None:
    slow = solution(0.0) + "import time\nopen('started', 'w').close()\ntime.sleep(1.5)\n"

    async def main() -> tuple[list[str], list[str]]:
        async with Scheduler(cpus=2, memory="4G") as sched:
            first = [sched.env(toy_task) for _ in range(2)]
            for env in first:
                await env.areset()
            steps = [asyncio.ensure_future(env.astep({"action": "execute_code", "code": slow})) for env in first]
            pool = next(iter(sched._leases.values())).pool
            while not all(env.workdir is not None and (env.workdir / "started").exists() for env in first):
                await asyncio.sleep(0.02)
            zygote_process(pool).kill()
            crashed = [obs["status"] for obs, *_ in await asyncio.gather(*steps)]
            after = []
            for env in first:
                obs, *_ = await env.astep({"action": "execute_code", "code": solution(0.0)})
                after.append(obs["status"])
                await env.aclose()
            return crashed, after

    crashed, after = asyncio.run(main())
    assert crashed == ["sandbox_error", "sandbox_error"]
    assert after == ["ok", "ok"], "the pool restarted its zygote for the next runs"


def test_gpu_runs_get_their_device_and_cap(toy_task: dojo_lite.Task) -> None:
    """With a fake two-GPU inventory: each run is handed one device and a memory cap."""

    class FakeInventory:
        def devices(self) -> list[sandbox.GpuDevice]:
            return [sandbox.GpuDevice(i, "/dev/null", 16 << 30, "fake") for i in (0, 1)]

        def control_nodes(self) -> list[str]:
            return []

        def mps_pipe(self) -> str | None:
            return None

    probe = solution(0.0) + "import os\nprint(os.environ.get('CUDA_VISIBLE_DEVICES'))\n"

    async def main() -> list[str]:
        async with Scheduler(cpus=2, memory="4G", gpus=[0, 1], gpu_inventory=FakeInventory()) as sched:
            envs = [sched.env(toy_task, gpu=dojo_lite.GpuNeed(memory_bytes="8G")) for _ in range(2)]
            for env in envs:
                await env.areset()
            outs = await asyncio.gather(*(env.astep({"action": "execute_code", "code": probe}) for env in envs))
            for env in envs:
                await env.aclose()
            return [obs["data"]["run"]["stdout_tail"].strip() for obs, *_ in outs]

    assert sorted(asyncio.run(main())) == ["0", "1"]


def test_waiting_in_the_queue_is_not_charged_to_the_time_budget(toy_task: dojo_lite.Task) -> None:
    hog = solution(0.0) + "import time\ntime.sleep(2)\n"

    async def main() -> tuple[dict[str, Any], dict[str, Any]]:
        async with Scheduler(cpus=1, memory="4G") as sched:
            first, second = sched.env(toy_task), sched.env(toy_task, max_seconds=1.5)
            await first.areset()
            await second.areset()
            hogging = asyncio.ensure_future(first.astep({"action": "execute_code", "code": hog}))
            while sched.stats().in_use["cpus"] < 1:
                await asyncio.sleep(0.01)
            obs, _, _, truncated, info = await second.astep({"action": "execute_code", "code": solution(0.0)})
            await hogging
            for env in (first, second):
                await env.aclose()
            return obs, {**info, "truncated": truncated}

    obs, info = asyncio.run(main())
    assert obs["status"] == "ok", obs["feedback"]
    assert info["score"] == 0.0 and not info["truncated"] and info["seconds_left"] >= 1
