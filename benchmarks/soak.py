"""Soak under faults: many episodes on the scheduler while agent code attacks the sandbox.

Episodes over the built-in tasks' micro variants (``DojoEnv(variant="micro")``), on one
``Scheduler``.  Each step is an honest run of the task's simple solution, or, at random (seeded),
a fault:

  zygote_kill     the task's zygote is SIGKILLed from outside while the step runs
  oom             a memory bomb under the task's memory limit
  timeout         a run that sleeps past its limit (the step's limit is lowered to 1 s)
  output_flood    printing far more than the output limit
  channel_flood   flooding the socket the run holds (its reports to the sandbox)
  deep_tree       a 3,000-level directory chain and 20,000 empty directories in the work dir
  disk_quota      filling the work dir's disk quota
  bad_submission  a malformed submission.csv
  cancel          the episode is cancelled in the middle of a step

At the end: every episode's trajectory is read back (a step missing, or not the one the agent
got, is a lost record), the scheduler is closed, and the host is searched for what is left:
processes of the jail's user, the pools' cgroups, mounts and folders.  A 10 ms ticker measures
how late the event loop ran, and /proc/stat how much CPU the hypervisor stole meanwhile (on a
shared VM, the worst stall may be the host's).  Each stall over 100 ms is itemised: the loop thread's
time on a CPU and queued for one, and where it was meanwhile (its Python frames and its kernel wait
channel, sampled every 10 ms by a thread of its own); and who had the CPUs: the whole controller,
all agent code (the sandbox's cgroup), the machine in all (the rest: other processes, the
controller's helpers among them).  One JSON line ends stdout:
``episodes, steps, faults_injected, lost_records, leaked_processes, leaked_cgroups, leaked_mounts,
leaked_dirs, controller_fd_growth, controller_rss_growth_mb, max_loop_stall_ms``.  Targets: every
loss and leak 0, RSS growth <= 50 MB, no stall over 100 ms.  Run it as root::

    .venv/bin/python benchmarks/soak.py                 # 1,000 episodes x 10 steps
    .venv/bin/python benchmarks/soak.py --quick         # about 2 minutes (CI runs this)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import hashlib
import json
import os
import random
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

import attrs
import psutil

import dojo_lite
import sandbox
from sandbox._cgroups import Cgroup, CgroupHost, CgroupVersion
from sandbox._cleanup import RUNTIME_STAGE, pool_root

TASKS = ["tabular/titanic-survival", "tabular/penguins-species", "timeseries/sunspots-monthly", "vision/digits"]
JAIL_UID = 65534
FAULTS = {
    "oom": "x = []\nwhile True:\n    x.append(bytearray(50 << 20))\n",
    "timeout": "import time\ntime.sleep(30)\n",
    "output_flood": "import sys\nwhile True:\n    sys.stdout.write('x' * 65536)\n",
    "channel_flood": (
        "import json, os, socket, stat\nfor fd in range(3, 256):\n    try:\n"
        "        if stat.S_ISSOCK(os.fstat(fd).st_mode):\n            s = socket.socket(fileno=fd)\n"
        "            while True:\n"
        "                s.send(json.dumps({'op': 'traceback', 'text': 'x' * 60000}).encode())\n"
        "    except OSError:\n        pass\n"),
    "deep_tree": (
        "import os\nfd = os.open('.', os.O_RDONLY)\nfor i in range(3000):\n    os.mkdir('d', dir_fd=fd)\n"
        "    c = os.open('d', os.O_RDONLY, dir_fd=fd)\n    os.close(fd)\n    fd = c\n"
        "os.mkdir('wide')\nfor i in range(20000):\n    os.mkdir('wide/%d' % i)\n"),
    "disk_quota": "with open('big.bin', 'wb') as f:\n    while True:\n        f.write(b'x' * (1 << 20))\n",
    "bad_submission": "open('submission.csv', 'w').write('nonsense,header\\n\\x00\\xff\\n')\n",
}
KINDS = ["honest"] * 4 + sorted(FAULTS) + ["zygote_kill", "cancel"]


def _cpu_s(process: psutil.Process) -> float:
    """CPU seconds the controller (all its threads, not its children) used so far."""
    times = process.cpu_times()
    return float(times.user + times.system)


def _loop_sched_s() -> tuple[float, float]:
    """This thread's time on a CPU and its time runnable but waiting for one, so far (schedstat)."""
    try:
        on_cpu, waiting, _ = Path("/proc/thread-self/schedstat").read_text().split()
        return int(on_cpu) / 1e9, int(waiting) / 1e9
    except (OSError, ValueError):
        return 0.0, 0.0


def _machine_ms() -> tuple[float, float]:
    """All of this machine's CPUs so far (/proc/stat, in 10 ms ticks): the time they computed
    (user, nice, system, interrupts) and the time the hypervisor stole from them."""
    try:
        fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    except (OSError, ValueError):
        return 0.0, 0.0
    if len(fields) < 8:
        return 0.0, 0.0
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    tick_ms = 1000 / os.sysconf("SC_CLK_TCK")
    return (user + nice + system + irq + softirq) * tick_ms, steal * tick_ms


def _agents_s(agents: Cgroup | None) -> float:
    """CPU seconds all agent code (every pool's cgroup, zygotes included) used so far."""
    return (agents.cpu_seconds() or 0.0) if agents is not None else 0.0


class SoakAgent:
    """An async agent whose actions are drawn at random: honest steps and faults."""

    def __init__(self, task: dojo_lite.Task, rng: random.Random, steps: int, soak: Soak) -> None:
        self.task, self.rng, self.left, self.soak = task, rng, steps, soak
        self.honest = task.solution("simple")
        self.seen: list[str] = []  # digests of the observations it got (whole ones would swell the RSS measured)

    async def __call__(self, obs: dict[str, Any], info: dict[str, Any]) -> dict[str, Any] | None:
        if obs.get("action") != "request_info" or self.seen:
            self.seen.append(_digest(obs))
        if self.left <= 0:
            return None
        self.left -= 1
        kind = self.rng.choice(KINDS)
        self.soak.faults[kind] += 1
        if kind == "zygote_kill":
            self.soak.kill_zygote_soon(self.task)
        elif kind == "cancel":  # the episode is cancelled by its owner in the middle of this step
            episode = asyncio.current_task()
            if episode is not None:
                asyncio.get_running_loop().call_later(0.05, episode.cancel)
        code = FAULTS.get(kind, self.honest)
        return {"action": self.rng.choice(["execute_code", "validate_code"]), "code": code}


def _fast(task: dojo_lite.Task) -> dojo_lite.Task:
    """The task with short time limits: a fault that sleeps costs 2 s, not the task's minutes."""
    return attrs.evolve(task, limits=attrs.evolve(task.limits, timeout=2.0),
                        validate_limits=attrs.evolve(task.validate_limits, timeout=2.0))


class GcClock:
    """The collector's time in the loop's thread (``gc.callbacks``): in all, the longest pause and
    its generation, and how many full (generation 2) collections ran there."""

    def __init__(self) -> None:
        self.thread = threading.get_ident()
        self.total = self.longest = 0.0
        self.longest_generation = -1
        self.full = 0
        self._started: float | None = None

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if threading.get_ident() != self.thread:
            return
        if phase == "start":
            self._started = time.perf_counter()
        elif self._started is not None:
            took, self._started = time.perf_counter() - self._started, None
            self.total += took
            self.full += info["generation"] == 2
            if took > self.longest:
                self.longest, self.longest_generation = took, info["generation"]


class StallSampler:
    """Where the loop's thread is while it runs late: every 10 ms, from a thread of its own, once
    the loop has not beaten for 50 ms, its innermost Python frames and its state and kernel wait
    channel (``S futex_wait_queue``: the GIL or a lock; ``D``: a blocking system call).  The
    ticker beats; the soak starts the sampler (from the loop's thread) and closes it."""

    LATE_S = 0.05

    def __init__(self) -> None:
        self.beat = time.monotonic()
        self.loop = threading.current_thread()  # set again by start
        self.samples: list[tuple[float, str]] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="stall-sampler", daemon=True)

    def start(self) -> None:
        """Watch the calling thread (the loop's)."""
        self.loop, self.beat = threading.current_thread(), time.monotonic()
        self.thread.start()

    def close(self) -> None:
        self.stop.set()
        self.thread.join()

    def _run(self) -> None:
        while not self.stop.wait(0.01):
            now = time.monotonic()
            if now - self.beat > self.LATE_S:
                self.samples.append((now, self._where()))
                del self.samples[:-1000]  # late spells that never became a stall

    def _where(self) -> str:
        frame = sys._current_frames().get(self.loop.ident or 0)
        frames = traceback.extract_stack(frame)[-3:] if frame is not None else []
        python = " < ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(frames))
        task = Path(f"/proc/self/task/{self.loop.native_id}")
        try:
            state = (task / "stat").read_text().rsplit(")", 1)[1].split()[0]
            wchan = (task / "wchan").read_text() or "-"
        except (OSError, IndexError):
            state = wchan = "?"
        return f"{state} {wchan} | {python}"

    def since(self, start: float) -> dict[str, int]:
        """How often each place was sampled since ``start``, the commonest first; older samples go."""
        self.samples = [sample for sample in self.samples if sample[0] >= start]
        return dict(Counter(where for _, where in self.samples).most_common(4))


class Soak:
    def __init__(self, episodes: int, steps: int, seed: int, concurrency: int) -> None:
        self.episodes, self.steps, self.concurrency = episodes, steps, concurrency
        self.rng = random.Random(seed)
        self.faults: Counter[str] = Counter()
        self.worst_lag = self.steal_in_worst = self.loop_cpu_in_worst = self.cpu_in_worst = self.worst_busy = 0.0
        self.stalls = 0  # ticks more than 100 ms late
        self.stall_log: list[dict[str, Any]] = []  # each of them, itemised
        self.gc = GcClock()
        self.gc_in_worst_busy = 0.0
        self.sampler = StallSampler()
        self.trajectories = Path(tempfile.mkdtemp(prefix="dojo-soak-"))
        self.sched: dojo_lite.Scheduler | None = None
        self.agents: list[SoakAgent] = []
        self.results: list[Any] = []
        self.pool_names: set[str] = set()  # every pool this soak started (their folders are gone at the end)
        self.killers: list[threading.Timer] = []  # the zygote kills on their way (joined at the end)

    def _record_pools(self) -> None:
        assert self.sched is not None
        for lease in list(self.sched._leases.values()):
            with contextlib.suppress(sandbox.PoolClosed):
                self.pool_names.add(lease.pool.directory.name)

    def kill_zygote_soon(self, task: dojo_lite.Task) -> None:
        """SIGKILL the task's zygote a moment after the next run starts."""
        assert self.sched is not None
        lease = self.sched._leases.get(task.id)  # the benchmark looks inside on purpose
        if lease is None or lease.pool.closed:
            return
        config = str(lease.pool.directory / "nsjail.cfg")

        def kill() -> None:
            for proc in psutil.process_iter(["cmdline"]):
                if config in (proc.info["cmdline"] or []):
                    for child in proc.children():
                        child.kill()

        # The search walks every process of the host (100+ ms): in a thread of its own, so that
        # the loop stall measured is the controller's, not this injector's.
        killer = threading.Timer(0.05, kill)
        killer.start()
        self.killers.append(killer)

    async def _tick(self) -> None:
        me = psutil.Process()
        host = CgroupHost.detect()
        agents = host.group() if host.version is not CgroupVersion.NONE else None
        while True:
            start, loop_cpu, cpu = time.monotonic(), time.thread_time(), _cpu_s(me)
            computed, stolen = _machine_ms()
            agents_s = _agents_s(agents)
            self.sampler.beat = start
            on_cpu, queued = _loop_sched_s()
            collecting = self.gc.total
            await asyncio.sleep(0.01)
            lag = time.monotonic() - start - 0.01
            busy = time.thread_time() - loop_cpu  # what the loop's own thread computed meanwhile
            if busy > self.worst_busy:  # and how much of it was the garbage collector's
                self.worst_busy, self.gc_in_worst_busy = busy, self.gc.total - collecting
            if lag > 0.1:
                self.stalls += 1
                # The rest of the lag (neither on a CPU nor queued for one) the loop's thread slept:
                # waiting for the GIL, a lock, or a blocking call.
                # Who had the CPUs meanwhile: the machine's computed time, less the controller's
                # and agent code's, is other processes' (the controller's helpers among them).
                now_on_cpu, now_queued = _loop_sched_s()
                now_computed, now_stolen = _machine_ms()
                self.stall_log.append({
                    "lag_ms": round(lag * 1000, 1), "steal_ms": round(now_stolen - stolen, 1),
                    "loop_on_cpu_ms": round((now_on_cpu - on_cpu) * 1000, 1),
                    "loop_queued_ms": round((now_queued - queued) * 1000, 1),
                    "controller_cpu_ms": round((_cpu_s(me) - cpu) * 1000, 1),
                    "agents_cpu_ms": round((_agents_s(agents) - agents_s) * 1000, 1),
                    "machine_cpu_ms": round(now_computed - computed, 1),
                    "where": self.sampler.since(start),
                })
            if lag > self.worst_lag:
                # What the hypervisor took from this VM's CPUs meanwhile, and what the loop and the whole
                # controller computed: a stall with little of either is time the loop waited for a CPU.
                self.worst_lag, self.steal_in_worst = lag, _machine_ms()[1] - stolen
                self.loop_cpu_in_worst, self.cpu_in_worst = busy, _cpu_s(me) - cpu

    async def _episode(self, task: dojo_lite.Task, index: int) -> Any:
        assert self.sched is not None
        agent = SoakAgent(task, random.Random(self.rng.random()), self.steps, self)
        self._record_pools()
        self.agents.append(agent)
        try:
            return await self.sched.run_episode(task, agent, seed=index, variant="micro")
        except asyncio.CancelledError:
            return "cancelled"
        finally:
            self._record_pools()

    async def run(self) -> None:
        tasks = [_fast(dojo_lite.find_task(t)) for t in TASKS]
        for task in tasks:  # prepared before the clock starts
            task.prepare("micro")
            task.prepare("full")
        self.gc = GcClock()  # in the loop's thread
        gc.callbacks.append(self.gc)
        self.sampler.start()
        ticker = asyncio.ensure_future(self._tick())
        limits = asyncio.Semaphore(self.concurrency)

        async def one(i: int) -> Any:
            async with limits:
                return await self._episode(tasks[i % len(tasks)], i)

        try:
            async with dojo_lite.Scheduler(trajectory_dir=self.trajectories, idle_close_s=5) as sched:
                self.sched = sched
                self.results = await asyncio.gather(*(one(i) for i in range(self.episodes)))
        finally:
            ticker.cancel()
            self.sampler.close()
            gc.callbacks.remove(self.gc)
            for killer in self.killers:
                await asyncio.to_thread(killer.join)


def _digest(obs: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(obs, sort_keys=True).encode()).hexdigest()


def lost_records(soak: Soak) -> tuple[int, int]:
    """(steps taken, steps whose trajectory line is missing or differs from what the agent got)."""
    taken = lost = 0
    recorded: dict[str, list[dict[str, Any]]] = {}
    for path in soak.trajectories.rglob("*.jsonl"):
        trajectory = dojo_lite.read_trajectory(path)
        recorded[trajectory.header["episode_id"]] = [s["observation"] for s in trajectory.steps]
    for result in soak.results:
        if not isinstance(result, dojo_lite.EpisodeResult):
            continue
        taken += result.steps
        observations = recorded.get(result.episode_id or "", [])
        lost += max(0, result.steps - len(observations))
    # every observation an agent got must be in some trajectory, exactly as it got it
    kept = {_digest(obs) for steps in recorded.values() for obs in steps}
    for agent in soak.agents:
        lost += sum(1 for digest in agent.seen if digest not in kept)
    return taken, lost


def _status(pid: int) -> str:
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return "?"
    return " ".join(line for line in lines if line.startswith(("Name", "NSpid", "PPid")))


def _another_controllers(pid: int, mine: set[str]) -> bool:
    """True for a process in a pool cgroup that is not one of this soak's (say, a test session's)."""
    try:
        text = Path(f"/proc/{pid}/cgroup").read_text()
    except OSError:
        return False
    pools = [part.split("/", 1)[0] for part in text.split("/sandbox/")[1:]]
    return bool(pools) and not any(p in mine for p in pools)


def _name(pid: int) -> str:
    try:
        return " ".join(psutil.Process(pid).cmdline())[:80] + ("" if pid != os.getpid() else " (this process)")
    except psutil.Error:
        return "?"


def _owned(folder: Path) -> bool:
    """A folder of this process's pools (its staged runtime lives as long as the process)."""
    try:
        pid, name = (folder / "owner").read_text().split()[:2]
    except (OSError, ValueError):
        return False
    return pid == str(os.getpid()) and name != RUNTIME_STAGE


def leftovers(soak: Soak) -> dict[str, Any]:
    time.sleep(1.0)  # what was killed last is gone by now, or leaked
    processes = [p for p in psutil.process_iter(["uids", "status", "cmdline", "ppid"])
                 if p.info["uids"] and JAIL_UID in p.info["uids"][:2]
                 and not _another_controllers(p.pid, soak.pool_names)]
    root = pool_root()
    dirs = [p for p in root.glob("*") if _owned(p)] if root.exists() else []  # this process's pools only
    names = {p.name for p in dirs} | set(soak.pool_names)
    cgroups = [p for p in Path("/sys/fs/cgroup").glob("*/sandbox/*") if p.name in names]
    mounts = [line for line in Path("/proc/self/mountinfo").read_text().splitlines()
              if any(f"{root}/{name}/" in line for name in names)]
    return {"leaked_processes": len(processes), "leaked_cgroups": len(cgroups), "leaked_mounts": len(mounts),
            "leaked_dirs": len(dirs),
            "leaks": [f"{p.pid} {p.info['status']} {_status(p.pid)} parent {_name(p.info['ppid'])}"
                      for p in processes][:5]
            + [str(p) for p in cgroups + dirs][:5] + mounts[:5]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=16, help="episodes open at once")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="a version of about 2 minutes")
    parser.add_argument("--only", nargs="*", default=None, metavar="KIND", help="inject only these faults")
    args = parser.parse_args(argv)
    if args.only is not None:
        KINDS[:] = ["honest"] * 4 + args.only
    if args.quick:
        args.episodes, args.steps, args.concurrency = 32, 6, 8
    me = psutil.Process()
    fds, rss = me.num_fds(), me.memory_info().rss
    soak = Soak(args.episodes, args.steps, args.seed, args.concurrency)
    started = time.monotonic()
    asyncio.run(soak.run())
    gc.collect()
    # the controller's growth, measured before this script reads every trajectory back
    fd_growth, rss_growth = me.num_fds() - fds, me.memory_info().rss - rss
    taken, lost = lost_records(soak)
    line = {
        "episodes": args.episodes, "steps": taken,
        "faults_injected": sum(n for kind, n in soak.faults.items() if kind != "honest"),
        "faults": dict(soak.faults), "lost_records": lost, **leftovers(soak),
        "controller_fd_growth": fd_growth,
        "controller_rss_growth_mb": round(rss_growth / 2**20, 1),
        "max_loop_stall_ms": round(soak.worst_lag * 1000, 1),
        "steal_during_worst_stall_ms": round(soak.steal_in_worst, 1),
        "loop_cpu_during_worst_stall_ms": round(soak.loop_cpu_in_worst * 1000, 1),
        "controller_cpu_during_worst_stall_ms": round(soak.cpu_in_worst * 1000, 1),
        "max_loop_busy_ms": round(soak.worst_busy * 1000, 1),
        "stalls_over_100ms": soak.stalls,
        "stalls": sorted(soak.stall_log, key=lambda stall: -stall["lag_ms"])[:10],
        "gc_during_max_busy_ms": round(soak.gc_in_worst_busy * 1000, 1),
        "max_gc_pause_ms": round(soak.gc.longest * 1000, 1),
        "max_gc_pause_generation": soak.gc.longest_generation,
        "full_collections": soak.gc.full,
        "wall_s": round(time.monotonic() - started, 1),
    }
    sandbox.remove_tree(soak.trajectories)
    print(json.dumps(line))
    ok = (all(line[k] == 0 for k in ("lost_records", "leaked_processes", "leaked_cgroups", "leaked_mounts",
                                       "leaked_dirs")) and line["controller_rss_growth_mb"] <= 50
          and line["max_loop_stall_ms"] <= 100)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
