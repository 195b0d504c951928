"""The zygote's relay, on its own: one loop carries every run's messages, so nothing one run
does (an agent that does not read, a report pipe that stays open, a flood) may hold up another.

The relay runs here in a thread, as in its jail: real sockets, real pipes, and a real process
(a ``sleep``) for each agent, which the relay kills through its pidfd.
"""

from __future__ import annotations

import array
import contextlib
import json
import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator

import pytest

from sandbox._zygote import AGENT_MESSAGES_CAP, Command, Handoff, Report, _Relay


class Agent:
    """One run as the relay sees it: the controller's end of its channel, the agent's end of
    its socket and of its report pipe, and the process it stands for."""

    def __init__(self, zygote: socket.socket, key: int) -> None:
        self.key = key
        self.process = subprocess.Popen(["sleep", "60"])
        relay_controller, self.controller = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        relay_agent, self.agent = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        reports_r, self.reports = os.pipe()
        pidfd = os.pidfd_open(self.process.pid)
        handoff = json.dumps({"op": Handoff.CHILD, "pid": key, "host_pid": None}).encode()
        fds = [relay_controller.fileno(), relay_agent.fileno(), reports_r, pidfd]
        zygote.sendmsg([handoff], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))])
        relay_controller.close()
        relay_agent.close()
        os.close(reports_r)
        os.close(pidfd)
        for sock in (self.controller, self.agent):
            sock.settimeout(2.0)

    def wait(self) -> None:
        """What a real agent sends first, on its socket, before it reports on its pipe."""
        self.agent.send(json.dumps({"op": Report.WAITING}).encode())

    def report(self, message: dict[str, object]) -> None:
        os.write(self.reports, json.dumps(message).encode() + b"\n")

    def next_for_controller(self) -> dict[str, object]:
        return dict(json.loads(self.controller.recv(1 << 20)))

    def close(self) -> None:
        self.process.kill()
        self.process.wait()
        self.controller.close()
        self.agent.close()
        os.close(self.reports)


@pytest.fixture
def relay() -> Iterator[socket.socket]:
    """The zygote's end of a relay serving in a thread."""
    zygote, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    thread = threading.Thread(target=_Relay(theirs).serve, daemon=True)
    thread.start()
    yield zygote
    zygote.close()  # the relay's loop ends when the zygote is gone
    thread.join(5)
    assert not thread.is_alive()
    theirs.close()


def _reaped(zygote: socket.socket, agent: Agent) -> None:
    zygote.send(json.dumps({"op": Handoff.REAPED, "pid": agent.key, "status": 0, "cpu_s": 0.5,
                            "maxrss_kb": 1000}).encode())


def _wait_till_stuck(sent: list[int]) -> None:
    """Until the sender has made no progress for 0.3 s: every buffer on its way is full."""
    last, since = -1, time.monotonic()
    while time.monotonic() - since < 0.3:
        if sent[0] != last:
            last, since = sent[0], time.monotonic()
        time.sleep(0.01)


def _go_passes(agent: Agent) -> None:
    """The relay still carries this run's messages: a ``go`` from its controller reaches it."""
    agent.controller.send(json.dumps({"op": Command.GO}).encode())
    assert json.loads(agent.agent.recv(1 << 16)) == {"op": Command.GO}


def test_an_agent_that_does_not_read_holds_up_no_other_run(relay: socket.socket) -> None:
    stalled, other = Agent(relay, 2), Agent(relay, 3)
    chunks = [bytes([i]) * (64 << 10) for i in range(40)]  # 2.5 MiB: far more than a socket buffers
    sent = [0]

    def send_all() -> None:
        stalled.controller.settimeout(None)
        for chunk in chunks:
            stalled.controller.sendall(chunk)
            sent[0] += 1

    sender = threading.Thread(target=send_all)
    sender.start()
    try:
        _wait_till_stuck(sent)
        assert sent[0] < len(chunks), "the buffers took it all: nothing was held back"
        _go_passes(other)
        # and the stalled run loses nothing: every chunk arrives, in order, once it reads
        assert [stalled.agent.recv(1 << 17) for _ in chunks] == chunks
        sender.join(5)
    finally:
        stalled.close()
        other.close()


def test_a_report_pipe_left_open_does_not_delay_the_status_or_other_runs(relay: socket.socket) -> None:
    # A daemon the agent started may hold its report pipe while the run's namespace dies: the relay
    # sends the status at once, and goes on serving the others (no busy wait on the empty pipe).
    lingering, other = Agent(relay, 2), Agent(relay, 3)
    try:
        lingering.wait()
        lingering.report({"op": Report.RUNNING})
        _reaped(relay, lingering)
        assert lingering.next_for_controller() == {"op": Report.WAITING}
        assert lingering.next_for_controller() == {"op": Report.RUNNING}
        status = lingering.next_for_controller()
        assert status["op"] == Report.STATUS and status["status"] == 0 and status["flooded"] is False
        assert lingering.controller.recv(16) == b"", "the relay is done with that run: it hangs up"
        _go_passes(other)
    finally:
        lingering.close()
        other.close()


@pytest.mark.parametrize("flood", ["many", "long"])
def test_a_flood_on_the_report_pipe_kills_the_agent_and_is_reported(relay: socket.socket, flood: str) -> None:
    agent, other = Agent(relay, 2), Agent(relay, 3)
    try:
        agent.wait()
        if flood == "many":
            for _ in range(AGENT_MESSAGES_CAP + 1):
                agent.report({"op": Report.RUNNING})
        else:  # one line with no end, longer than a report may be
            os.set_blocking(agent.reports, False)
            deadline = time.monotonic() + 5
            while agent.process.poll() is None and time.monotonic() < deadline:
                with contextlib.suppress(BlockingIOError):
                    os.write(agent.reports, b"x" * (16 << 10))
                time.sleep(0.001)
        assert agent.process.wait(5) == -9, "the relay killed the flooding agent"
        _reaped(relay, agent)
        messages = []
        while (data := agent.controller.recv(1 << 20)) != b"":
            messages.append(json.loads(data))
        assert len(messages) <= AGENT_MESSAGES_CAP + 1
        assert messages[-1]["op"] == Report.STATUS and messages[-1]["flooded"] is True
        _go_passes(other)
    finally:
        agent.close()
        other.close()


def test_reports_on_the_pipe_come_after_the_waiting_on_the_socket(relay: socket.socket) -> None:
    # The two arrive on two files: whichever the relay sees first, the controller gets them in the
    # order the agent sent them, even when the zygote says the agent was reaped before either is read.
    agent = Agent(relay, 2)
    try:
        # the pipe's reports are there first, as when the relay happens to look at the pipe first
        agent.report({"op": Report.STARTED})
        agent.report({"op": Report.EXIT, "code": 0})
        time.sleep(0.2)
        agent.wait()
        _reaped(relay, agent)
        ops = [agent.next_for_controller()["op"] for _ in range(4)]
        assert ops == [Report.WAITING, Report.STARTED, Report.EXIT, Report.STATUS]
    finally:
        agent.close()
