"""The chat agent against a real OpenAI-compatible HTTP server on 127.0.0.1 (``tests/openai_server.py``):
tool calls and JSON blocks, corrections of malformed replies, retries with backoff, the history
budget, token use, the concurrency cap under a scheduler, the secrecy of the API key, and the CLI.

The tests that call the agent directly feed it observations of the env's shape; the ones marked
slow drive real episodes (real jails) on built-in tasks.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openai_server import NO_TOOLS, OpenAIServer, Reply, error, json_block, serve, text, tool_call

import dojo_lite
from dojo_lite import ChatAgent, ChatClient, ChatConfig, ConfigError, DojoEnv, _cli
from dojo_lite._chat import clip_history, estimate_tokens

ROOT = Path(__file__).resolve().parents[2]
TITANIC = "tabular/titanic-survival"
KEY = "sk-test-0123456789abcdef"
RESET_OBS = {"action": "request_info", "status": "ok", "feedback": "## overview\nPredict y from x.", "data": {}}
RESET_INFO = {"task": "tabular/toy-sum", "step": 0, "steps_left": 12, "seconds_left": 600}


@pytest.fixture
def server() -> Iterator[OpenAIServer]:
    with serve(OpenAIServer()) as running:
        yield running


def _client(server: OpenAIServer, **config: Any) -> ChatClient:
    fast = {"backoff_s": 0.01, "request_timeout": 5.0, **config}
    return ChatClient.connect(ChatConfig("scripted", base_url=server.url, **fast), api_key=KEY)


def _steps(server: OpenAIServer, replies: int, **config: Any) -> tuple[ChatAgent, list[Any]]:
    """An agent on ``server`` that chooses ``replies`` actions, each after a fresh observation."""
    async def main() -> tuple[ChatAgent, list[Any]]:
        async with _client(server, **config) as client:
            agent, actions = ChatAgent(client), []
            for step in range(replies):
                obs = RESET_OBS if step == 0 else {**RESET_OBS, "feedback": f"result {step}"}
                actions.append(await agent(obs, {**RESET_INFO, "step": step}))
            return agent, actions
    return asyncio.run(main())


def _calls_answered(messages: list[dict[str, Any]]) -> bool:
    """Every tool call has its tool reply and every tool reply its call."""
    calls = {c["id"] for m in messages for c in m.get("tool_calls") or ()}
    replies = {m["tool_call_id"] for m in messages if m["role"] == "tool"}
    return calls == replies


# --- the two modes -------------------------------------------------------------------------------


def test_tool_mode_offers_the_five_actions_and_the_task(server: OpenAIServer) -> None:
    server.script = [tool_call("request_info", {"topic": "data"}), tool_call("get_history", {})]
    agent, actions = _steps(server, 2)
    assert actions == [{"action": "request_info", "topic": "data"}, {"action": "get_history"}]
    first, second = server.requests
    assert first.headers["authorization"] == f"Bearer {KEY}" and first.body["model"] == "scripted"
    tools = {t["function"]["name"]: t["function"]["parameters"] for t in first.body["tools"]}
    assert set(tools) == {"request_info", "validate_code", "execute_code", "get_history", "reset"}
    assert tools["execute_code"]["required"] == ["code"]
    assert "all" in tools["request_info"]["properties"]["topic"]["enum"]
    system = first.messages[0]
    assert system["role"] == "system" and "Predict y from x." in system["content"]
    assert all(name in system["content"] for name in tools) and "```json" in system["content"]
    # the observation answers the call it followed, as its tool reply
    call = second.messages[2]["tool_calls"][0]
    assert second.messages[3] == {"role": "tool", "tool_call_id": call["id"], "content": second.messages[3]["content"]}
    assert "result 1" in second.messages[3]["content"] and agent.client.tools_supported is True


def test_a_server_without_tools_gets_json_blocks_from_then_on(server: OpenAIServer) -> None:
    server.reject_tools = True
    server.script = [json_block({"action": "validate_code", "code": "print(1)"}), json_block({"action": "reset"})]
    agent, actions = _steps(server, 2)
    assert actions == [{"action": "validate_code", "code": "print(1)"}, {"action": "reset"}]
    assert ["tools" in r.body for r in server.requests] == [True, False, False], "tools refused once, then never sent"
    assert agent.client.tools_supported is False
    assert server.requests[2].messages[-1]["role"] == "user", "without a tool call the observation is the user's"
    assert agent.records[0].requests == 2 and agent.records[0].retries == 0


def test_a_text_answer_in_tool_mode_may_hold_the_action(server: OpenAIServer) -> None:
    server.script = [json_block({"action": "request_info", "topic": "metric"})]
    _, actions = _steps(server, 1)
    assert actions == [{"action": "request_info", "topic": "metric"}]


# --- malformed replies ---------------------------------------------------------------------------


def test_malformed_replies_are_corrected_and_retried(server: OpenAIServer) -> None:
    server.script = [text("I think I will train a model."), tool_call("validate_code", '{"code": "print(1'),
                     tool_call("fly", {}), tool_call("execute_code", {}), tool_call("execute_code", {"code": "x=1"})]
    agent, actions = _steps(server, 1, max_retries=4)
    assert actions == [{"action": "execute_code", "code": "x=1"}]
    corrections = [r.messages[-1] for r in server.requests[1:]]
    assert corrections[0]["role"] == "user" and "takes no action" in corrections[0]["content"]
    for reply, fragment in zip(corrections[1:], ["not valid JSON", "unknown action 'fly'", "needs a 'code' string"],
                               strict=True):
        assert reply["role"] == "tool" and fragment in reply["content"], reply
    assert all(_calls_answered(r.messages) for r in server.requests)
    assert agent.records[0].corrections == 4 and agent.records[0].requests == 5 and agent.stop_reason is None


def test_too_many_malformed_replies_end_the_episode(server: OpenAIServer, caplog: pytest.LogCaptureFixture) -> None:
    server.script = [text("no"), text("```json\n{not json}\n```"), tool_call("dance", {}), text("never asked for")]
    with caplog.at_level(logging.WARNING, logger="dojo_lite"):
        agent, actions = _steps(server, 2, max_retries=2)
    assert actions == [None, None] and len(server.requests) == 3, "three tries, then no request at all"
    assert agent.stop_reason is not None and "3 malformed replies" in agent.stop_reason
    assert "unknown action 'dance'" in agent.stop_reason and agent.stop_reason in caplog.text
    assert agent.records[-1].action is None and agent.usage.corrections == 3


# --- transient failures --------------------------------------------------------------------------


def test_a_429_waits_as_long_as_retry_after_says(server: OpenAIServer) -> None:
    server.script = [error(429, "slow down", retry_after=0.4), tool_call("get_history", {})]
    started = time.monotonic()
    agent, actions = _steps(server, 1, backoff_s=0.01)
    assert actions == [{"action": "get_history"}]
    assert time.monotonic() - started >= 0.4, "Retry-After is honoured over the 10 ms backoff"
    assert (agent.records[0].requests, agent.records[0].retries) == (2, 1)


def test_5xx_is_retried_with_exponential_backoff(server: OpenAIServer) -> None:
    server.script = [error(500, "boom"), error(503, "busy"), error(502, "bad gateway"), tool_call("reset", {})]
    started = time.monotonic()
    agent, actions = _steps(server, 1, backoff_s=0.1)
    elapsed = time.monotonic() - started
    assert actions == [{"action": "reset"}] and agent.records[0].retries == 3
    # waits of 0.1, 0.2, 0.4 s, each jittered down to half at most: at least 0.35 s in all
    assert 0.35 <= elapsed < 5, elapsed


def test_a_slow_answer_times_out_and_is_retried(server: OpenAIServer) -> None:
    slow = tool_call("execute_code", {"code": "late = True"}, delay=3.0)
    server.script = [slow, tool_call("execute_code", {"code": "on_time = True"})]
    started = time.monotonic()
    agent, actions = _steps(server, 1, request_timeout=0.3)
    assert actions == [{"action": "execute_code", "code": "on_time = True"}]
    assert time.monotonic() - started < 2.5, "the slow answer was not waited for"
    assert (agent.records[0].requests, agent.records[0].retries) == (2, 1)


def test_retries_are_bounded_then_the_episode_ends(server: OpenAIServer) -> None:
    server.script = [error(500, "down")] * 5
    agent, actions = _steps(server, 1, max_attempts=3)
    assert actions == [None] and len(server.requests) == 3
    assert agent.stop_reason is not None and "500" in agent.stop_reason


def test_an_error_that_will_not_pass_is_not_retried(server: OpenAIServer) -> None:
    server.script = [error(401, "invalid api key"), tool_call("reset", {})]
    agent, actions = _steps(server, 1)
    assert actions == [None] and len(server.requests) == 1
    assert agent.stop_reason is not None and "401" in agent.stop_reason


# --- history budget and token use ----------------------------------------------------------------


def _conversation(turns: int, reply_chars: int) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = [{"role": "system", "content": "s" * 400}, {"role": "user", "content": "go"}]
    for i in range(turns):
        call = {"id": f"c{i}", "type": "function", "function": {"name": "validate_code",
                                                               "arguments": json.dumps({"code": "x" * 200})}}
        messages += [{"role": "assistant", "content": "", "tool_calls": [call]},
                     {"role": "tool", "tool_call_id": f"c{i}", "content": f"{i} " + "o" * reply_chars}]
        if i % 3 == 0:  # a correction after the tool reply belongs to the same turn
            messages.append({"role": "user", "content": "Invalid action: try again."})
    return messages


@pytest.mark.parametrize("budget", [300, 800, 2000, 5000])
def test_clipping_keeps_the_budget_the_head_and_whole_turns(budget: int) -> None:
    messages = _conversation(turns=30, reply_chars=600)
    clipped = clip_history(messages, budget)
    assert clipped[:2] == messages[:2] and clipped[-2:] == messages[-2:], "the head and the latest turn stay"
    assert _calls_answered(clipped)
    body = clipped[3:]
    assert body == messages[len(messages) - len(body):], "what is kept is the latest part, in order"
    latest = sum(map(estimate_tokens, messages[-2:])) + sum(map(estimate_tokens, messages[:2]))
    assert sum(map(estimate_tokens, clipped)) <= max(budget, latest + 40)
    assert "earlier turns are left out" in clipped[2]["content"]


def test_a_history_within_budget_is_sent_whole() -> None:
    messages = _conversation(turns=3, reply_chars=10)
    assert clip_history(messages, 10_000) == messages


def test_the_server_gets_the_history_clipped(server: OpenAIServer) -> None:
    server.script = [tool_call("get_history", {}) for _ in range(12)]
    agent, _ = _steps(server, 12, context_tokens=400)
    last = server.requests[-1].messages
    assert len(agent.messages) > len(last) and _calls_answered(last)
    assert sum(map(estimate_tokens, last)) <= 400 + 64


def test_token_use_is_recorded_per_step_and_in_total(server: OpenAIServer) -> None:
    server.script = [error(500, "once"), tool_call("get_history", {}, usage=(1000, 50)),
                     text("nothing", usage=(1100, 5)), tool_call("reset", {}, usage=(1200, 40))]
    agent, _ = _steps(server, 2)
    first, second = agent.records
    assert (first.step, first.action, first.prompt_tokens, first.completion_tokens, first.total_tokens) == (
        1, "get_history", 1000, 50, 1050)
    assert (second.prompt_tokens, second.completion_tokens, second.corrections) == (2300, 45, 1)
    assert agent.usage.to_dict() == {"steps": 2, "requests": 4, "retries": 1, "corrections": 1,
                                     "prompt_tokens": 3300, "completion_tokens": 95, "total_tokens": 3395}


# --- configuration -------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [{"max_concurrency": 0}, {"request_timeout": math.nan}, {"max_attempts": 0},
                                 {"max_retries": -1}, {"context_tokens": 0}, {"backoff_s": -1.0}])
def test_bad_settings_are_config_errors(bad: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        ChatConfig("m", **bad)


def test_a_remote_server_needs_a_key_and_a_local_one_does_not(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_SUCH_KEY_VAR", raising=False)
    with pytest.raises(ConfigError, match=r"\$NO_SUCH_KEY_VAR"):
        ChatClient.connect(ChatConfig("m", base_url="https://api.example.com/v1"), api_key_env="NO_SUCH_KEY_VAR")
    with pytest.raises(ConfigError, match="no API key"):
        dojo_lite.open_chat("openai:m", base_url="https://api.example.com/v1", api_key_env="NO_SUCH_KEY_VAR")
    local = ChatClient.connect(ChatConfig("m", base_url="http://localhost:8000/v1"), api_key_env="NO_SUCH_KEY_VAR")
    assert local.config.base_url == "http://localhost:8000/v1" and KEY not in repr(local)
    asyncio.run(local.aclose())


def test_the_base_url_defaults_to_openai_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    client = ChatClient.connect(ChatConfig("m"), api_key_env="NO_SUCH_KEY_VAR")
    assert client.config.base_url == "http://127.0.0.1:9/v1"
    asyncio.run(client.aclose())


def test_importing_dojo_lite_does_not_import_openai() -> None:
    code = "import sys, dojo_lite; assert 'openai' not in sys.modules, 'openai imported'"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_the_cli_refuses_a_remote_server_without_a_key(capsys: pytest.CaptureFixture[str],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_SUCH_KEY_VAR", raising=False)
    argv = ["run", TITANIC, "--agent", "openai:gpt-x", "--base-url", "https://api.example.com/v1",
            "--api-key-env", "NO_SUCH_KEY_VAR"]
    assert _cli.main(argv) == 2
    assert "$NO_SUCH_KEY_VAR" in capsys.readouterr().err


# --- real episodes (real jails) ------------------------------------------------------------------


def _simple() -> str:
    return dojo_lite.find_task(TITANIC).solution("simple")


async def _episode(env: DojoEnv, agent: ChatAgent) -> dojo_lite.EpisodeResult:
    try:
        return await dojo_lite.run_episode(env, agent, seed=0)
    finally:
        await env.aclose()
        await agent.client.aclose()


@pytest.mark.slow
def test_an_episode_through_the_server_to_a_scored_submission(server: OpenAIServer, tmp_path: Path) -> None:
    code = _simple()
    server.script = [tool_call("request_info", {"topic": "submission"}), tool_call("validate_code", {"code": code}),
                     tool_call("execute_code", {"code": code})]

    async def main() -> tuple[dojo_lite.EpisodeResult, ChatAgent]:
        agent = ChatAgent(_client(server, request_timeout=60.0))
        env = DojoEnv(TITANIC, trajectory_dir=tmp_path, max_steps=3)
        return await _episode(env, agent), agent

    result, agent = asyncio.run(main())
    assert [(h["action"], h["status"]) for h in result.history] == [
        ("request_info", "ok"), ("validate_code", "ok"), ("execute_code", "ok")], result.history
    assert result.truncated and result.best_score is not None and result.best_score > 0.7
    last = server.requests[-1].messages
    assert last[-1]["role"] == "tool" and "[ok]" in last[-1]["content"] and _calls_answered(last)
    assert "Titanic" in last[0]["content"], "the system prompt holds the task's overview"
    assert agent.usage.steps == 3 and agent.usage.prompt_tokens == 300


def _hunt() -> str:
    """Agent code that looks for the key everywhere it can read, and says how much it looked at."""
    return '''
import os
prefix = "sk-" + "test-"
found, files, environs = [], 0, 0
found += [k for k, v in os.environ.items() if prefix in v]
for pid in os.listdir("/proc"):
    if pid.isdigit():
        for name in ("environ", "cmdline"):
            try:
                blob = open(f"/proc/{pid}/{name}", "rb").read().decode("utf-8", "replace")
            except OSError:
                continue
            environs += 1
            if prefix in blob:
                found.append(f"/proc/{pid}/{name}")
for top in ("/", ):
    for root, dirs, names in os.walk(top):
        dirs[:] = [d for d in dirs if os.path.join(root, d) not in ("/proc", "/sys", "/dev")]
        for name in names:
            path = os.path.join(root, name)
            try:
                if os.path.getsize(path) > 2_000_000:
                    continue
                files += 1
                if prefix.encode() in open(path, "rb").read():
                    found.append(path)
            except OSError:
                pass
print("HUNT", files, environs, "FOUND:" + "|".join(found).replace(prefix, "<prefix>"))
'''


@pytest.mark.slow
def test_the_api_key_never_reaches_agent_code(server: OpenAIServer, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch,
                                              caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)  # where a leaky jail would pass it on
    server.reject_tools = True  # this episode in the JSON-block mode
    # execute_code: the task's full time limit (the walk reads every small file of the runtime)
    server.script = [json_block({"action": "execute_code", "code": _hunt()})]

    async def main() -> tuple[dojo_lite.EpisodeResult, ChatAgent]:
        chat = dojo_lite.open_chat("openai:scripted", base_url=server.url)
        assert chat is not None
        agent = dojo_lite.make_agent("openai:scripted", dojo_lite.find_task(TITANIC), chat=chat)
        assert isinstance(agent, ChatAgent)
        return await _episode(DojoEnv(TITANIC, trajectory_dir=tmp_path, max_steps=1), agent), agent

    with caplog.at_level(logging.DEBUG):
        result, agent = asyncio.run(main())
    assert server.requests[-1].headers["authorization"] == f"Bearer {KEY}", "the key was in use"
    assert result.trajectory is not None
    step = dojo_lite.read_trajectory(result.trajectory).steps[0]
    feedback = step["observation"]["feedback"]
    assert step["observation"]["status"] == "submission_error", feedback  # it ran to the end, wrote no csv
    hunt = next(line.removeprefix("| ") for line in feedback.splitlines() if line.startswith("| HUNT"))
    _, files, environs, found = hunt.split(" ", 3)
    assert int(files) > 100 and int(environs) > 0, f"the search looked at too little to count: {hunt}"
    assert found == "FOUND:", f"agent code found the key: {hunt}"
    written = "".join(p.read_text() for p in tmp_path.rglob("*") if p.is_file())
    assert KEY not in written and KEY not in caplog.text and KEY not in repr(agent)


@pytest.mark.slow
def test_episodes_under_a_scheduler_share_one_client_and_its_cap(server: OpenAIServer, toy_root: Path) -> None:
    server.responder = lambda body: tool_call("get_history", {}, delay=0.3)

    async def main() -> list[dojo_lite.EpisodeResult]:
        async with _client(server, max_concurrency=2) as chat, dojo_lite.Scheduler(
                cpus=2, memory="3G", task_path=[toy_root], spares=0) as sched:
            jobs = [sched.run_episode("tabular/toy-sum", ChatAgent(chat), max_steps=3) for _ in range(4)]
            return list(await asyncio.gather(*jobs))

    results = asyncio.run(main())
    assert [r.steps for r in results] == [3] * 4 and len(server.requests) == 12
    assert server.max_in_flight == 2, "four episodes waited on the model at once; two requests ran"


@pytest.mark.slow
def test_the_cli_runs_an_openai_agent_end_to_end(server: OpenAIServer, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DOJO_TEST_KEY", KEY)
    code = _simple()
    server.script = [tool_call("validate_code", {"code": code}), tool_call("execute_code", {"code": code})]
    argv = ["run", TITANIC, "--agent", "openai:scripted", "--base-url", server.url, "--api-key-env", "DOJO_TEST_KEY",
            "--max-steps", "2", "--json", "--trajectory-dir", str(tmp_path)]
    assert _cli.main(argv) == 0
    out, err = capsys.readouterr()
    line = json.loads(out.strip().splitlines()[-1])
    assert line["steps"] == 2 and line["best_score"] > 0.7 and line["truncated"] is True
    assert "chat: steps 2, requests 2" in err
    assert {r.headers["authorization"] for r in server.requests} == {f"Bearer {KEY}"}
    written = "".join(p.read_text() for p in tmp_path.rglob("*") if p.is_file())
    assert KEY not in out + err + written


def test_replies_are_scripted_in_order(server: OpenAIServer) -> None:
    # the server itself: a 400 for tools only when asked, routes, and an empty script's 500
    server.script = [Reply(200, text("hi").body)]
    assert server.answer("/v1/chat/completions", {}, {"messages": []}).status == 200
    assert server.answer("/v1/chat/completions", {}, {}).status == 500
    assert server.answer("/v1/models", {}, {}).status == 404
    server.reject_tools = True
    assert server.answer("/v1/chat/completions", {}, {"tools": []}) is NO_TOOLS
