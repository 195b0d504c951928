"""The spaces are first-class Gymnasium citizens: equality, repr, seed/sample/contains, the vector
utilities (batching, concatenating, iterating, shared memory), and, on real jails, sync and async
vector envs with autoreset and Gymnasium's wrappers."""

from __future__ import annotations

import copy
import json
import multiprocessing
import pickle
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
import psutil
import pytest
from conftest import solution
from gymnasium.spaces.utils import is_space_dtype_shape_equiv
from gymnasium.vector.utils import (
    batch_differing_spaces,
    batch_space,
    concatenate,
    create_empty_array,
    create_shared_memory,
    iterate,
    read_from_shared_memory,
    write_to_shared_memory,
)
from gymnasium.wrappers import RecordEpisodeStatistics, TimeLimit
from gymnasium.wrappers.vector import RecordEpisodeStatistics as VectorRecordEpisodeStatistics
from shared_memory_writer import post_and_wait

import dojo_lite
from dojo_lite import ActionSpace, JsonDict, ObservationSpace, UnicodeText
from sandbox._cleanup import RUNTIME_STAGE, pool_root

TOY_ID = "dojo_lite/tabular.toy-sum"

SPACES: dict[str, Callable[[], gymnasium.Space[Any]]] = {
    "text": lambda: UnicodeText(64),
    "json": JsonDict,
    "action": ActionSpace,
    "observation": ObservationSpace,
}
LEAVES = ["text", "json", "action"]


# ------------------------------------------------------------------ equality and repr


@pytest.mark.parametrize("name", list(SPACES))
def test_equal_spaces_are_equal_and_survive_copies(name: str) -> None:
    space = SPACES[name]()
    assert space == SPACES[name]() and (space != SPACES[name]()) is False
    assert copy.deepcopy(space) == space == pickle.loads(pickle.dumps(space))
    others = [SPACES[other]() for other in SPACES if other != name]
    assert all(space != other for other in others)


def test_spaces_with_other_parameters_differ() -> None:
    assert UnicodeText(64) != UnicodeText(65)
    assert UnicodeText() == UnicodeText(1 << 20)
    assert JsonDict() != gymnasium.spaces.Dict({})


def test_reprs_name_the_space_and_its_parameters() -> None:
    assert repr(UnicodeText(64)) == "UnicodeText(max_length=64)"
    assert repr(JsonDict()) == "JsonDict()"
    assert repr(ActionSpace()) == "ActionSpace()"
    assert repr(ObservationSpace()) == (
        "ObservationSpace('action': UnicodeText(max_length=64), 'data': JsonDict(), "
        "'feedback': UnicodeText(max_length=1048576), 'status': UnicodeText(max_length=64))")
    assert "object at 0x" not in str(batch_space(ObservationSpace(), 2))


# ------------------------------------------------------------------ seed, sample, contains


@pytest.mark.parametrize("name", list(SPACES))
def test_samples_are_members_and_seeds_repeat_them(name: str) -> None:
    one, two = SPACES[name](), SPACES[name]()
    one.seed(7)
    two.seed(7)
    samples = [one.sample() for _ in range(50)]
    assert samples == [two.sample() for _ in range(50)]
    assert all(s in one for s in samples)
    assert all(json.loads(json.dumps(s)) == s for s in samples), "samples are JSON values"
    assert len({json.dumps(s, sort_keys=True) for s in samples}) >= 5, "samples vary (seeded: no flake)"


def test_a_seed_argument_seeds_the_space() -> None:
    assert [ActionSpace(seed=3).sample() for _ in range(3)] == [ActionSpace(seed=3).sample() for _ in range(3)]
    assert ObservationSpace(seed=3).sample() == ObservationSpace(seed=3).sample()


def test_sampled_actions_are_well_formed_and_need_no_code() -> None:
    space = ActionSpace(seed=0)
    actions = {json.dumps(space.sample(), sort_keys=True) for _ in range(200)}
    names = {json.loads(a)["action"] for a in actions}
    assert names == {"request_info", "get_history"} and len(actions) == 6
    assert all(json.loads(a) in space for a in actions)


@pytest.mark.parametrize("name", LEAVES)
def test_masks_are_refused(name: str) -> None:
    with pytest.raises(dojo_lite.ConfigError, match="no mask"):
        SPACES[name]().sample(mask=np.ones(3, dtype=np.int8))


@pytest.mark.parametrize("action", [
    {"action": "request_info"},
    {"action": "request_info", "topic": "metric"},
    {"action": "validate_code", "code": "print(1)"},
    {"action": "execute_code", "code": ""},
    {"action": "get_history"},
    {"action": "reset"},
    '{"action": "execute_code", "code": "x = 1"}',
    b'{"action": "get_history"}',
])
def test_the_action_space_holds_what_the_env_takes(action: object) -> None:
    assert action in ActionSpace()


@pytest.mark.parametrize("action", [
    "not json",                                      # the env: "not valid JSON"
    [1, 2],                                          # "must be a dict"
    '["a list"]',
    {"action": "fly"},                               # "unknown action"
    {"code": "print(1)"},
    {"action": "execute_code"},                      # "needs a 'code' string"
    {"action": "validate_code", "code": 42},
    {"action": "request_info", "topic": "secrets"},  # "unknown topic"
    {"action": "invalid"},                           # a pseudo-action an agent cannot send
    None,
])
def test_the_action_space_refuses_what_the_env_answers_as_invalid(action: object) -> None:
    assert action not in ActionSpace()


def test_text_and_json_contain_only_their_values() -> None:
    text = UnicodeText(5)
    assert "héllo" in text and "" in text
    assert "toolong" not in text and b"bytes" not in text and 5 not in text
    data = JsonDict()
    assert {"a": [1, 2.5, None, True, {"b": "c"}]} in data and {} in data
    for bad in ([], "text", {1: "int key"}, {"a": {1, 2}}, {"a": object()}, {"a": (1, 2)}):
        assert bad not in data, bad
    deep: dict[str, Any] = {}
    for _ in range(100_000):
        deep = {"d": deep}
    assert deep not in data, "deeper than the recursion limit: refused, not a crash"


def test_the_observation_space_needs_every_key() -> None:
    space = ObservationSpace()
    obs = {"action": "request_info", "status": "ok", "feedback": "## overview", "data": {"overview": {}}}
    assert obs in space
    assert {k: v for k, v in obs.items() if k != "data"} not in space
    assert {**obs, "extra": 1} not in space
    assert {**obs, "data": "not a dict"} not in space


# ------------------------------------------------------------------ vector utilities


@pytest.mark.parametrize("name", list(SPACES))
def test_batch_concatenate_iterate_and_empty_arrays(name: str) -> None:
    space = SPACES[name]()
    space.seed(1)
    batched = batch_space(space, 3)
    empty = create_empty_array(space, 3)
    assert empty in batched, "an empty batch is a batch"
    items = [space.sample() for _ in range(3)]
    joined = concatenate(space, items, empty)
    assert joined in batched
    assert list(iterate(batched, joined)) == items
    sampled = batched.sample()
    assert sampled in batched and all(item in space for item in iterate(batched, sampled))


@pytest.mark.parametrize("name", LEAVES)
def test_a_leaf_batches_as_a_tuple_of_copies_with_their_own_seeds(name: str) -> None:
    space = SPACES[name]()
    batched = batch_space(space, 4)
    assert batched == gymnasium.spaces.Tuple([SPACES[name]() for _ in range(4)])
    assert batched == batch_space(space, 4) and batched != batch_space(space, 3)
    assert create_empty_array(space, 2) == (create_empty_array(space, 1)[0],) * 2
    batched.seed(0)
    batches = [batched.sample() for _ in range(20)]
    assert any(len({json.dumps(v) for v in batch}) > 1 for batch in batches), "the copies are seeded apart"


def test_a_batch_of_actions_is_a_tuple_of_actions_of_either_form() -> None:
    batched = batch_space(ActionSpace(), 2)
    batch = ('{"action": "get_history"}', {"action": "request_info", "topic": "data"})
    assert batch in batched and list(iterate(batched, batch)) == list(batch)
    assert ({"action": "fly"}, {"action": "get_history"}) not in batched


@pytest.mark.parametrize("name", LEAVES)
def test_differing_spaces_batch_and_compare(name: str) -> None:
    spaces = [SPACES[name]() for _ in range(2)]
    assert batch_differing_spaces(spaces) == batch_space(spaces[0], 2)
    assert is_space_dtype_shape_equiv(spaces[0], spaces[1])
    assert not is_space_dtype_shape_equiv(UnicodeText(3), UnicodeText(4))
    assert is_space_dtype_shape_equiv(ObservationSpace(), ObservationSpace())
    assert batch_differing_spaces([ObservationSpace(), ObservationSpace()]) == batch_space(ObservationSpace(), 2)


@pytest.mark.parametrize("context", ["fork", "spawn"])
def test_shared_memory_carries_any_size_between_processes(context: str) -> None:
    ctx = multiprocessing.get_context(context)
    space = ObservationSpace()
    shared = create_shared_memory(space, n=2, ctx=ctx)
    view = read_from_shared_memory(space, shared, n=2)
    assert copy.deepcopy(view) == create_empty_array(space, 2), "nothing written yet: empty values"
    big = {"action": "execute_code", "status": "ok", "feedback": "é" * 1_000_000,
           "data": {"rows": [{"i": i, "text": "x" * 50} for i in range(20_000)]}}  # far past a pipe's buffer
    small = space.sample()
    done = ctx.Event()
    writer = ctx.Process(target=post_and_wait, args=(shared, space, [small, big], done))
    writer.start()
    try:
        deadline = time.monotonic() + 60
        while view["status"][1] != "ok" and time.monotonic() < deadline:  # a worker writes before it answers
            time.sleep(0.05)
        batch = copy.deepcopy(view)
    finally:
        done.set()
        writer.join(30)
    assert writer.exitcode == 0
    assert batch == concatenate(space, [small, big], create_empty_array(space, 2))
    assert all(isinstance(v, tuple) for v in batch.values()), "a deep copy (copy=True) is plain tuples"
    assert list(iterate(batch_space(space, 2), batch)) == [small, big]


def test_shared_memory_keeps_the_last_value_and_reads_it_once() -> None:
    space = UnicodeText(10)
    shared = create_shared_memory(space, n=1, ctx=multiprocessing.get_context("fork"))
    view = read_from_shared_memory(space, shared, n=1)
    for text in ("one", "two", "three"):
        write_to_shared_memory(space, 0, text, shared)
    assert view[0] == "three" and tuple(view) == ("three",) and view == ("three",)
    assert view[-1:] == ("three",) and len(view) == 1
    with pytest.raises(IndexError):
        view[1]


# ------------------------------------------------------------------ real vector envs


def _alive(processes: Iterable[psutil.Process]) -> list[psutil.Process]:
    alive = []
    for proc in processes:
        try:
            if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                alive.append(proc)
        except psutil.NoSuchProcess:
            pass
    return alive


def _gone(processes: list[psutil.Process], grace: float = 5.0) -> list[psutil.Process]:
    """The processes still alive after ``grace`` seconds."""
    deadline = time.monotonic() + grace
    while (alive := _alive(processes)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return alive


def _pool_dirs(pid: int, *, staged_runtime: bool = False) -> list[Path]:
    """The pool dirs whose owner file names ``pid`` (with its staged runtime, if it made one)."""
    found = []
    for owner in pool_root().glob("*/owner"):
        try:
            owner_pid, name = owner.read_text().split()[:2]
        except (OSError, ValueError):
            continue
        if owner_pid == str(pid) and (staged_runtime or name != RUNTIME_STAGE):
            found.append(owner.parent)
    return found


def _run_episodes(envs: gymnasium.vector.VectorEnv) -> None:
    """Two-step episodes (max_steps=2) on two envs: sampled actions, a batch of text and dict
    actions, autoreset, and Gymnasium's vector utilities on what comes back."""
    envs.action_space.seed(0)
    obs, info = envs.reset(seed=0)
    assert obs in envs.observation_space and obs["status"] == ("ok", "ok")
    assert list(info["steps_left"]) == [2, 2]
    actions = envs.action_space.sample()
    assert all(action in envs.single_action_space for action in actions)
    obs, reward, terminated, truncated, info = envs.step(actions)
    assert obs in envs.observation_space and obs["status"] == ("ok", "ok"), obs["feedback"]
    assert obs["action"] == tuple(a["action"] for a in actions), "each env took its own action"
    assert list(truncated) == [False, False] and list(info["steps_left"]) == [1, 1]
    singles = list(iterate(envs.observation_space, obs))
    assert len(singles) == 2 and all(single in envs.single_observation_space for single in singles)
    assert concatenate(envs.single_observation_space, singles,
                       create_empty_array(envs.single_observation_space, 2)) == obs

    # the budget's last step: text and dict actions in one batch; the first env scores
    batch = (json.dumps({"action": "execute_code", "code": solution(0.0)}), {"action": "get_history"})
    obs, reward, terminated, truncated, info = envs.step(batch)
    assert obs["status"] == ("ok", "ok") and list(reward) == [1.0, 0.0], obs["feedback"]
    assert list(truncated) == [True, True] and not terminated.any()
    assert info["_episode"].all() and list(info["episode"]["l"]) == [2, 2]
    assert list(info["episode"]["r"]) == [1.0, 0.0]

    # autoreset (Gymnasium's next-step mode): the next step starts a fresh episode, action ignored
    obs, reward, terminated, truncated, info = envs.step(envs.action_space.sample())
    assert obs["action"] == ("request_info", "request_info")
    assert all(f.startswith("## overview\n# Toy") for f in obs["feedback"]), "reset's observation: the overview"
    assert list(reward) == [0.0, 0.0] and not truncated.any() and list(info["steps_left"]) == [2, 2]
    obs, reward, terminated, truncated, info = envs.step(envs.action_space.sample())
    assert obs["status"] == ("ok", "ok") and list(info["steps_left"]) == [1, 1], "the new episode counts anew"


@pytest.mark.slow
def test_a_sync_vector_env_steps_autoresets_and_leaves_nothing(toy_root: Path) -> None:
    dojo_lite.register_tasks([toy_root])
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    started = time.monotonic()
    envs = VectorRecordEpisodeStatistics(
        gymnasium.make_vec(TOY_ID, num_envs=2, vectorization_mode="sync", variant="micro", max_steps=2))
    try:
        assert isinstance(envs.unwrapped, gymnasium.vector.SyncVectorEnv)
        assert envs.single_observation_space == ObservationSpace()
        assert envs.single_action_space == ActionSpace()
        _run_episodes(envs)
        jails = [p for p in psutil.Process().children(recursive=True) if p.pid not in before]
        assert len([p for p in jails if p.name() == "nsjail"]) == 2, "control: one jail per env"
    finally:
        envs.close()
    assert _gone(jails) == []
    print(f"sync vector env: {time.monotonic() - started:.1f}s")


@pytest.mark.slow
@pytest.mark.parametrize("shared_memory", [True, False], ids=["shared_memory", "pipes"])
def test_an_async_vector_env_steps_autoresets_and_leaves_nothing(toy_root: Path, shared_memory: bool) -> None:
    dojo_lite.register_tasks([toy_root])
    started = time.monotonic()
    # shared_memory=True is Gymnasium's default: left out of vector_kwargs then
    vector_kwargs = {} if shared_memory else {"shared_memory": False}
    envs = VectorRecordEpisodeStatistics(gymnasium.make_vec(
        TOY_ID, num_envs=2, vectorization_mode="async", vector_kwargs=vector_kwargs, variant="micro", max_steps=2))
    async_env = envs.unwrapped
    assert isinstance(async_env, gymnasium.vector.AsyncVectorEnv) and async_env.shared_memory is shared_memory
    workers = [psutil.Process(p.pid) for p in async_env.processes]
    try:
        _run_episodes(envs)
        # each worker's own env started its own pool: a pool dir of its own and a jail below it
        assert all(len(_pool_dirs(w.pid)) == 1 for w in workers), [_pool_dirs(w.pid) for w in workers]
        below = {w.pid: w.children(recursive=True) for w in workers}
        assert all(any(p.name() == "nsjail" for p in procs) for procs in below.values()), below
    finally:
        envs.close()
    assert _gone(workers) == [] and _gone([p for procs in below.values() for p in procs]) == []
    # a forked worker ends with os._exit, without atexit: what it staged goes all the same
    assert [d for w in workers for d in _pool_dirs(w.pid, staged_runtime=True)] == []
    print(f"async vector env (shared_memory={shared_memory}): {time.monotonic() - started:.1f}s")


@pytest.mark.slow
def test_time_limit_and_episode_statistics_wrap_a_single_env(toy_root: Path) -> None:
    dojo_lite.register_tasks([toy_root])
    env = RecordEpisodeStatistics(TimeLimit(gymnasium.make(TOY_ID, variant="micro"), max_episode_steps=2))
    try:
        obs, _ = env.reset(seed=0)
        assert obs in env.observation_space
        action = env.action_space.sample()
        assert action in env.action_space
        _, reward, _, truncated, info = env.step({"action": "execute_code", "code": solution(0.0)})
        assert reward == 1.0 and not truncated and "episode" not in info
        _, reward, terminated, truncated, info = env.step(action)
        assert truncated and not terminated, "TimeLimit truncates before the env's own budget of 12"
        assert info["episode"]["r"] == 1.0 and info["episode"]["l"] == 2
        obs, info = env.reset()
        assert info["steps_left"] == 12 and obs["status"] == "ok"
    finally:
        env.close()
