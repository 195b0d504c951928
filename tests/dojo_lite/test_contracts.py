"""The env, its backends and the scheduler keep their contracts at the awkward moments a
reviewer's attack scripts found: closing mid-start, mid-run and mid-idle-close, sharing a
backend, sync use of a scheduler's env, and a caller's reward function that fails."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import psutil
import pytest
from conftest import solution

import dojo_lite
from dojo_lite import DojoEnv, Scheduler
from sandbox._cleanup import RUNTIME_STAGE, pool_root

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sandbox"))
from jailtools import cgroup_dirs


def _pools_of_this_process() -> list[Path]:
    """Pool dirs whose owner file names this process (see sandbox's stale sweep)."""
    mine = []
    for owner in pool_root().glob("*/owner"):
        try:
            pid, name = owner.read_text().split()[:2]
        except (OSError, ValueError):
            continue
        if pid == str(os.getpid()) and name != RUNTIME_STAGE:  # the staged runtime lives as long as the process
            mine.append(owner.parent)
    return mine


def _leftovers() -> list[str]:
    dirs = _pools_of_this_process()
    jails = [p for p in psutil.Process().children(recursive=True) if p.status() != psutil.STATUS_ZOMBIE]
    return [*map(str, dirs), *(str(c) for d in dirs for c in cgroup_dirs(d.name)), *(str(p) for p in jails)]


def test_closing_right_after_an_idle_close_began_waits_for_the_pool(toy_task: dojo_lite.Task) -> None:
    # idle_close_s=0: the pool starts closing as the episode ends, and the scheduler closes at once
    async def main() -> list[str]:
        async with Scheduler(cpus=1, memory="2G", idle_close_s=0.0, freeze_gc=False) as sched:
            await sched.run_episode(toy_task, dojo_lite.ScriptedAgent(
                [{"action": "execute_code", "code": solution(0.0)}]))
            for _ in range(3):
                await asyncio.sleep(0)
        return _leftovers()

    assert asyncio.run(main()) == [], "aclose returned while a pool was still closing"


def test_steps_after_the_scheduler_closed_raise_env_closed(toy_task: dojo_lite.Task) -> None:
    sleeper = "import time\nopen('started', 'w').close()\ntime.sleep(30)\n"

    async def main() -> list[BaseException | None]:
        async with Scheduler(cpus=1, memory="2G", freeze_gc=False) as sched:
            env = sched.env(toy_task)
            await env.areset()
            step = asyncio.ensure_future(env.astep({"action": "execute_code", "code": sleeper}))
            while env.workdir is None or not (env.workdir / "started").exists():
                await asyncio.sleep(0.05)
        outcomes: list[BaseException | None] = [(await asyncio.gather(step, return_exceptions=True))[0]]
        for call in (env.astep({"action": "execute_code", "code": solution(0.0)}), env.areset()):
            outcomes.append((await asyncio.gather(call, return_exceptions=True))[0])
        await env.aclose()
        return outcomes

    outcomes = asyncio.run(main())
    # the run killed by the close is not the agent's failure (no code_error), and later calls are refused
    assert all(isinstance(o, dojo_lite.EnvClosed) for o in outcomes), outcomes


def test_a_backend_serves_one_env(toy_task: dojo_lite.Task) -> None:
    async def main() -> None:
        backend = dojo_lite.PoolBackend()
        first, second = DojoEnv(toy_task, backend=backend), DojoEnv(toy_task, backend=backend)
        try:
            await first.areset()
            with pytest.raises(dojo_lite.UsageError, match="backend of its own"):
                await second.areset()
        finally:
            await first.aclose()
            await second.aclose()

    asyncio.run(main())


def test_a_shared_pool_closed_by_its_owner_is_env_closed(toy_task: dojo_lite.Task) -> None:
    async def main() -> None:
        async with dojo_lite.task_pool(toy_task) as pool:
            env = DojoEnv(toy_task, backend=dojo_lite.SharedPoolBackend(pool))
            await env.areset()
        with pytest.raises(dojo_lite.EnvClosed):
            await env.astep({"action": "execute_code", "code": solution(0.0)})
        late = DojoEnv(toy_task, backend=dojo_lite.SharedPoolBackend(pool))
        with pytest.raises(dojo_lite.EnvClosed):
            await late.areset()
        await env.aclose()
        await late.aclose()

    asyncio.run(main())


def test_a_run_that_could_never_be_admitted_is_refused_at_reset(toy_task: dojo_lite.Task) -> None:
    async def main() -> None:
        async with Scheduler(cpus=1, memory="512M", freeze_gc=False) as sched:  # the toy task needs 1G
            env = sched.env(toy_task)
            with pytest.raises(dojo_lite.ConfigError, match="512 MiB"):
                await env.areset()
            await env.aclose()

    asyncio.run(main())


def test_a_scheduler_s_env_used_through_the_sync_api_is_refused(toy_task: dojo_lite.Task) -> None:
    sched = Scheduler(cpus=1, memory="2G", freeze_gc=False)  # made outside any event loop
    env = sched.env(toy_task)
    with pytest.raises(dojo_lite.UsageError, match="scheduler's event loop"):
        env.reset()
    env.close()
    asyncio.run(sched.aclose())
    assert _leftovers() == []


def test_close_inside_a_loop_is_a_no_op_when_nothing_is_left_to_close(toy_task: dojo_lite.Task) -> None:
    async def main() -> None:
        unused = DojoEnv(toy_task)
        unused.close()
        used = DojoEnv(toy_task)
        await used.areset()
        await used.aclose()
        used.close()

    asyncio.run(main())


def test_arguments_are_checked_where_they_are_given(toy_root: Path, toy_task: dojo_lite.Task,
                                                    tmp_path: Path) -> None:
    with pytest.raises(dojo_lite.ConfigError, match="spare"):
        dojo_lite.PoolBackend(spare=2)
    with pytest.raises(dojo_lite.ConfigError, match="preload"):
        dojo_lite.PoolBackend(preload=["torch"])
    with pytest.raises(dojo_lite.ConfigError):
        Scheduler(cpus=1, memory="1G", pool_options={"spare": 2})
    sched = Scheduler(cpus=1, memory="1G")
    assert sched.env("tabular/toy-sum", task_path=[toy_root]).task.id == "tabular/toy-sum"
    with pytest.raises(dojo_lite.ConfigError, match="backend"):
        sched.env(toy_task, backend=dojo_lite.PoolBackend())
    (tmp_path / "a-file").write_text("")
    env = DojoEnv(toy_task, trajectory_dir=tmp_path / "a-file" / "below")
    try:
        with pytest.raises(dojo_lite.ConfigError, match="cannot write trajectories"):
            env.reset()
    finally:
        env.close()


def test_a_reward_function_that_fails_is_raised_after_the_step_is_recorded(toy_task: dojo_lite.Task,
                                                                            tmp_path: Path) -> None:
    def reward(grade: dojo_lite.Grade | None, episode: dojo_lite.Episode) -> float:
        raise KeyError("oops")

    env = DojoEnv(toy_task, reward=reward, trajectory_dir=tmp_path)
    try:
        env.reset()
        with pytest.raises(dojo_lite.RewardError, match="oops") as raised:
            env.step({"action": "execute_code", "code": solution(0.0)})
        assert isinstance(raised.value.__cause__, KeyError)
        assert len(env.history) == 1 and env.history[0]["status"] == "ok"
        path = env.trajectory_path
    finally:
        env.close()
    assert path is not None and len(dojo_lite.read_trajectory(path).steps) == 1
    nan = DojoEnv(toy_task, reward=lambda grade, episode: float("nan"))
    try:
        nan.reset()
        with pytest.raises(dojo_lite.RewardError, match="finite"):
            nan.step({"action": "execute_code", "code": solution(0.0)})
    finally:
        nan.close()
