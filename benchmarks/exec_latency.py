"""Execution latency: a warm zygote against a fresh process or jail per run, on the same snippets.

What is measured, side by side in one run, for three snippets (``x = 1``; a small LightGBM fit on
500 seeded random rows; a 256x256 torch matmul on one thread), all with numpy, pandas, sklearn,
lightgbm and torch loaded:

  (a)  a fresh ``python`` process per run (``sys.executable``, the sandbox's default runtime) that
       imports those modules and then runs the snippet: what MLE-Dojo does;
  (b)  a fresh nsjail jail per run: ``sandbox.run(snippet, preload=...)`` (a new Pool, jail and zygote);
  (c)  one warm ``sandbox.Pool(preload=..., spares=0)``: each run forks its child on demand;
  (d)  one warm ``sandbox.Pool(preload=..., spares=1)``: a child is forked ahead of each run;
  (d2) the same with ``spares=2``;
  (e)  ``spares=1`` plus ``Pool(warmup=...)``: each spare first runs a tiny LightGBM fit and matmul
       (other data) in its own process, off the clock;
  in-process: the snippet exec'd in this process, after the same imports;
  loaded: a pool like (d) running the trivial snippet while ``--load`` CPU-bound processes (busy
       loops) run beside it, against (d)'s quiet numbers;
  loaded, even weight: the same with ``Pool(cpu_weight=1)``: agent code weighs as much as any
       process, instead of yielding to the controller and, with it, to the busy loops;
  fork floor: ``fork()`` + ``os._exit`` of a fresh interpreter with the same imports (``gc.freeze()``d,
       like a zygote), timed in wall and in CPU of parent and child, with the trivial snippet
       exec'd there for the in-process time (``measures.measure_floor``).

CPU per execution is the whole process tree's (this process, nsjail, the zygote and every run it
reaped: ``measures.tree_cpu_s``) over (d)'s timed trivial runs, pauses included (a spare is forked
then), divided by their number; the sandbox's cost is reported as a ratio to the fork floor.

Latency is wall time as the caller sees it: ``time.perf_counter`` around ``subprocess.run``,
``sandbox.run`` or ``await pool.run(...)``.  Every run must end with status ``ok``.  Each warm pool
first does a few untimed runs, and waits ``--pause-ms`` (outside the timed region) before each run,
to model an agent's cadence.  Runs are one at a time; all paths use one thread (OMP_NUM_THREADS=1,
``n_jobs=1``, ``torch.set_num_threads(1)``).  The in-process part runs last, so that the sandbox
never forks from a controller that imported torch or ran OpenMP.

Prints a table of p50/p95/p99 in ms per path and snippet, with the overhead of the warm paths over
in-process (p50 minus p50), writes every sample as JSON to ``--out``, and ends stdout with one JSON
line of headline numbers and targets.  Run it from the repository root::

    .venv/bin/python benchmarks/exec_latency.py            # full run: several minutes
    .venv/bin/python benchmarks/exec_latency.py --quick    # smoke test
    .venv/bin/python benchmarks/exec_latency.py --load 0   # no loaded run
    nox -s bench -- --quick                                # the same through nox
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import importlib
import json
import logging
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import measures
from measures import THREAD_VARS, Floor, cpu_load, ratio, single_thread_env, tree_cpu_s

import sandbox

PRELOAD = ("numpy", "pandas", "sklearn", "lightgbm", "torch")
SNIPPETS = {
    "trivial": "x = 1\n",
    "lightgbm": (
        "import numpy as np\n"
        "from lightgbm import LGBMClassifier\n"
        "rng = np.random.default_rng(0)\n"
        "X = rng.normal(size=(500, 20))\n"
        "y = (X[:, 0] + X[:, 1] > 0).astype(int)\n"
        "model = LGBMClassifier(n_estimators=20, n_jobs=1, verbose=-1).fit(X, y)\n"
        "assert model.predict(X[:5]).shape == (5,)\n"
    ),
    "torch": (
        "import torch\n"
        "torch.set_num_threads(1)\n"
        "g = torch.Generator().manual_seed(0)\n"
        "a = torch.randn(256, 256, generator=g)\n"
        "b = torch.randn(256, 256, generator=g)\n"
        "c = (a @ b).sum().item()\n"
    ),
}
PATHS = {
    "a": "(a) fresh python",
    "b": "(b) fresh jail",
    "c": "(c) warm, spares=0",
    "d": "(d) warm, spares=1",
    "d2": "(d2) warm, spares=2",
    "e": "(e) spares=1 + warm-up",
    "inproc": "in-process",
    "loaded": "(d) under load",
    "loaded_even": "(d) under load, even weight",
}
LOADED_WEIGHTS = {"loaded": None, "loaded_even": 1.0}  # None: the pool's default cpu_weight
WARM_SPARES = {"c": 0, "d": 1, "d2": 2, "e": 1}
# (e): each spare first runs this (smaller, other data than the snippets) before its request
SPARE_WARMUP = (
    "import numpy as np\n"
    "from lightgbm import LGBMClassifier\n"
    "import torch\n"
    "X = np.random.default_rng(1).normal(size=(60, 4))\n"
    "LGBMClassifier(n_estimators=2, n_jobs=1, verbose=-1).fit(X, X[:, 0] > 0)\n"
    "torch.set_num_threads(1)\n"
    "torch.ones(8, 8) @ torch.ones(8, 8)\n"
)
WORKDIR = "bench"
TARGET_WARM_P50_MS = 3.0
TARGET_SPEEDUP = 300.0
TARGET_LGBM_OVERHEAD_MS = 10.0
TARGET_CPU_OVER_FORK_FLOOR = 2.0
TARGET_LOADED_P50_RATIO = 3.0
TARGET_LOADED_P95_RATIO = 5.0
DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "exec_latency.json"

Samples = dict[str, list[float]]  # snippet -> latencies in ms


class RunFailed(RuntimeError):
    """A benchmarked run did not succeed: the numbers would be meaningless."""


@dataclasses.dataclass
class Config:
    repeat_warm: int
    repeat_cold: int
    repeat_inproc: int
    pause_ms: float
    warmup: int
    load: int                      # CPU-bound processes beside the loaded run (0: no loaded run)
    out: Path


@dataclasses.dataclass
class SandboxInfo:
    """What the pools said about the guarantees that held."""

    jailed: dict[str, bool] = dataclasses.field(default_factory=dict)
    warnings: dict[str, list[str]] = dataclasses.field(default_factory=dict)
    cpu_ms_per_exec: dict[str, dict[str, float]] = dataclasses.field(default_factory=dict)  # path -> snippet


# ------------------------------------------------------------------ statistics


def percentile(samples: Sequence[float], q: float) -> float:
    """``measures.percentile`` of samples that are never empty here."""
    value = measures.percentile(samples, q)
    if value is None:
        raise ValueError("no samples")
    return value


def summarize(samples: Sequence[float]) -> dict[str, Any]:
    return {
        "n": len(samples),
        "p50_ms": percentile(samples, 50),
        "p95_ms": percentile(samples, 95),
        "p99_ms": percentile(samples, 99),
        "min_ms": min(samples),
        "max_ms": max(samples),
        "mean_ms": sum(samples) / len(samples),
        "samples_ms": [round(s, 4) for s in samples],
    }


def timed_ms[T](fn: Callable[..., T], *args: Any, **kwargs: Any) -> tuple[float, T]:
    """``fn(*args, **kwargs)`` and the wall time it took, in ms."""
    started = time.perf_counter()
    value = fn(*args, **kwargs)
    return (time.perf_counter() - started) * 1000, value


# ------------------------------------------------------------------ checks


def check_result(result: sandbox.RunResult, where: str) -> None:
    """Raise (after printing its stderr) when a sandboxed run did not end ``ok``."""
    if result.ok:
        return
    print(f"{where}: status={result.status.value} {result.message}\n--- stderr ---\n{result.stderr.text}",
          file=sys.stderr)
    raise RunFailed(f"{where}: run ended with status {result.status.value}")


def check_process(proc: subprocess.CompletedProcess[str], where: str) -> None:
    if proc.returncode == 0:
        return
    print(f"{where}: exit code {proc.returncode}\n--- stderr ---\n{proc.stderr}", file=sys.stderr)
    raise RunFailed(f"{where}: exit code {proc.returncode}")


# ------------------------------------------------------------------ the paths


def fresh_process(repeat: int) -> Samples:
    """(a): ``python -c 'import ...; <snippet>'`` once per run."""
    env, header = single_thread_env(), f"import {', '.join(PRELOAD)}\n"
    samples: Samples = {}
    for name, code in SNIPPETS.items():
        argv = [sys.executable, "-c", header + code]
        samples[name] = []
        for _ in range(repeat):
            ms, proc = timed_ms(subprocess.run, argv, capture_output=True, text=True, env=env)
            check_process(proc, f"{PATHS['a']} {name}")
            samples[name].append(ms)
    return samples


def fresh_jail(repeat: int, info: SandboxInfo) -> Samples:
    """(b): ``sandbox.run(snippet, preload=...)``, a new pool, jail and zygote per run."""
    samples: Samples = {}
    for name, code in SNIPPETS.items():
        samples[name] = []
        for _ in range(repeat):
            ms, result = timed_ms(sandbox.run, code, preload=PRELOAD)
            check_result(result, f"{PATHS['b']} {name}")
            samples[name].append(ms)
            info.warnings["b"] = list(result.warnings)
    return samples


async def timed_pool_run(pool: sandbox.Pool, code: str, pause_s: float, where: str) -> float:
    """Pause (untimed), then one run on the warm pool; its latency in ms."""
    await asyncio.sleep(pause_s)
    started = time.perf_counter()
    result = await pool.run(code, workdir=WORKDIR)
    ms = (time.perf_counter() - started) * 1000
    check_result(result, where)
    return ms


async def warm_pool(key: str, config: Config, info: SandboxInfo) -> Samples:
    """(c), (d), (d2), (e): one pool for every run of the path, warmed up first."""
    pause_s, label = config.pause_ms / 1000, PATHS[key]
    warmup = SPARE_WARMUP if key == "e" else None
    async with sandbox.Pool(preload=PRELOAD, spares=WARM_SPARES[key], warmup=warmup, name=f"bench-{key}") as pool:
        info.jailed[key], info.warnings[key] = pool.jailed, list(pool.warnings)
        pool.workdir(WORKDIR)
        for name, code in SNIPPETS.items():
            for _ in range(config.warmup):
                await timed_pool_run(pool, code, pause_s, f"{label} {name} (warm-up)")
        samples: Samples = {}
        for name, code in SNIPPETS.items():
            cpu = tree_cpu_s()
            samples[name] = [await timed_pool_run(pool, code, pause_s, f"{label} {name}")
                             for _ in range(config.repeat_warm)]
            # before the pool closes: the zygote's reaped runs leave the tree with it
            info.cpu_ms_per_exec.setdefault(key, {})[name] = (tree_cpu_s() - cpu) * 1000 / config.repeat_warm
    return samples


async def loaded_trivial(config: Config, key: str) -> list[float]:
    """(d)'s trivial runs on a fresh pool (to be run while busy loops run beside it), with the CPU
    weight of ``LOADED_WEIGHTS[key]``."""
    pause_s, label, weight = config.pause_ms / 1000, PATHS[key], LOADED_WEIGHTS[key]
    options = {} if weight is None else {"cpu_weight": weight}
    async with sandbox.Pool(preload=PRELOAD, spares=WARM_SPARES["d"], name="bench-loaded", **options) as pool:
        pool.workdir(WORKDIR)
        for _ in range(config.warmup):
            await timed_pool_run(pool, SNIPPETS["trivial"], pause_s, f"{label} (warm-up)")
        return [await timed_pool_run(pool, SNIPPETS["trivial"], pause_s, label) for _ in range(config.repeat_warm)]


def in_process(config: Config) -> Samples:
    """The floor: each snippet exec'd (and compiled) in this process, after the same imports."""
    os.environ.update(dict.fromkeys(THREAD_VARS, "1"))
    for module in PRELOAD:
        importlib.import_module(module)
    samples: Samples = {}
    for name, code in SNIPPETS.items():
        for _ in range(config.warmup):
            run_here(code)
        samples[name] = [timed_ms(run_here, code)[0] for _ in range(config.repeat_inproc)]
    return samples


def run_here(code: str) -> None:
    exec(compile(code, "<snippet>", "exec"), {"__name__": "__main__"})


# ------------------------------------------------------------------ report


def machine() -> dict[str, Any]:
    return {
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)),
        "cpu_model": cpu_model(),
        "python": platform.python_version(),
        "executable": sys.executable,
        "platform": platform.platform(),
    }


def cpu_model() -> str:
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return platform.processor()
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), "")


def overheads(results: dict[str, Samples]) -> dict[str, dict[str, float]]:
    """p50(path) - p50(in-process) per snippet, for the warm paths."""
    floor = {name: percentile(s, 50) for name, s in results["inproc"].items()}
    return {key: {name: percentile(s, 50) - floor[name] for name, s in results[key].items()}
            for key in WARM_SPARES if key in results}


def table(results: dict[str, Samples], over: dict[str, dict[str, float]]) -> str:
    """The results as aligned plain text: text columns to the left, numbers to the right."""
    rows: list[tuple[str, ...]] = [("path", "snippet", "n", "p50 ms", "p95 ms", "p99 ms", "over in-proc p50 ms")]
    for key, samples in results.items():
        for name, s in samples.items():
            extra = f"{over[key][name]:.3f}" if key in over else "-"
            rows.append((PATHS[key], name, str(len(s)), *(f"{percentile(s, q):.3f}" for q in (50, 95, 99)), extra))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [align(row, widths) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def align(row: Sequence[str], widths: Sequence[int]) -> str:
    cells = [cell.ljust(w) if i < 2 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths, strict=True))]
    return "  ".join(cells)


def headline(results: dict[str, Samples], over: dict[str, dict[str, float]], info: SandboxInfo,
             floor: Floor, loaded: list[float] | None, load: int,
             even: list[float] | None = None) -> dict[str, Any]:
    """The numbers the issue asks for, and whether they meet its targets (``loaded``: under load
    with the default CPU weight; ``even``: with ``cpu_weight=1``)."""
    warm = percentile(results["d"]["trivial"], 50)
    cpu = info.cpu_ms_per_exec["d"]["trivial"]
    quiet_p95 = percentile(results["d"]["trivial"], 95)
    loaded_p50 = None if loaded is None else percentile(loaded, 50)
    loaded_p95 = None if loaded is None else percentile(loaded, 95)
    fork_wall = percentile(floor.fork_wall_ms, 50)
    cold, process = percentile(results["b"]["trivial"], 50), percentile(results["a"]["trivial"], 50)
    speedup = cold / warm
    lgbm = over["d"]["lightgbm"]
    return {
        "trivial_warm_p50_ms": round(warm, 3),
        "trivial_cold_jail_p50_ms": round(cold, 3),
        "trivial_cold_process_p50_ms": round(process, 3),
        "speedup_trivial_warm_vs_cold_jail": round(speedup, 1),
        "speedup_trivial_warm_vs_cold_process": round(process / warm, 1),
        "lightgbm_overhead_ms": round(lgbm, 3),
        "torch_overhead_ms": round(over["d"]["torch"], 3),
        "lightgbm_overhead_with_spare_warmup_ms": round(over["e"]["lightgbm"], 3) if "e" in over else None,
        # (d), trivial: whole-tree CPU per execution, against fork() + _exit of the same interpreter
        "cpu_ms_per_exec": round(cpu, 3),
        "fork_floor_cpu_ms": round(floor.fork_cpu_ms, 3),
        "fork_floor_4k_cpu_ms": round(floor.fork_cpu_ms_4k, 3),  # before the heap's huge pages
        "fork_floor_wall_p50_ms": round(fork_wall, 3),
        "inproc_trivial_p50_ms": round(percentile(floor.inproc_wall_ms, 50), 4),
        "cpu_ratio_to_fork_floor": ratio(cpu, floor.fork_cpu_ms),
        "wall_p50_ratio_to_fork_floor": ratio(warm, fork_wall),
        # (d), trivial, with --load busy loops beside it against without (None for --load 0)
        "load": load,
        "quiet_p50_ms": round(warm, 3),
        "quiet_p95_ms": round(quiet_p95, 3),
        "loaded_p50_ms": None if loaded_p50 is None else round(loaded_p50, 3),
        "loaded_p95_ms": None if loaded_p95 is None else round(loaded_p95, 3),
        "loaded_p50_ratio": ratio(loaded_p50, warm),
        "loaded_p95_ratio": ratio(loaded_p95, quiet_p95),
        "loaded_even_weight_p50_ratio": None if even is None else ratio(percentile(even, 50), warm),
        "loaded_even_weight_p95_ratio": None if even is None else ratio(percentile(even, 95), quiet_p95),
        "targets_met": {
            f"trivial_warm_p50_le_{TARGET_WARM_P50_MS:g}ms": warm <= TARGET_WARM_P50_MS,
            f"warm_{TARGET_SPEEDUP:g}x_faster_than_cold_jail": speedup >= TARGET_SPEEDUP,
            f"lightgbm_overhead_le_{TARGET_LGBM_OVERHEAD_MS:g}ms": lgbm <= TARGET_LGBM_OVERHEAD_MS,
            f"cpu_le_{TARGET_CPU_OVER_FORK_FLOOR:g}x_fork_floor": cpu <= TARGET_CPU_OVER_FORK_FLOOR * floor.fork_cpu_ms,
            f"loaded_p50_le_{TARGET_LOADED_P50_RATIO:g}x_quiet": None if loaded_p50 is None
            else loaded_p50 <= TARGET_LOADED_P50_RATIO * warm,
            f"loaded_p95_le_{TARGET_LOADED_P95_RATIO:g}x_quiet": None if loaded_p95 is None
            else loaded_p95 <= TARGET_LOADED_P95_RATIO * quiet_p95,
        },
    }


def write_json(config: Config, results: dict[str, Samples], over: dict[str, dict[str, float]],
               info: SandboxInfo, floor: Floor, summary: dict[str, Any]) -> None:
    document = {
        "benchmark": "exec_latency",
        "machine": machine(),
        "config": {**dataclasses.asdict(config), "out": str(config.out), "preload": list(PRELOAD),
                   "snippets": SNIPPETS, "paths": PATHS},
        "sandbox": dataclasses.asdict(info),
        "results": {key: {name: summarize(s) for name, s in samples.items()} for key, samples in results.items()},
        "overhead_over_in_process_p50_ms": over,
        "fork_floor": dataclasses.asdict(floor),
        "summary": summary,
    }
    config.out.parent.mkdir(parents=True, exist_ok=True)
    config.out.write_text(json.dumps(document, indent=2) + "\n")


def print_context(config: Config, info: SandboxInfo) -> None:
    m = machine()
    print(f"machine: {m['cpu_count']} CPUs ({m['cpus_usable']} usable), {m['cpu_model']}; "
          f"Python {m['python']} ({m['executable']}); {m['platform']}")
    print(f"preload: {', '.join(PRELOAD)}; one thread per run; runs one at a time")
    print(f"warm paths: {config.warmup} untimed warm-up run(s) per snippet, then a pause of "
          f"{config.pause_ms:g} ms before each timed run (not timed), to model an agent's cadence")
    for key in ("b", *WARM_SPARES):
        jailed = info.jailed.get(key)
        state = "" if jailed is None else f"jailed={jailed} "
        print(f"sandbox {PATHS[key]}: {state}warnings={info.warnings.get(key) or 'none'}")


# ------------------------------------------------------------------ main


def parse_args(argv: Sequence[str] | None = None) -> Config:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--repeat-warm", type=int, default=200, help="timed runs per snippet, warm paths")
    parser.add_argument("--repeat-cold", type=int, default=8, help="timed runs per snippet, paths (a), (b)")
    parser.add_argument("--pause-ms", type=float, default=20.0, help="untimed pause before each warm run")
    parser.add_argument("--load", type=int, default=2, help="CPU-bound processes beside the loaded run (0: none)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write the JSON")
    parser.add_argument("--quick", action="store_true", help="tiny counts: a smoke test, not a measurement")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeat_warm, args.repeat_cold = min(args.repeat_warm, 5), min(args.repeat_cold, 2)
    if args.repeat_warm < 1 or args.repeat_cold < 1 or args.pause_ms < 0 or args.load < 0:
        parser.error("repeat counts must be at least 1, --pause-ms and --load not negative")
    return Config(repeat_warm=args.repeat_warm, repeat_cold=args.repeat_cold,
                  repeat_inproc=max(args.repeat_warm, 20), pause_ms=args.pause_ms,
                  warmup=1 if args.quick else 3, load=args.load, out=args.out)


def measure_floor(config: Config) -> Floor:
    """The fork floor of this benchmark's interpreter and preload list (a process of its own)."""
    print(f"measuring the fork floor ({max(config.repeat_inproc, 50)} forks)...", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="fork-floor-") as cwd:
        return measures.measure_floor(PRELOAD, SNIPPETS["trivial"], max(config.repeat_inproc, 50), cwd)


def measure_loaded(config: Config, key: str) -> list[float]:
    """(d)'s trivial latency with ``config.load`` busy loops beside it."""
    print(f"measuring {PATHS[key]} ({config.load} busy processes, {config.repeat_warm} runs)...",
          file=sys.stderr)
    with cpu_load(config.load):
        return asyncio.run(loaded_trivial(config, key))


def measure(config: Config, info: SandboxInfo) -> dict[str, Samples]:
    results: dict[str, Samples] = {}
    print(f"measuring {PATHS['a']} ({config.repeat_cold} per snippet)...", file=sys.stderr)
    results["a"] = fresh_process(config.repeat_cold)
    print(f"measuring {PATHS['b']} ({config.repeat_cold} per snippet)...", file=sys.stderr)
    results["b"] = fresh_jail(config.repeat_cold, info)
    for key in WARM_SPARES:
        print(f"measuring {PATHS[key]} ({config.repeat_warm} per snippet)...", file=sys.stderr)
        results[key] = asyncio.run(warm_pool(key, config, info))
    if config.load:
        for key in LOADED_WEIGHTS:
            results[key] = {"trivial": measure_loaded(config, key)}
    print(f"measuring in-process ({config.repeat_inproc} per snippet)...", file=sys.stderr)
    results["inproc"] = in_process(config)  # last: see the module docstring
    return results


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(levelname)s: %(message)s")
    config = parse_args(argv)
    info = SandboxInfo()
    try:
        results = measure(config, info)
    except RunFailed as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    floor = measure_floor(config)
    loaded = results.get("loaded", {}).get("trivial")
    over = overheads(results)
    summary = headline(results, over, info, floor, loaded, config.load, results.get("loaded_even", {}).get("trivial"))
    write_json(config, results, over, info, floor, summary)
    print_context(config, info)
    print(table(results, over))
    print(f"fork floor ({', '.join(PRELOAD)} imported): {json.dumps(floor.summary())}")
    print(f"(the JSON with every sample: {config.out})")
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
