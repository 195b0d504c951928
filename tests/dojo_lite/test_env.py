"""The environment's five actions, budgets, observations and Gymnasium API, on the toy task."""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import gymnasium
import pytest
from conftest import CANARY, solution
from gymnasium.utils.env_checker import check_env

import dojo_lite
import sandbox
from dojo_lite import DojoEnv, Status

pytestmark = pytest.mark.slow


def step(env: DojoEnv, action: object) -> tuple[dict, float, bool, dict]:
    obs, reward, terminated, truncated, info = env.step(action)
    assert terminated is False
    assert obs in env.observation_space
    return obs, reward, truncated, info


def test_reset_gives_the_overview_and_a_fresh_budget(toy_env: DojoEnv) -> None:
    obs, info = toy_env.reset(seed=1)
    assert obs["action"] == "request_info" and obs["status"] == "ok"
    assert "Predict y = x1 + x2" in obs["feedback"]
    assert info["steps_left"] == 12 and info["best_score"] is None and info["best_medal"] == "none"


def test_request_info_topics(toy_env: DojoEnv) -> None:
    toy_env.reset()
    obs, reward, _, _ = step(toy_env, {"action": "request_info"})
    assert reward == 0.0 and set(obs["data"]) == {"overview", "data", "submission", "metric", "limits"}
    files = {f["name"]: f for f in obs["data"]["data"]["files"]}
    assert files["train.csv"]["rows"] == 100 and files["test.csv"]["columns"] == {"id": "int64", "x1": "int64",
                                                                                  "x2": "int64"}
    assert obs["data"]["submission"]["columns"] == ["id", "y"] and obs["data"]["submission"]["rows"] == 40
    assert obs["data"]["metric"] == {"metric": "rmse", "direction": "minimize"}
    assert obs["data"]["limits"]["steps_left"] == 11 and obs["data"]["limits"]["execute"]["timeout_s"] == 20
    assert "answers" not in json.dumps(obs["data"]["data"]), "private files are never listed"
    only, *_ = step(toy_env, json.dumps({"action": "request_info", "topic": "metric"}))
    assert set(only["data"]) == {"metric"} and "lower is better" in only["feedback"]


@pytest.mark.parametrize("action, fragment", [
    ("not json", "not valid JSON"),
    ([1, 2], "must be a dict"),
    ({"action": "fly"}, "unknown action 'fly'"),
    ({"action": "execute_code"}, "needs a 'code' string"),
    ({"action": "validate_code", "code": 42}, "needs a 'code' string"),
    ({"action": "request_info", "topic": "secrets"}, "unknown topic"),
])
def test_malformed_actions_are_observations(toy_env: DojoEnv, action: object, fragment: str) -> None:
    toy_env.reset()
    obs, reward, truncated, info = step(toy_env, action)
    assert obs["status"] == Status.INVALID_ACTION.value and fragment in obs["feedback"], obs
    assert reward == 0.0 and info["step"] == 1 and not truncated


def test_execute_scores_rewards_and_tracks_the_best(toy_env: DojoEnv) -> None:
    toy_env.reset()
    obs, reward, _, info = step(toy_env, {"action": "execute_code", "code": solution(1.0)})
    assert obs["status"] == "ok", obs["feedback"]
    assert info["score"] == pytest.approx(1.0)
    # leaderboard 0, 0.5, 1.5, 10 (lower is better): 1.0 is third of four -> (4 - 3 + 1) / 4
    assert info["position_score"] == pytest.approx(0.5) == reward and "human_rank" not in info
    assert obs["data"]["grade"]["position"] == 3
    _, reward2, _, info2 = step(toy_env, {"action": "execute_code", "code": solution(0.0)})
    assert info2["score"] == pytest.approx(0.0) and reward2 == 1.0 and info2["medal"] == "gold"
    _, _, _, info3 = step(toy_env, {"action": "execute_code", "code": solution(5.0)})
    assert info3["score"] == pytest.approx(5.0)
    assert info3["best_score"] == pytest.approx(0.0) and info3["best_medal"] == "gold"


def test_validate_runs_on_micro_and_never_scores(toy_env: DojoEnv) -> None:
    toy_env.reset()
    code = solution(0.0) + "print(len(test))\n"
    obs, reward, _, info = step(toy_env, {"action": "validate_code", "code": code})
    assert obs["status"] == "ok" and "format is valid (10 rows)" in obs["feedback"]
    assert obs["data"]["run"]["stdout_tail"] == "10\n"
    assert reward == 0.0 and info["score"] is None and info["best_score"] is None


@pytest.mark.parametrize("code, status, fragment", [
    ("def broken(:\n", "code_error", "does not compile"),
    ("raise ValueError('bad idea')\n", "code_error", "ValueError: bad idea"),
    ("import time\ntime.sleep(30)\n", "code_error", "timeout"),
    ("x = 1\n", "submission_error", "submission.csv"),
    ("open('submission.csv', 'w').write('id,y\\n1000,1\\n')\n", "submission_error", "expected 10"),
])
def test_failures_are_observations_with_feedback(toy_env: DojoEnv, code: str, status: str, fragment: str) -> None:
    toy_env.reset()
    obs, reward, _, info = step(toy_env, {"action": "validate_code", "code": code})
    assert obs["status"] == status and fragment in obs["feedback"], obs["feedback"]
    assert reward == 0.0 and info["score"] is None


def test_a_stale_submission_is_never_graded(toy_env: DojoEnv) -> None:
    toy_env.reset()
    assert step(toy_env, {"action": "execute_code", "code": solution(0.0)})[0]["status"] == "ok"
    obs, *_ = step(toy_env, {"action": "execute_code", "code": "print('forgot to write it')\n"})
    assert obs["status"] == "submission_error" and obs["data"]["submission_error"]["code"] == "missing_file"


def test_files_persist_between_steps_until_the_reset_action(toy_env: DojoEnv) -> None:
    toy_env.reset()
    step(toy_env, {"action": "execute_code", "code": "open('model.txt', 'w').write('42')\n"})
    obs, *_ = step(toy_env, {"action": "validate_code", "code": "print(open('model.txt').read())\n"})
    assert obs["data"]["run"]["stdout_tail"] == "42\n"
    assert step(toy_env, {"action": "reset"})[0]["status"] == "ok"
    obs, *_ = step(toy_env, {"action": "validate_code", "code": "import os\nprint(sorted(os.listdir('.')))\n"})
    assert obs["data"]["run"]["stdout_tail"] == "['input']\n"


def test_history_lists_every_step(toy_env: DojoEnv) -> None:
    toy_env.reset()
    step(toy_env, {"action": "request_info", "topic": "metric"})
    step(toy_env, {"action": "execute_code", "code": solution(0.5)})
    obs, *_ = step(toy_env, {"action": "get_history"})
    history = obs["data"]["history"]
    assert [h["action"] for h in history] == ["request_info", "execute_code"]
    assert history[1]["score"] == pytest.approx(0.5) and history[1]["status"] == "ok"


def test_step_budget_truncates(toy_task: dojo_lite.Task) -> None:
    env = DojoEnv(toy_task, max_steps=2)
    try:
        env.reset()
        assert step(env, {"action": "get_history"})[2] is False
        assert step(env, {"action": "get_history"})[2] is True
        obs, _, truncated, _ = step(env, {"action": "execute_code", "code": solution(0.0)})
        assert truncated and obs["status"] == "budget_exhausted"
    finally:
        env.close()


def test_time_budget_truncates_and_caps_the_run(toy_task: dojo_lite.Task) -> None:
    env = DojoEnv(toy_task, max_seconds=2.5)
    try:
        env.reset()
        obs, _, truncated, info = step(env, {"action": "execute_code", "code": "import time\ntime.sleep(10)\n"})
        assert obs["status"] == "code_error" and obs["data"]["run"]["status"] == "timeout"
        assert obs["data"]["run"]["wall_s"] < 5 and truncated and info["seconds_left"] == 0
    finally:
        env.close()


SNOOP = """
import glob, os
found = []
# (not all of /tmp or /.sandbox/keep: a runtime under /tmp, say a venv in a clone there, is bound there)
for root in ["/data", "/.sandbox/episodes", "/.sandbox/keep/*/dojo-lite-test-*", "/workspace", "/home", *PLACES]:
    found += glob.glob(root + "/**", recursive=True)
found += glob.glob("/tmp/*") + glob.glob("/.sandbox/*")
found = sorted(set(p for p in found if os.path.isfile(p)))
for path in found:
    try:
        if os.path.isfile(path) and CANARY in open(path, errors="ignore").read():
            print("LEAK", path)
    except OSError:
        pass
print(sorted(p for p in found if any(w in p for w in ("answers", "canary", "private", "mine.txt", "leaderboard"))))
print([p for p in found if p.startswith("/data/full")])
"""


@pytest.fixture
def visible_place() -> Iterator[Path]:
    """A folder under the runtime's prefix, which every jail mounts: what is there would be
    readable inside, unless the sandbox hides it."""
    place = Path(sys.prefix) / f"dojo-lite-test-{uuid.uuid4().hex[:8]}"
    place.mkdir()
    yield place
    shutil.rmtree(place)


def test_agent_code_sees_no_private_files_and_no_other_episode(toy_root: Path, visible_place: Path) -> None:
    shutil.copytree(toy_root, visible_place / "tasks")
    task = dojo_lite.find_task("tabular/toy-sum", [visible_place / "tasks"])
    cache = visible_place / "cache"
    private = task.prepare("full", cache).private
    places = [str(private), str(cache), str(task.path)]
    for path in visible_place.rglob("*"):  # readable by all: only the jail's hiding can keep them out
        path.chmod(0o755 if path.is_dir() else 0o644)

    async def episodes() -> tuple[str, str]:
        first = DojoEnv(task, cache=cache)
        await first.areset()
        await first.astep({"action": "execute_code", "code": "open('mine.txt', 'w').write('episode one')\n"})
        second = DojoEnv(task, backend=dojo_lite.SharedPoolBackend(first.backend.pool), cache=cache)
        await second.areset()
        snoop = f"PLACES = {[*places, str(first.workdir)]!r}\nCANARY = {CANARY!r}\n" + SNOOP
        obs, *_ = await second.astep({"action": "execute_code", "code": snoop})
        mine, *_ = await first.astep({"action": "validate_code", "code": "print(open('mine.txt').read())\n"})
        await second.aclose()
        await first.aclose()
        assert obs["data"]["run"]["status"] == "ok", obs["feedback"]
        return obs["data"]["run"]["stdout_tail"], mine["data"]["run"]["stdout_tail"]

    snooped, mine = asyncio.run(episodes())
    assert (private / "canary.txt").read_text() == CANARY, "control: the canary is on the host"
    assert mine == "episode one\n", "control: an episode sees its own files"
    full = "['/data/full/sample_submission.csv', '/data/full/test.csv', '/data/full/train.csv']"
    assert snooped == f"[]\n{full}\n", snooped


def test_check_env_and_gymnasium_make(toy_root: Path, toy_task: dojo_lite.Task) -> None:
    ids = dojo_lite.register_tasks([toy_root])
    assert "dojo_lite/tabular.toy-sum" in ids
    env = gymnasium.make("dojo_lite/tabular.toy-sum")
    try:
        check_env(env.unwrapped)
        assert isinstance(env.unwrapped, DojoEnv) and env.unwrapped.task.id == "tabular/toy-sum"
    finally:
        env.close()


def test_async_twins(toy_task: dojo_lite.Task) -> None:
    async def episode() -> float:
        env = DojoEnv(toy_task)
        try:
            await env.areset(seed=3)
            _, reward, _, _, _ = await env.astep({"action": "execute_code", "code": solution(0.0)})
            with pytest.raises(dojo_lite.UsageError, match="areset/astep"):
                env.step({"action": "get_history"})
            return reward
        finally:
            await env.aclose()

    assert asyncio.run(episode()) == 1.0


def test_closed_env_refuses(toy_task: dojo_lite.Task) -> None:
    env = DojoEnv(toy_task)
    env.reset()
    workdir = env.workdir
    assert workdir is not None and workdir.exists()
    env.close()
    assert not workdir.exists()
    with pytest.raises(dojo_lite.EnvClosed):
        env.reset()


def test_a_custom_grade_hook_scores_the_submission(toy_root: Path, tmp_path: Path) -> None:
    root = tmp_path / "tasks"
    shutil.copytree(toy_root, root)
    folder = root / "tabular" / "toy-sum"
    toml = (folder / "task.toml").read_text()
    (folder / "task.toml").write_text(toml.replace('metric = "rmse"', 'metric = "custom"'))
    with pytest.raises(dojo_lite.TaskFormatError, match=r"grade\.py"):
        dojo_lite.find_task("tabular/toy-sum", [root])
    # the share of rows within 0.5 of the truth, as an error rate (lower is better)
    (folder / "grade.py").write_text(
        "def grade(submission, answers):\n"
        "    return float(((submission.y - answers.y).abs() > 0.5).mean())\n")
    env = DojoEnv(dojo_lite.find_task("tabular/toy-sum", [root]))
    try:
        env.reset()
        _, _, _, info = step(env, {"action": "execute_code", "code": solution(0.25)})
        assert info["score"] == 0.0
        _, _, _, info = step(env, {"action": "execute_code", "code": solution(2.0)})
        assert info["score"] == 1.0
    finally:
        env.close()


HOSTILE_CODE = [
    # (code, status of the step that runs it, status of the next plain step)
    ("import os\nos.mkdir('submission.csv')\n", "submission_error", "ok"),
    ("import os\nos.mkdir('input/x') if False else None\nos.unlink('input')\nos.mkdir('input')\n", "submission_error",
     "ok"),
    ("open(b'\\xff-not-utf8.txt', 'w').write('x')\n", "submission_error", "ok"),
    ("x = 1" + "+1" * 200_000 + "\n", "code_error", "ok"),
    ("open('submission.csv', 'w').write(','.join(['id', 'y'] + ['c%d' % i for i in range(400_000)]) + '\\n')\n",
     "submission_error", "ok"),
    ("open('submission.csv', 'w').write('id,' + 'y' * 5_000_000 + '\\n1000,1\\n')\n", "submission_error", "ok"),
]


@pytest.mark.parametrize("code, status, after", HOSTILE_CODE)
def test_hostile_code_gets_an_observation_and_loses_nothing(toy_task: dojo_lite.Task, tmp_path: Path, code: str,
                                                            status: str, after: str) -> None:
    env = DojoEnv(toy_task, trajectory_dir=tmp_path)
    try:
        env.reset()
        started = time.monotonic()
        obs, *_ = step(env, {"action": "execute_code", "code": code})
        assert obs["status"] == status, obs["feedback"][:2000]
        assert len(obs["feedback"]) <= 64_000 and time.monotonic() - started < 15
        obs, *_ = step(env, {"action": "execute_code", "code": solution(0.0)})
        assert obs["status"] == after, obs["feedback"][:2000]
    finally:
        env.close()
    trajectory = dojo_lite.read_trajectory(next(tmp_path.rglob("*.jsonl")))
    assert len(trajectory.steps) == 2 and trajectory.end is not None


@pytest.mark.parametrize("action", ["[" * 100_000, '{"action": ' + "9" * 5000 + "}",
                                    {"action": "get_history", (1, 2): "tuple key"}, {"action": "fly\ud800"}])
def test_hostile_actions_get_an_observation(toy_env: DojoEnv, action: object) -> None:
    toy_env.reset()
    obs, *_ = step(toy_env, action)
    assert obs["status"] in ("invalid_action", "ok")
    assert step(toy_env, {"action": "get_history"})[0]["status"] == "ok"


def test_sync_close_after_async_use_says_how_to_close(toy_task: dojo_lite.Task) -> None:
    env = DojoEnv(toy_task)

    async def use() -> Path:
        await env.areset()
        assert isinstance(env.backend, dojo_lite.PoolBackend)
        directory = env.backend.pool.directory
        with pytest.raises(dojo_lite.UsageError, match="aclose"):
            env.close()
        await env.aclose()
        return directory

    assert not asyncio.run(use()).exists(), "aclose stops the pool"
    env.close()  # already closed: nothing to do


@pytest.mark.root
def test_an_unjailed_episode_finds_its_input_and_scores_right(toy_task: dojo_lite.Task, traversable_root: None,
                                                               tmp_path: Path) -> None:
    # isolation="none" is an explicit opt-out: runs are plain processes of uid 65534, and ./input
    # must point at the data's host path (there is no /data without a jail).
    cache = Path(tempfile.mkdtemp(prefix="dojo-unjailed-"))
    cache.chmod(0o755)
    env = dojo_lite.DojoEnv(toy_task, cache=cache, trajectory_dir=tmp_path,
                            backend=dojo_lite.PoolBackend(isolation="none"))
    try:
        env.reset(seed=0)
        code = "import os\nprint('uid', os.getuid(), os.path.realpath('input'))\n" + solution(0.5)
        obs, reward, _, _, info = env.step({"action": "execute_code", "code": code})
        assert obs["status"] == "ok", obs["feedback"]
        assert info["score"] == pytest.approx(0.5) and reward > 0
        stdout = obs["data"]["run"]["stdout_tail"]
        assert stdout.startswith("uid 65534 " + str(cache)), stdout
        assert any("isolation='none'" in w for w in obs["data"]["run"]["warnings"])
    finally:
        env.close()
        sandbox.remove_tree(cache)
