"""The live progress display of ``dojo-lite run`` and its closing summary table."""

from __future__ import annotations

import asyncio
import inspect
import time
from typing import Any, TextIO

import attrs

from ._agents import Agent, EpisodeResult, agent_note
from ._nursery import Nursery
from ._scheduler import Scheduler

__all__ = ["BatchProgress", "Progress", "batch_table", "summary_table"]


@attrs.frozen
class _Watched:
    """An agent whose every action is reported to a :class:`Progress` as it starts."""

    agent: Agent
    progress: Progress

    async def __call__(self, obs: dict[str, Any], info: dict[str, Any]) -> Any:
        action = self.agent(obs, info)
        if inspect.isawaitable(action):
            action = await action
        if isinstance(action, dict):
            self.progress._begin(str(action.get("action")))
        return action

    def step_note(self) -> dict[str, Any] | None:
        return agent_note(self.agent)


def _fmt(value: Any, digits: int = 4) -> str:
    if value is None:
        return "-"
    return f"{value:.{digits}g}" if isinstance(value, float) else str(value)


class Progress:
    """One line per step; on a terminal, a ticking line while a step runs.  Use as
    ``async with Progress(...) as progress``: the ticker belongs to it and ends with it."""

    def __init__(self, stream: TextIO, task: str, agent: str) -> None:
        self.stream = stream
        self.live = stream.isatty()
        self.step = 0
        self.started = time.monotonic()
        self.current = ""
        self._nursery = Nursery("the progress display")
        self._ticker: asyncio.Task[None] | None = None
        print(f"task {task}, agent {agent}", file=stream, flush=True)

    async def __aenter__(self) -> Progress:
        await self._nursery.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.stop()
        await self._nursery.aclose()

    def watch(self, agent: Agent) -> Agent:
        """``agent``, reporting each action it chooses as it starts (its notes pass through)."""
        return _Watched(agent, self)

    def _begin(self, action: str) -> None:
        self.step += 1
        self.current, self.started = action, time.monotonic()
        if self.live and not self._nursery.closed:
            self._ticker = self._nursery.start_soon(self._tick(), name="the step ticker")

    async def _tick(self) -> None:
        while True:
            elapsed = time.monotonic() - self.started
            self.stream.write(f"\r  step {self.step:>2} {self.current:<14} running {elapsed:5.1f} s")
            self.stream.flush()
            await asyncio.sleep(0.2)

    def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None
            self.stream.write("\r\033[K")

    def step_done(self, obs: dict[str, Any], reward: float, info: dict[str, Any]) -> None:
        self.stop()
        elapsed = time.monotonic() - self.started
        score = f" score={_fmt(info.get('score'))} position={_fmt(info.get('position_score'), 3)}" \
                f" medal={info.get('medal')}" if info.get("score") is not None else ""
        print(f"  step {self.step:>2} {obs['action']:<14} {obs['status']:<17} {elapsed:6.1f} s{score}",
              file=self.stream, flush=True)


def summary_table(result: EpisodeResult) -> str:
    """The steps of an episode as a table, then the best it reached."""
    header = f"{'step':>4}  {'action':<14} {'status':<17} {'score':>10} {'position':>8} {'medal':<7} {'reward':>7}"
    lines = [header, "-" * len(header)]
    for h in result.history:
        lines.append(f"{h['step']:>4}  {h['action']:<14} {h['status']:<17} {_fmt(h['score']):>10} "
                     f"{_fmt(h['position_score'], 3):>8} {h['medal'] or '-':<7} {_fmt(h['reward'], 3):>7}")
    lines.append(f"best score {_fmt(result.best_score)}, position score {_fmt(result.best_position_score, 3)}, "
                 f"medal {result.medal}" + (" (budget spent)" if result.truncated else ""))
    if result.trajectory:
        lines.append(f"trajectory: {result.trajectory}")
    return "\n".join(lines)


class BatchProgress:
    """The live view of many episodes under a scheduler: one status line, refreshed while the
    ``async with`` block runs (the refresher belongs to it), and printed once more at its end."""

    def __init__(self, stream: TextIO, scheduler: Scheduler, total: int) -> None:
        self.stream, self.scheduler, self.total = stream, scheduler, total
        self.live = stream.isatty()
        self._nursery = Nursery("the batch view")

    async def __aenter__(self) -> BatchProgress:
        await self._nursery.open()
        self._nursery.start_soon(self._refresh(), name="the batch view's refresher")
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._nursery.aclose()
        if self.live:
            self.stream.write("\r\033[K")
        print(self.line(), file=self.stream, flush=True)

    def line(self) -> str:
        stats = self.scheduler.stats()
        wait = f"{stats.wait_p50_s * 1000:.0f} ms" if stats.wait_p50_s is not None else "-"
        return (f"episodes {stats.episodes_done}/{self.total} done, {stats.episodes_active} active | runs "
                f"{stats.runs}, queued {stats.queue_length} (max {stats.max_queue_length}), wait p50 {wait} | "
                f"cpus {stats.in_use['cpus']:g}/{self.scheduler.cpus:g}, memory "
                f"{int(stats.in_use['memory']) >> 20}/{self.scheduler.memory_bytes >> 20} MiB")

    async def _refresh(self) -> None:
        while True:
            if self.live:
                self.stream.write("\r\033[K" + self.line())
                self.stream.flush()
                await asyncio.sleep(0.25)
            else:
                print(self.line(), file=self.stream, flush=True)
                await asyncio.sleep(5)



def batch_table(results: list[EpisodeResult]) -> str:
    """One row per episode: its best score, position score and medal."""
    header = f"{'episode':<14} {'steps':>5} {'best score':>11} {'position':>8} {'medal':<7}"
    lines = [header, "-" * len(header)]
    for r in results:
        lines.append(f"{r.episode_id:<14} {r.steps:>5} {_fmt(r.best_score):>11} "
                     f"{_fmt(r.best_position_score, 3):>8} {r.medal:<7}")
    return "\n".join(lines)
