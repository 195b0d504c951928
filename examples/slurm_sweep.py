"""A sweep of evaluations as a Slurm job array, with submitit: one job per (task, agent, seed).

Each job runs on one node: a local ``dojo_lite.Scheduler`` with the job's CPUs and memory plays
``--episodes`` episodes of its agent on its task, and returns a summary.  Nothing needs root to
be submitted; the jails on each node need what ``python -m sandbox doctor`` says there (root or a
delegated cgroup), else pass ``--no-jail`` (no isolation: only for agent code you trust).

::

    pip install 'dojo-lite[slurm]'                       # submitit
    python examples/slurm_sweep.py --tasks tabular/titanic-survival tabular/penguins-species \\
        --agents baseline --seeds 0 1 2 --episodes 4 --cpus 8 --mem-gb 32 --partition cpu
    python examples/slurm_sweep.py --cluster local ...   # the same jobs as local processes (a dry run)

Prints a line per job as it finishes, then one JSON line with every summary.  A job array is for
independent evaluations; for one big batch of episodes across nodes, use ``dojo-lite run TASK
--episodes N --ray ADDRESS`` (see the README: "Across hosts: Ray").
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import sys
from pathlib import Path
from typing import Any

import submitit

import dojo_lite
import sandbox


def evaluate(task_id: str, agent: str, seed: int, episodes: int, cpus: float, memory: str,
             task_path: list[str], no_jail: bool) -> dict[str, Any]:
    """One job: ``episodes`` episodes of ``agent`` on ``task_id`` on this node; a summary dict."""

    async def run() -> dict[str, Any]:
        # --no-jail: no isolation, and no disk quotas (which need root)
        pool_options = {"isolation": sandbox.Isolation.NONE, "disk_quota": None} if no_jail else {}
        async with dojo_lite.Scheduler(cpus=cpus, memory=memory, task_path=task_path,
                                       pool_options=pool_options) as sched:
            task = dojo_lite.find_task(task_id, task_path)
            jobs = [sched.run_episode(task, dojo_lite.make_agent(agent, task), seed=seed + i) for i in range(episodes)]
            results = await asyncio.gather(*jobs)
            scores = [r.best_position_score for r in results if r.best_position_score is not None]
            return {"task": task.id, "agent": agent, "seed": seed, "episodes": episodes,
                    "scored": len(scores), "mean_position_score": sum(scores) / len(scores) if scores else None,
                    "best_score": max((r.best_score for r in results if r.best_score is not None), default=None),
                    "steps": sum(r.steps for r in results), "scheduler": sched.stats().to_dict()}

    return asyncio.run(run())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", nargs="+", required=True)
    parser.add_argument("--agents", nargs="+", default=["baseline"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--episodes", type=int, default=1, help="episodes per job, at once on its node")
    parser.add_argument("--task-path", action="append", default=[], metavar="DIR")
    parser.add_argument("--cpus", type=int, default=4, help="CPUs per job (its scheduler's budget)")
    parser.add_argument("--mem-gb", type=int, default=16, help="memory per job, GB (its scheduler takes 80%%)")
    parser.add_argument("--timeout-min", type=int, default=60)
    parser.add_argument("--partition", default=None, help="the Slurm partition")
    parser.add_argument("--cluster", default=None, help="submitit's cluster: None (Slurm if there), local, debug")
    parser.add_argument("--folder", type=Path, default=Path("submitit-logs"), help="submitit's logs and pickles")
    parser.add_argument("--no-jail", action="store_true", help="run agent code WITHOUT isolation")
    args = parser.parse_args(argv)

    executor = submitit.AutoExecutor(folder=args.folder, cluster=args.cluster)
    executor.update_parameters(name="dojo-lite-sweep", timeout_min=args.timeout_min, cpus_per_task=args.cpus,
                               mem_gb=args.mem_gb, nodes=1, tasks_per_node=1)
    if args.partition:
        executor.update_parameters(slurm_partition=args.partition)
    grid = list(itertools.product(args.tasks, args.agents, args.seeds))
    memory = f"{int(args.mem_gb * 0.8 * 1024)}M"
    jobs = executor.map_array(evaluate, *zip(*grid, strict=True), [args.episodes] * len(grid),
                              [args.cpus] * len(grid), [memory] * len(grid),
                              [args.task_path] * len(grid), [args.no_jail] * len(grid))
    summaries = []
    for job, (task, agent, seed) in zip(jobs, grid, strict=True):
        summary = job.result()  # raises if the job failed (its log is under --folder)
        summaries.append(summary)
        print(f"{job.job_id}: {task} {agent} seed {seed}: {summary['scored']}/{summary['episodes']} scored, "
              f"mean position score {summary['mean_position_score']}", file=sys.stderr)
    print(json.dumps(summaries, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
