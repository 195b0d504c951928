"""The five actions: one handler per action (``parse_action``, which the action space shares,
lives with the spaces in ``_observation``).

A handler gets the :class:`Stage` (what a step may use: the task, the backend, the judge, the
episode) and the parsed action, and returns the observation and the grade (None when nothing
was graded).  Agent mistakes are observations; only the env's own failures raise.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import attrs

import sandbox

from . import _feedback
from ._backend import DATA_INSIDE, Backend
from ._episode import Episode
from ._judge import Judge
from ._observation import INFO_TOPICS, Action, Observation, Status, clip_text, parse_action
from ._scores import Grade
from ._task import Task

__all__ = ["HANDLERS", "SOLUTION_FILE", "Stage", "parse_action"]

SOLUTION_FILE = "solution.py"  # the name agent code runs under (tracebacks show it)
Outcome = tuple[Observation, Grade | None]


@attrs.define
class Stage:
    """What a step may use."""

    task: Task
    backend: Backend
    judge: Judge
    variant: str  # the data execute_code runs on
    episode: Episode
    workdir: Path  # the episode's work dir, on the host
    topics: dict[str, tuple[str, dict[str, Any]]]  # the env's cache of the info topics that never change


# ------------------------------------------------------------------ request_info


def info_observation(stage: Stage, topic: str) -> Observation:
    """The answer to ``request_info`` (the data topic reads the public files once: call in a thread)."""
    topics = INFO_TOPICS if topic == "all" else (topic,)
    parts = {t: _topic(stage, t) for t in topics}
    feedback = "\n\n".join(f"## {t}\n{text}" for t, (text, _) in parts.items())
    return Observation(Action.REQUEST_INFO, Status.OK, feedback, {t: data for t, (_, data) in parts.items()})


def _topic(stage: Stage, topic: str) -> tuple[str, dict[str, Any]]:
    if topic == "limits":
        return _limits_topic(stage)
    if topic not in stage.topics:
        stage.topics[topic] = _static_topic(stage, topic)
    text, data = stage.topics[topic]
    return text, dict(data)


def _static_topic(stage: Stage, topic: str) -> tuple[str, dict[str, Any]]:
    task, spec = stage.task, stage.task.grading
    if topic == "overview":
        return task.description, {"task": task.id, "title": task.title, "domain": task.domain}
    if topic == "data":
        files = _feedback.data_files(stage.judge.prepared("full"))
        return _feedback.data_text(files), {"files": files}
    if topic == "submission":
        return _feedback.submission_format(task, stage.judge.prepared(stage.variant))
    metric = {"metric": spec.metric, "direction": spec.direction.value}
    better = "higher" if spec.direction.value == "maximize" else "lower"
    return f"Metric: {spec.metric} ({spec.direction.value}: {better} is better).", metric


def _limits_topic(stage: Stage) -> tuple[str, dict[str, Any]]:
    run, check, episode = stage.task.limits, stage.task.validate_limits, stage.episode
    info = episode.info(None)
    data = {
        "execute": {"timeout_s": run.timeout, "memory_bytes": run.memory, "cpus": run.cpus},
        "validate": {"timeout_s": check.timeout, "memory_bytes": check.memory, "cpus": check.cpus},
        "steps_left": info["steps_left"], "seconds_left": info["seconds_left"],
    }
    text = (f"execute_code: up to {run.timeout:.0f} s, {run.memory >> 20} MiB, {run.cpus:g} CPU(s) on the "
            f"{stage.variant} data. validate_code: up to {check.timeout:.0f} s on the micro data. Budget left: "
            f"{data['steps_left']} steps, {data['seconds_left']} s.")
    return text, data


async def request_info(stage: Stage, action: dict[str, Any]) -> Outcome:
    return await asyncio.to_thread(info_observation, stage, action.get("topic", "all")), None


# ------------------------------------------------------------------ get_history and reset


async def get_history(stage: Stage, action: dict[str, Any]) -> Outcome:
    history = [dict(h) for h in stage.episode.history]
    lines = [f"{h['step']:>3} {h['action']:<14} {h['status']:<17}"
             + (f" score={h['score']:.6g} position_score={h['position_score']}" if h["score"] is not None else "")
             for h in history]
    text = "Steps so far:\n" + "\n".join(lines) if lines else "No steps yet."
    return Observation(Action.GET_HISTORY, Status.OK, text, {"history": history}), None


async def reset_workdir(stage: Stage, action: dict[str, Any]) -> Outcome:
    await stage.backend.clear_workdir(stage.episode.episode_id)
    return Observation(Action.RESET, Status.OK, "The work dir is empty again; budgets and history go on."), None


# ------------------------------------------------------------------ validate_code and execute_code


async def run_code(stage: Stage, action: dict[str, Any]) -> Outcome:
    name, code = Action(action["action"]), action["code"]
    validate = name is Action.VALIDATE_CODE
    variant = "micro" if validate else stage.variant
    problem = await asyncio.to_thread(_syntax_problem, code)
    if problem:
        return Observation(name, Status.CODE_ERROR, f"Your code does not compile: {problem}. Nothing was run.",
                           {"syntax_error": problem}), None
    result = await _run(stage, code, variant, validate=validate)
    text, data = _feedback.describe_run(result, f"on the {variant} data"), {"run": _feedback.run_data(result)}
    if result.status is sandbox.RunStatus.SANDBOX_ERROR:
        return Observation(name, Status.SANDBOX_ERROR, text, data), None
    if result.status is not sandbox.RunStatus.OK:
        return Observation(name, Status.CODE_ERROR, text, data), None
    workdir = stage.workdir
    return await asyncio.to_thread(stage.judge.judge, name, workdir, variant, text, data)


async def _run(stage: Stage, code: str, variant: str, *, validate: bool) -> sandbox.RunResult:
    episode, backend = stage.episode, stage.backend
    await asyncio.to_thread(_prepare_run, stage.workdir, backend.data_path(f"{DATA_INSIDE}/{variant}"))
    limits = stage.task.validate_limits if validate else stage.task.limits
    limits = attrs.evolve(limits, timeout=max(1.0, min(limits.timeout, episode.seconds_left())))
    ran = await backend.run(code, workdir=episode.episode_id, limits=limits, filename=SOLUTION_FILE)
    episode.queued_s += ran.queued_s
    return ran.result


def _prepare_run(workdir: Path, data: str) -> None:
    """``./input`` -> this run's data (a link the controller owns and resets before each run), and
    no stale ``submission.csv`` to grade.  Whatever the agent left at either name goes (a link is
    never followed)."""
    for name in ("input", "submission.csv"):
        sandbox.remove_tree(workdir / name)
    (workdir / "input").symlink_to(data)


def _syntax_problem(code: str) -> str:
    """Why ``code`` does not compile, or "" (run in a thread: compiling is the controller's work)."""
    try:
        compile(code, SOLUTION_FILE, "exec")
    except SyntaxError as exc:
        line = clip_text((exc.text or "").rstrip(), 300)
        return f"{type(exc).__name__}: {exc.msg} (line {exc.lineno}): {line}"
    except (ValueError, RecursionError, MemoryError, OverflowError) as exc:
        return f"{type(exc).__name__}: {clip_text(str(exc), 300) or 'the code is too deeply nested or too large'}"
    return ""


Handler = Callable[[Stage, dict[str, Any]], Awaitable[Outcome]]
HANDLERS: dict[Action, Handler] = {
    Action.REQUEST_INFO: request_info,
    Action.VALIDATE_CODE: run_code,
    Action.EXECUTE_CODE: run_code,
    Action.GET_HISTORY: get_history,
    Action.RESET: reset_workdir,
}
