"""One error tree: whatever dojo_lite raises is a DojoError, and a task author's bug is reported
as the task's, never as the agent's or the sandbox's."""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import solution

import dojo_lite
import sandbox
from dojo_lite import DojoEnv


class NoGpus(sandbox.GpuInventory):
    def devices(self) -> list[sandbox.GpuDevice]:
        return []


def _misuses(task: dojo_lite.Task) -> dict[str, tuple[Callable[[], object], type[dojo_lite.DojoError]]]:
    return {
        "unknown task": (lambda: dojo_lite.find_task("tabular/no-such-task"), dojo_lite.TaskNotFound),
        "bad variant": (lambda: DojoEnv(task, variant="huge"), dojo_lite.ConfigError),
        "no steps": (lambda: DojoEnv(task, max_steps=0), dojo_lite.ConfigError),
        "bad render mode": (lambda: DojoEnv(task, render_mode="human"), dojo_lite.ConfigError),
        "no CPUs": (lambda: dojo_lite.Scheduler(cpus=0), dojo_lite.ConfigError),
        "bad memory size": (lambda: dojo_lite.Scheduler(memory="lots"), dojo_lite.ConfigError),
        "more than the host": (lambda: dojo_lite.Scheduler(cpus=100_000), dojo_lite.ConfigError),
        "a GPU that is not there": (lambda: dojo_lite.Scheduler(gpus=[0, 1], gpu_inventory=NoGpus()),
                                    dojo_lite.ConfigError),
        "a GPU share without memory": (lambda: dojo_lite.GpuNeed(), dojo_lite.ConfigError),
        "a GPU share of no size": (lambda: dojo_lite.GpuNeed(memory_bytes="much"), dojo_lite.ConfigError),
        "an unknown agent": (lambda: dojo_lite.make_agent("clever", task), dojo_lite.ConfigError),
        "a NaN position": (lambda: dojo_lite.Leaderboard.from_scores([1.0, 2.0], dojo_lite.Direction.MAXIMIZE)
                           .position(float("nan")), dojo_lite.ConfigError),
        "an import of no competition": (lambda: dojo_lite.import_mledojo("/no/such/competition", "/no/such/root"),
                                        dojo_lite.TaskImportError),
    }


@pytest.mark.parametrize("case", ["unknown task", "bad variant", "no steps", "bad render mode", "no CPUs",
                                  "bad memory size", "more than the host", "a GPU that is not there",
                                  "a GPU share without memory", "a GPU share of no size", "an unknown agent",
                                  "a NaN position", "an import of no competition"])
def test_misuse_raises_a_dojo_error(toy_task: dojo_lite.Task, case: str) -> None:
    call, kind = _misuses(toy_task)[case]
    with pytest.raises(kind) as raised:
        call()
    assert isinstance(raised.value, dojo_lite.DojoError)
    assert not isinstance(raised.value, sandbox.SandboxError), "sandbox's errors are translated"


def test_sync_calls_inside_a_loop_and_closed_schedulers_raise_dojo_errors(toy_task: dojo_lite.Task) -> None:
    async def main() -> None:
        env = DojoEnv(toy_task)
        with pytest.raises(dojo_lite.UsageError, match="areset"):
            env.reset()
        async with dojo_lite.Scheduler(cpus=1, memory="1G") as sched:
            pass
        with pytest.raises(dojo_lite.EnvClosed):
            sched.env(toy_task)
        with pytest.raises(dojo_lite.EnvClosed):
            await sched.run_episode(toy_task, dojo_lite.ScriptedAgent([]))

    asyncio.run(main())


def test_a_host_that_cannot_jail_raises_sandbox_unavailable(toy_task: dojo_lite.Task,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    def missing() -> Path:
        raise sandbox.NsjailNotFound("no nsjail here (test)")

    monkeypatch.setattr("sandbox._pool.find_nsjail", missing)
    env = DojoEnv(toy_task)
    try:
        with pytest.raises(dojo_lite.SandboxUnavailable, match="no nsjail here") as raised:
            env.reset()
        assert isinstance(raised.value.__cause__, sandbox.NsjailNotFound), "the original is kept as the cause"
    finally:
        env.close()


@pytest.fixture
def buggy_task(toy_root: Path, tmp_path: Path) -> dojo_lite.Task:
    """The toy task with a custom grade.py that fails on scores above 1 (its author's bug)."""
    root = tmp_path / "tasks"
    shutil.copytree(toy_root, root)
    folder = root / "tabular" / "toy-sum"
    (folder / "task.toml").write_text((folder / "task.toml").read_text().replace('"rmse"', '"custom"'))
    (folder / "grade.py").write_text(
        "def grade(submission, answers):\n"
        "    error = float((submission.y - answers.y).abs().mean())\n"
        "    return error if error <= 1 else 1 / 0\n")
    return dojo_lite.find_task("tabular/toy-sum", [root])


def test_a_bug_in_a_task_s_grade_py_is_the_task_s_not_the_agent_s(buggy_task: dojo_lite.Task, tmp_path: Path,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    env = DojoEnv(buggy_task, trajectory_dir=tmp_path)
    try:
        env.reset()
        fine, reward, *_ = env.step({"action": "execute_code", "code": solution(0.5)})
        assert fine["status"] == "ok" and reward > 0, "control: the hook works on other input"
        with caplog.at_level(logging.ERROR, logger="dojo_lite"):
            obs, reward, _, _, info = env.step({"action": "execute_code", "code": solution(3.0)})
        assert obs["status"] == "task_error" and reward == 0.0 and info["score"] is None
        assert "not of your code or of the sandbox" in obs["feedback"]
        assert "ZeroDivisionError" not in obs["feedback"], "the task's internals stay with the operator"
        logged = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert logged and logged[-1].exc_info is not None
        assert "ZeroDivisionError" in caplog.text and "tabular/toy-sum" in caplog.text
        after, *_ = env.step({"action": "execute_code", "code": solution(0.0)})
        assert after["status"] == "ok", "the episode goes on"
    finally:
        env.close()


def test_a_grade_py_that_does_not_load_is_a_task_error(buggy_task: dojo_lite.Task) -> None:
    (buggy_task.path / "grade.py").write_text("import no_such_module_here\n")
    env = DojoEnv(buggy_task)
    try:
        env.reset()
        obs, *_ = env.step({"action": "execute_code", "code": solution(0.5)})
        assert obs["status"] == "task_error", obs["feedback"]
    finally:
        env.close()


def test_a_bug_in_dojo_lite_is_an_internal_error_not_the_sandbox_s(toy_env: DojoEnv,
                                                                   monkeypatch: pytest.MonkeyPatch,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    toy_env.reset()

    def broken(*args: object) -> None:
        raise KeyError("a bug")

    monkeypatch.setattr("dojo_lite._actions._feedback.describe_run", broken)
    with caplog.at_level(logging.ERROR, logger="dojo_lite"):
        obs, *_ = toy_env.step({"action": "execute_code", "code": solution(0.0)})
    assert obs["status"] == "internal_error" and obs["action"] == "internal"
    assert "KeyError" in caplog.text
