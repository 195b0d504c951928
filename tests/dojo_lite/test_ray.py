"""dojo_lite.ray on a real Ray cluster: several nodes on this machine (``ray.cluster_utils.Cluster``:
a raylet, an object store and worker processes per node), real node actors, real jails.

The head node has no CPUs (so no episode goes there); nodes ``a`` and ``b`` have one CPU each and a
custom resource of their own name, so a test can tell which node an episode was placed on.  The
node-loss test adds a node ``c`` and removes it mid-episode.  Slow: the cluster takes ~10 s to
start and every RayScheduler's node actors start their own warm pools (~10-20 s on 2 cores).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import cloudpickle
import pytest
from conftest import solution
from test_architecture import _named_types, _public_members

import dojo_lite

ray = pytest.importorskip("ray", reason="Ray is not installed: pip install 'dojo-lite[ray]'")
from ray.cluster_utils import Cluster  # noqa: E402

import dojo_lite.ray as dray  # noqa: E402
from dojo_lite._cli import main  # noqa: E402

pytestmark = pytest.mark.slow

STORE = 80 << 20  # each node's object store: small, this machine runs several
TASK = "tabular/toy-sum"


@attrs.frozen
class Nodes:
    cluster: Cluster
    ids: dict[str, str]  # "a", "b" -> Ray node id


@pytest.fixture(scope="module")
def nodes() -> Iterator[Nodes]:
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "object_store_memory": STORE})
    try:
        ids = {name: cluster.add_node(num_cpus=1, resources={f"node_{name}": 1}, object_store_memory=STORE).node_id
               for name in ("a", "b")}
        cluster.wait_for_nodes()
        ray.init(address=cluster.address, logging_level="WARNING")
        yield Nodes(cluster, ids)
    finally:
        ray.shutdown()
        cluster.shutdown()


def scheduler(root: Path, cache: Path, **kwargs: Any) -> dray.RayScheduler:
    return dray.RayScheduler(task_path=[root], cache=cache, memory="2G", **kwargs)


def execute(code: str) -> dict[str, str]:
    return {"action": "execute_code", "code": code}


def names(nodes: Nodes) -> dict[str, str]:
    """Ray node id -> "a" / "b" / ..."""
    return {node_id: name for name, node_id in nodes.ids.items()}


# ------------------------------------------------------------------ without a cluster


def test_every_type_in_a_public_signature_of_dojo_lite_ray_is_public() -> None:
    exported = {getattr(dray, name) for name in dray.__all__} | {getattr(dojo_lite, n) for n in dojo_lite.__all__}
    missing: set[str] = set()
    for name in dray.__all__:
        obj = getattr(dray, name)
        hints: list[object] = []
        for target in _public_members(obj) if inspect.isclass(obj) else []:
            hints += typing.get_type_hints(target, vars(inspect.getmodule(target))).values()
        if attrs.has(obj):
            hints += typing.get_type_hints(obj).values()
        for kind in set().union(*map(_named_types, hints)) if hints else set():
            if kind.__module__.split(".")[0] == "dojo_lite" and kind not in exported:
                missing.add(f"{kind.__module__}.{kind.__qualname__} (in {name})")
    assert sorted(missing) == []
    assert issubclass(dray.NodeLost, dojo_lite.EnvClosed) and issubclass(dray.NodeLost, dojo_lite.DojoError)


def test_a_node_that_cannot_hold_the_budgets_is_left_alone(caplog: pytest.LogCaptureFixture) -> None:
    sched = dray.RayScheduler(gpus=1)
    cpu_only = {"NodeID": "f" * 56, "Alive": True, "Resources": {"CPU": 4.0, "memory": 8e9}}
    with caplog.at_level("WARNING", logger="dojo_lite"):
        assert not sched._can_serve(cpu_only) and not sched._can_serve(cpu_only)
    assert [r.message for r in caplog.records].count(caplog.records[0].message) == 1, "said once"
    assert "has 0 GPUs" in caplog.records[0].message
    assert sched._can_serve({**cpu_only, "NodeID": "e" * 56, "Resources": {"CPU": 4.0, "GPU": 1.0, "memory": 8e9}})


def test_misuse_raises_dojo_errors() -> None:
    with pytest.raises(dojo_lite.ConfigError, match="does not take"):
        dray.RayScheduler(clock=lambda: 0.0)
    with pytest.raises(dojo_lite.ConfigError):
        dray.RayScheduler(cpus=0)
    with pytest.raises(dojo_lite.ConfigError):
        dray.RayScheduler(memory="lots")
    with pytest.raises(dojo_lite.UsageError, match="async with"):
        dray.RayScheduler().env("tabular/titanic-survival")


# ------------------------------------------------------------------ the step connection (no cluster)


async def _serving(handle: Any) -> tuple[Any, Any]:
    from dojo_lite.ray._channel import StepServer

    server = StepServer(handle)
    return server, await server.start("127.0.0.1")


def test_the_step_connection_answers_in_any_order_and_carries_errors_and_cancels() -> None:
    from dojo_lite.ray._channel import StepClient

    cancelled: list[str] = []

    async def handle(key: str, action: str) -> str:
        if action == "closed":
            raise dojo_lite.EnvClosed("this environment was closed")
        if action == "bug":
            raise RuntimeError("a bug on the node")
        try:
            await asyncio.sleep(float(action))
        except asyncio.CancelledError:
            cancelled.append(key)
            raise
        return f"{key} slept {action}"

    async def main() -> None:
        server, endpoint = await _serving(handle)
        client = await StepClient.connect(endpoint, 5.0)
        reader = asyncio.ensure_future(client.run())
        slow, fast = client.step("a", "0.3"), client.step("b", "0.01")
        assert await asyncio.gather(slow, fast) == ["a slept 0.3", "b slept 0.01"]
        with pytest.raises(dojo_lite.EnvClosed, match="was closed"):
            await client.step("c", "closed")
        with pytest.raises(dojo_lite.UsageError, match="a bug on the node"):
            await client.step("d", "bug")
        doomed = asyncio.ensure_future(client.step("e", "30"))
        await asyncio.sleep(0.1)
        doomed.cancel()
        await asyncio.gather(doomed, return_exceptions=True)
        for _ in range(500):
            if cancelled:
                break
            await asyncio.sleep(0.01)
        assert cancelled == ["e"], "cancelling the step here cancelled it on the node"
        assert await client.step("f", "0") == "f slept 0", "the connection goes on"
        pending = asyncio.ensure_future(client.step("g", "30"))
        await asyncio.sleep(0.1)
        await server.aclose()  # the node goes away mid-step
        with pytest.raises(ConnectionError, match="connection"):
            await asyncio.wait_for(pending, 5)
        await reader

    asyncio.run(main())


def test_the_step_connection_takes_only_the_token_holder(monkeypatch: pytest.MonkeyPatch) -> None:
    from dojo_lite.ray import _channel

    monkeypatch.setattr(_channel, "AUTH_TIMEOUT_S", 0.3)
    monkeypatch.setattr(_channel, "MAX_UNAUTHENTICATED", 3)
    calls: list[str] = []

    async def handle(key: str, action: str) -> str:
        calls.append(key)
        return "stepped"

    async def hung_up(reader: asyncio.StreamReader) -> bool:
        return await asyncio.wait_for(reader.read(), 5) == b""

    async def main() -> None:
        server, endpoint = await _serving(handle)
        request = _channel._frame(json.dumps({"id": 0, "key": "k", "action": "a"}).encode())
        for first in (_channel._frame(b"x" * 32), _channel._frame(endpoint.token[:-1] + b"?"),
                      struct.pack("!I", 1 << 30), request):  # wrong secrets, a huge frame, no secret at all
            reader, writer = await asyncio.open_connection(endpoint.host, endpoint.port)
            writer.write(first + request)
            assert await hung_up(reader)
            writer.close()
        reader, writer = await asyncio.open_connection(endpoint.host, endpoint.port)  # says nothing
        assert await hung_up(reader), "dropped after AUTH_TIMEOUT_S"
        writer.close()
        silent = [await asyncio.open_connection(endpoint.host, endpoint.port) for _ in range(3)]
        await asyncio.sleep(0.05)
        reader, writer = await asyncio.open_connection(endpoint.host, endpoint.port)
        started = time.monotonic()
        assert await hung_up(reader) and time.monotonic() - started < 0.25, "past the cap: closed at once"
        writer.close()
        for _, quiet in silent:
            quiet.close()
        await asyncio.sleep(0.1)
        assert calls == []
        reader, writer = await asyncio.open_connection(endpoint.host, endpoint.port)
        writer.write(_channel._frame(endpoint.token) + request)
        answer = json.loads(await _channel._read_frame(reader))
        assert answer == {"id": 0, "ok": "stepped"} and calls == ["k"]
        writer.close()
        assert "token" not in repr(endpoint) and endpoint.token.hex() not in repr(endpoint)
        await server.aclose()

    asyncio.run(main())


# ------------------------------------------------------------------ placement, pinning, stats


def test_episodes_go_to_the_least_loaded_node_and_stay_there(nodes: Nodes, toy_root: Path,
                                                             private_cache: Path) -> None:
    async def main() -> None:
        async with scheduler(toy_root, private_cache) as sched:
            assert {n.node_id for n in sched.nodes} == set(nodes.ids.values()), "the head has no CPUs: no actor"
            assert all(n.cpus == 1 and n.memory_bytes == 2 << 30 and n.pid != os.getpid() for n in sched.nodes)
            on = names(nodes)
            first, second = sched.env(TASK), sched.env(TASK)
            assert {on[first.node.node_id], on[second.node.node_id]} == {"a", "b"}, "one on each: equal budgets"
            third = sched.env(TASK)  # a tie: the first node in Ray's order
            assert third.node == sched.nodes[0]
            await third.aclose()
            await second.aclose()
            fourth = sched.env(TASK)  # second's node now holds nothing
            assert fourth.node == second.node

            # An episode's steps all run on its node: the second step reads what the first wrote in
            # the work dir, and every run is counted on that node's scheduler, none on the other.
            obs, info = await first.areset(seed=1)
            assert obs["status"] == "ok" and first.episode_id and first.workdir
            assert Path(first.workdir).is_dir()  # the same host here: the node's work dir is visible
            write = "open('mark.txt', 'w').write('from step one')\n" + solution(0.0)
            read = "assert open('mark.txt').read() == 'from step one'\n" + solution(1.0)
            obs, reward, terminated, truncated, info = await first.astep(execute(write))
            assert obs["status"] == "ok" and info["score"] == 0.0 and reward == 1.0 and not terminated and not truncated
            obs, *_, info = await first.astep(execute(read), note={"model": "none"})
            assert obs["status"] == "ok" and info["score"] == 1.0 and info["best_score"] == 0.0
            assert (Path(first.workdir) / "mark.txt").read_text() == "from step one"
            history = await first.ahistory()
            assert [(h["action"], h["status"], h["score"]) for h in history] == [("execute_code", "ok", 0.0),
                                                                                  ("execute_code", "ok", 1.0)]

            stats = await sched.astats()
            by_node = {on[n.node.node_id]: n for n in stats.nodes}
            mine, other = by_node[on[first.node.node_id]], by_node[on[fourth.node.node_id]]
            assert mine.scheduler is not None and other.scheduler is not None
            assert (mine.scheduler.runs, other.scheduler.runs) == (2, 0)
            assert (mine.episodes_open, other.episodes_open) == (1, 1)
            assert (mine.episodes_placed, other.episodes_placed) == (2, 2)
            assert stats.runs == 2 and stats.run_p50_s is not None and stats.wait_max_s is not None
            assert stats.pools_open == 1 and stats.episodes_lost == 0 and all(n.alive for n in stats.nodes)
            assert 0 < stats.utilisation["cpus"] <= 1
            json.dumps(stats.to_dict())  # JSON-able as a local scheduler's
            workdir = first.workdir
            for env in (first, fourth):
                await env.aclose()
            assert not Path(workdir).exists(), "closing the env removed its work dir on its node"
            with pytest.raises(dojo_lite.EnvClosed):
                await first.astep(execute(write))

    asyncio.run(main())


def test_steps_take_the_step_connection_or_else_ray(nodes: Nodes, toy_root: Path, private_cache: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from dojo_lite.ray._channel import ChannelBroken, StepClient

    async def main() -> None:
        async with scheduler(toy_root, private_cache, nodes=[nodes.ids["a"]]) as sched:
            (node,) = sched._nodes
            env = sched.env(TASK)
            await env.areset()
            obs, *_, info = await env.astep(execute(solution(0.0)))
            assert obs["status"] == "ok" and info["score"] == 0.0
            assert node.direct and node.channel is not None and node.channel.broken is None, "the step went direct"

            # the connection breaks mid-step, the node lives on: an error that says so, then a new connection
            running = asyncio.ensure_future(env.astep(execute("import time; time.sleep(30)")))
            await asyncio.sleep(1.5)
            node.channel.close()
            with pytest.raises(dojo_lite.UsageError, match="outcome is unknown"):
                await asyncio.wait_for(running, 20)
            obs, *_, info = await env.astep(execute(solution(1.0)))
            assert obs["status"] == "ok" and info["score"] == 1.0 and node.direct

            # no connection to be had (a firewall between the hosts): one slow try, then every step
            # (those that waited for that try too) goes through Ray
            others = [sched.env(TASK) for _ in range(2)]
            for other in others:
                await other.areset()
            tries: list[float] = []

            async def refused(endpoint: Any, timeout_s: float) -> StepClient:
                tries.append(time.monotonic())
                await asyncio.sleep(1.0)  # as a dropped connection times out
                raise ChannelBroken("connection timed out")

            monkeypatch.setattr(StepClient, "connect", refused)
            assert node.channel is not None
            node.channel.close()
            outcomes = await asyncio.gather(*(e.astep(execute(solution(0.0))) for e in (env, *others)))
            assert all(obs["status"] == "ok" and info["score"] == 0.0 for obs, *_, info in outcomes)
            assert len(tries) == 1 and not node.direct, "one try for all three steps"
            for other in others:
                await other.aclose()
            history = await env.ahistory()
            assert [h["score"] for h in history if h["score"] is not None] == [0.0, 1.0, 0.0]
            await env.aclose()

    asyncio.run(main())


def test_errors_cancelling_closing_and_the_sync_twins(nodes: Nodes, toy_root: Path, private_cache: Path) -> None:
    async def main() -> None:
        async with scheduler(toy_root, private_cache) as sched:
            with pytest.raises(dojo_lite.TaskNotFound):
                sched.env("tabular/no-such-task")
            env = sched.env(TASK, max_steps=0)
            with pytest.raises(dojo_lite.ConfigError, match="max_steps"):  # raised by the DojoEnv on the node
                await env.areset()
            await env.aclose()

            env = sched.env(TASK)
            with pytest.raises(dojo_lite.UsageError, match="areset"):
                env.reset()  # the sync twins refuse a running loop, as a DojoEnv's do
            await env.areset()
            obs, reward, *_ = await env.astep({"action": "dance"})  # an agent's mistake is an observation
            assert obs["status"] == "invalid_action" and reward == 0.0
            obs, *_ = await env.astep({"action": "execute_code", "code": solution(), "junk": {1, 2}})
            assert obs["status"] == "invalid_action", "what JSON cannot hold never crosses"

            # Cancelling a step cancels it on the node: its run is killed, and the env goes on.
            step = asyncio.ensure_future(env.astep(execute("import time; time.sleep(60)")))
            await asyncio.sleep(2)
            step.cancel()
            with pytest.raises(asyncio.CancelledError):
                await step
            obs, *_, info = await asyncio.wait_for(env.astep(execute(solution(0.0))), 30)
            assert obs["status"] == "ok" and info["score"] == 0.0
            assert [h["action"] for h in await env.ahistory()][-2:] == ["cancelled", "execute_code"]
            await env.aclose()

            def play(env: dray.RayEnv) -> tuple[Any, ...]:  # a sync caller, e.g. a Gymnasium loop in a thread
                assert threading.current_thread() is not threading.main_thread()
                env.reset(seed=0)
                step = env.step(execute(solution(0.0)))
                env.close()
                return step

            obs, reward, terminated, truncated, info = await asyncio.to_thread(play, sched.env(TASK))
            assert obs["status"] == "ok" and reward == 1.0 and not terminated and not truncated
            assert sched.stats().runs == 3  # the cancelled run, two more; sync stats: a round trip to each node

            # Closing the scheduler ends what runs: the caller gets EnvClosed, not a cancellation.
            sleeper = dojo_lite.ScriptedAgent([execute("import time; time.sleep(60)")])
            episode = asyncio.ensure_future(sched.run_episode(TASK, sleeper))
            await asyncio.sleep(2)
            await asyncio.wait_for(sched.aclose(), 30)
            with pytest.raises(dojo_lite.EnvClosed):
                await episode
            with pytest.raises(dojo_lite.EnvClosed):
                sched.env(TASK)

    asyncio.run(main())


def test_episodes_run_here_or_on_the_node(nodes: Nodes, toy_root: Path, private_cache: Path, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    agent = dojo_lite.ScriptedAgent([{"action": "request_info", "topic": "metric"}, execute(solution(0.5))])
    lock = threading.Lock()

    def unpicklable(obs: dict[str, Any], info: dict[str, Any]) -> None:
        with lock:
            return None

    # An agent whose class lives in a module only this process can import (pickled by reference).
    (tmp_path / "only_here.py").write_text("class Quiet:\n    def __call__(self, obs, info):\n        return None\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    elsewhere = __import__("only_here").Quiet()

    async def main() -> None:
        async with scheduler(toy_root, private_cache, trajectory_dir=tmp_path / "t") as sched:
            def jobs() -> list[tuple[str, dojo_lite.Agent]]:
                return [(TASK, attrs.evolve(agent)) for _ in range(4)]  # fresh agents: each plays its script once

            here = await sched.gather(jobs(), seed=3)
            there = await sched.gather(jobs(), seed=3, on_node=True)
            for result in (*here, *there):
                assert isinstance(result, dojo_lite.EpisodeResult)
                assert result.steps == 2 and result.best_score == 0.5
                assert (result.best_position_score, result.medal) == (here[0].best_position_score, here[0].medal)
                assert result.trajectory and Path(result.trajectory).is_file()  # on its node: this host here
                assert dojo_lite.read_trajectory(result.trajectory).actions == agent.actions  # as the agent gave them
            with pytest.raises(TypeError):
                cloudpickle.dumps(unpicklable)  # (the premise: it holds a lock)
            with pytest.raises(dojo_lite.ConfigError, match="cannot be shipped"):
                await sched.run_episode(TASK, unpicklable, on_node=True)
            with pytest.raises(dojo_lite.ConfigError, match=r"cannot be shipped.*No module named"):
                await sched.run_episode(TASK, elsewhere, on_node=True)  # pickles here, not importable there
            assert (await sched.run_episode(TASK, unpicklable)).steps == 0  # it runs here
            stats = await sched.astats()
            assert stats.episodes_done == 11 and stats.episodes_active == 0 and stats.runs == 8
            placed = {n.node.node_id: n.episodes_placed for n in stats.nodes}
            assert sum(placed.values()) == 11 and min(placed.values()) >= 4, placed  # gathers spread out

    asyncio.run(main())


# ------------------------------------------------------------------ node loss


def test_a_lost_node_fails_its_episodes_and_the_others_go_on(nodes: Nodes, toy_root: Path,
                                                             private_cache: Path) -> None:
    lost = nodes.cluster.add_node(num_cpus=1, resources={"node_c": 1}, object_store_memory=STORE)
    nodes.cluster.wait_for_nodes()

    async def main() -> None:
        async with scheduler(toy_root, private_cache) as sched:
            assert len(sched.nodes) == 3
            envs = [sched.env(TASK) for _ in range(3)]
            assert {e.node.node_id for e in envs} == {*nodes.ids.values(), lost.node_id}
            doomed = next(e for e in envs if e.node.node_id == lost.node_id)
            survivors = [e for e in envs if e is not doomed]
            await asyncio.gather(*(e.areset() for e in envs))
            running = asyncio.ensure_future(doomed.astep(execute("import time; time.sleep(60)")))
            await asyncio.sleep(2)  # the run is under way in a jail on node c
            nodes.cluster.remove_node(lost)
            with pytest.raises(dray.NodeLost, match="cannot move") as raised:
                await asyncio.wait_for(running, 30)
            assert isinstance(raised.value, dojo_lite.EnvClosed)
            with pytest.raises(dray.NodeLost):
                await doomed.astep({"action": "get_history"})
            for env in survivors:  # the others go on
                obs, *_, info = await env.astep(execute(solution(0.0)))
                assert obs["status"] == "ok" and info["score"] == 0.0
            again = sched.env(TASK)  # new episodes go to the nodes still alive
            assert again.node.node_id != lost.node_id
            stats = await sched.astats()
            gone = next(n for n in stats.nodes if n.node.node_id == lost.node_id)
            assert not gone.alive and gone.lost_reason and gone.episodes_lost == 1 and gone.episodes_open == 0
            assert stats.episodes_lost == 1 and sum(n.alive for n in stats.nodes) == 2
            assert sched.cpus == 2
            await doomed.aclose()  # quiet: nothing left there to close
            for env in (*survivors, again):
                await env.aclose()

    asyncio.run(main())


def test_a_node_that_joins_later_takes_new_episodes(nodes: Nodes, toy_root: Path, private_cache: Path) -> None:
    async def main() -> None:
        async with scheduler(toy_root, private_cache, watch_nodes_s=0.5) as sched:
            assert len(sched.nodes) == 2
            busy = [sched.env(TASK) for _ in range(2)]  # one open episode on each of a and b
            late = nodes.cluster.add_node(num_cpus=1, resources={"node_d": 1}, object_store_memory=STORE)
            try:
                for _ in range(240):  # the watch starts its actor (with its warm pool: ~10-20 s here)
                    if len(sched.nodes) == 3:
                        break
                    await asyncio.sleep(0.5)
                assert [n.node_id for n in sched.nodes][2:] == [late.node_id], "the watch took the new node"
                assert await sched.refresh_nodes() == (), "a node already taken is not started twice"
                assert sched.cpus == 3
                fresh = sched.env(TASK)
                assert fresh.node.node_id == late.node_id, "the least-loaded node is the new one"
                await fresh.areset()
                obs, *_, info = await fresh.astep(execute(solution(0.0)))
                assert obs["status"] == "ok" and info["score"] == 0.0
                stats = await sched.astats()
                assert [n.episodes_placed for n in stats.nodes] == [1, 1, 1] and stats.runs == 1
                for env in (*busy, fresh):
                    await env.aclose()
            finally:
                await sched.aclose()
                nodes.cluster.remove_node(late)

    asyncio.run(main())


def test_pinned_nodes_and_no_watch_leave_a_new_node_alone(nodes: Nodes, toy_root: Path,
                                                         private_cache: Path) -> None:
    async def main() -> None:
        async with scheduler(toy_root, private_cache, nodes=[nodes.ids["a"]]) as sched:
            late = nodes.cluster.add_node(num_cpus=1, resources={"node_e": 1}, object_store_memory=STORE)
            try:
                nodes.cluster.wait_for_nodes()
                assert await sched.refresh_nodes() == ()  # not among the nodes asked for
                assert [n.node_id for n in sched.nodes] == [nodes.ids["a"]]
            finally:
                await sched.aclose()
                nodes.cluster.remove_node(late)

    asyncio.run(main())


def test_a_wrong_address_is_refused_in_seconds(tmp_path: Path) -> None:
    """Nothing listens at the address: refused at once, where ray.init would retry for minutes.
    In a fresh process (this one is connected to the test cluster)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # free once closed: nothing listens there
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "dojo_lite", "run", "tabular/titanic-survival", "--episodes", "2",
                           "--ray", f"127.0.0.1:{port}"], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    took = time.monotonic() - started
    assert done.returncode != 0 and took < 60, (took, done.stderr)  # Ray's own retries: many minutes
    assert f"nothing answers at the Ray address 127.0.0.1:{port}" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    with pytest.raises(dojo_lite.ConfigError, match="HOST:PORT"):
        dray._router._check_reachable("no-port-here", 1.0)


# ------------------------------------------------------------------ the command line


def test_the_command_line_runs_a_batch_on_the_cluster(nodes: Nodes, toy_root: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    code = tmp_path / "solve.py"
    code.write_text(solution(0.0))
    status = main(["run", TASK, "--task-path", str(toy_root), "--agent", f"script:{code}", "--episodes", "2",
                   "--ray", nodes.cluster.address, "--trajectory-dir", str(tmp_path / "t"), "--json"])
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert status == 0 and line["episodes"] == 2 and line["best_score"] == 0.0
    assert len(line["scheduler"]["nodes"]) == 2 and line["scheduler"]["runs"] == 4  # validate + execute, each
    assert {n["episodes_placed"] for n in line["scheduler"]["nodes"]} == {1}


# ------------------------------------------------------------------ the Slurm sweep example


def test_the_slurm_sweep_example_runs_its_jobs(toy_root: Path, tmp_path: Path) -> None:
    pytest.importorskip("submitit", reason="submitit is not installed: pip install 'dojo-lite[slurm]'")
    code = tmp_path / "solve.py"
    code.write_text(solution(0.0))
    example = Path(__file__).resolve().parents[2] / "examples" / "slurm_sweep.py"
    done = subprocess.run([sys.executable, str(example), "--cluster", "local", "--tasks", TASK, "--task-path",
                           str(toy_root), "--agents", f"script:{code}", "--seeds", "0", "1", "--cpus", "1",
                           "--mem-gb", "2", "--folder", str(tmp_path / "logs")],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    summaries = json.loads(done.stdout.strip().splitlines()[-1])
    assert [(s["seed"], s["scored"], s["best_score"]) for s in summaries] == [(0, 1, 0.0), (1, 1, 0.0)]
