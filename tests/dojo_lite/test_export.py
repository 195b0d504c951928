"""``dojo-lite export --format chat``: trajectories as chat conversations with tool calls.

Real episodes (real jails) on the toy task make the trajectories; the conversations are checked
message by message against them, and a chat agent's episode against a real HTTP server shows
that the model's own words and token use survive the trip.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import solution
from openai_server import OpenAIServer, serve, text, tool_call

import dojo_lite
from dojo_lite import ChatAgent, ChatClient, ChatConfig, ConfigError, DojoEnv, _cli
from dojo_lite._chat import ACTION_TOOLS, FIRST_TURN

ACTIONS: list[Any] = [
    {"action": "request_info", "topic": "submission"},
    {"action": "validate_code", "code": solution(0.0)},
    {"action": "fly", "to": "the moon"},  # not an action: the env answers invalid_action
    {"action": "execute_code", "code": solution(1.0)},
    {"action": "get_history"},
]


def _episode(toy_task: dojo_lite.Task, agent: Any, directory: Path) -> dojo_lite.EpisodeResult:
    async def main() -> dojo_lite.EpisodeResult:
        env = DojoEnv(toy_task, trajectory_dir=directory)
        try:
            return await dojo_lite.run_episode(env, agent, seed=0)
        finally:
            await env.aclose()
    return asyncio.run(main())


@pytest.fixture(scope="module")
def scripted(toy_task: dojo_lite.Task, tmp_path_factory: pytest.TempPathFactory) -> Path:
    result = _episode(toy_task, dojo_lite.ScriptedAgent(list(ACTIONS)), tmp_path_factory.mktemp("traj"))
    assert result.trajectory is not None and result.best_score == pytest.approx(1.0)
    return Path(result.trajectory)


@pytest.fixture
def server() -> Iterator[OpenAIServer]:
    with serve(OpenAIServer()) as running:
        yield running


@pytest.mark.slow
def test_each_step_is_a_tool_call_answered_by_its_observation(scripted: Path, toy_root: Path) -> None:
    example = dojo_lite.chat_example(scripted, task_path=[toy_root])
    messages, steps = example["messages"], dojo_lite.read_trajectory(scripted).steps
    assert example["tools"] == list(ACTION_TOOLS)
    assert messages[0]["role"] == "system" and "Predict y = x1 + x2" in messages[0]["content"]
    assert messages[1] == {"role": "user", "content": FIRST_TURN}
    pairs = [messages[i:i + 2] for i in range(2, len(messages), 2)]
    assert len(pairs) == len(steps) == len(ACTIONS)
    for (said, answer), step, action in zip(pairs, steps, ACTIONS, strict=True):
        obs = step["observation"]
        assert obs["feedback"] in answer["content"] and f"[{obs['status']}]" in answer["content"]
        if obs["status"] == "invalid_action":
            assert said == {"role": "assistant", "content": json.dumps(action)}
            assert answer["role"] == "user"
            continue
        (call,) = said["tool_calls"]
        assert call["type"] == "function" and call["function"]["name"] == action["action"]
        assert {"action": action["action"], **json.loads(call["function"]["arguments"])} == action
        assert answer == {"role": "tool", "tool_call_id": call["id"], "name": action["action"],
                          "content": answer["content"]}
    statuses = [s["observation"]["status"] for s in steps]
    assert statuses == ["ok", "ok", "invalid_action", "ok", "ok"]
    assert "score 1" in pairs[3][1]["content"], "the execution's score reaches the conversation"


@pytest.mark.slow
def test_the_cli_writes_one_line_per_trajectory_or_nothing(scripted: Path, toy_root: Path, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "chat.jsonl"
    argv = ["export", str(scripted), str(scripted), "-o", str(out), "--task-path", str(toy_root)]
    assert _cli.main(argv) == 0
    lines = out.read_text().splitlines()
    assert len(lines) == 2 and json.loads(lines[0]) == dojo_lite.chat_example(scripted, task_path=[toy_root])
    assert "2 conversations" in capsys.readouterr().err
    # to stdout, when no file is named
    assert _cli.main(["export", str(scripted), "--task-path", str(toy_root)]) == 0
    assert json.loads(capsys.readouterr().out) == json.loads(lines[0])
    # one bad file among good ones: exit 2 and nothing written
    junk = tmp_path / "junk.jsonl"
    junk.write_text('["not", "a", "trajectory"]\n')
    for bad in (junk, tmp_path / "missing.jsonl"):
        fresh = tmp_path / f"never-{bad.name}"
        assert _cli.main(["export", str(scripted), str(bad), "-o", str(fresh)]) == 2
        assert not fresh.exists()
        assert str(bad) in capsys.readouterr().err


def test_refusals_name_the_file(tmp_path: Path) -> None:
    header_only = tmp_path / "other.jsonl"
    header_only.write_text('{"type": "episode", "task": "tabular/no-such-task"}\n'
                           '{"type": "step", "action": {"action": "get_history"}}\n')
    with pytest.raises(ConfigError, match="without its observation"):
        dojo_lite.chat_example(header_only)
    no_header = tmp_path / "plain.jsonl"
    no_header.write_text('{"type": "step"}\n')
    with pytest.raises(ConfigError, match="no episode header"):
        dojo_lite.chat_example(no_header)


@pytest.mark.slow
def test_a_chat_agents_words_and_usage_are_kept_and_exported(server: OpenAIServer, toy_task: dojo_lite.Task,
                                                              toy_root: Path, tmp_path: Path) -> None:
    thought = "The target is the sum of x1 and x2; I will write it directly."
    call = tool_call("execute_code", {"code": solution(0.0)}, usage=(700, 60))
    call.body["choices"][0]["message"]["content"] = thought  # a reply that talks and calls
    server.script = [text("Let me look first."), tool_call("request_info", {"topic": "data"}, usage=(500, 10)), call]

    async def main() -> dojo_lite.EpisodeResult:
        async with ChatClient.connect(ChatConfig("scripted", base_url=server.url, backoff_s=0.01),
                                      api_key="sk-x") as client:
            env = DojoEnv(toy_task, trajectory_dir=tmp_path, max_steps=2)
            try:
                return await dojo_lite.run_episode(env, ChatAgent(client), seed=0)
            finally:
                await env.aclose()

    result = asyncio.run(main())
    assert result.trajectory is not None and result.best_score == pytest.approx(0.0)
    steps = dojo_lite.read_trajectory(result.trajectory).steps
    first, second = (step["agent"] for step in steps)
    assert first["message"] == "" and first["usage"]["corrections"] == 1 and first["usage"]["prompt_tokens"] == 600
    assert second == {"message": thought, "usage": {**second["usage"], "prompt_tokens": 700, "completion_tokens": 60}}
    messages = dojo_lite.chat_example(result.trajectory, task_path=[toy_root])["messages"]
    assert messages[4]["role"] == "assistant" and messages[4]["content"] == thought
    assert messages[4]["tool_calls"][0]["function"]["name"] == "execute_code"
