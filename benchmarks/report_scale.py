"""How ``dojo-lite report`` scales: a thousand episodes, 50 MB of trajectories.

One real episode is played on the micro variant of ``tabular/penguins-species`` (an error, the
simple solution, the reference, in real jails). Its trajectory is then copied ``--episodes``
times, each copy cut after a random number of steps (so best scores and medals spread) and each
run's code padded with a different comment block to ``--kb`` kilobytes per file (so every diff,
every colouring and the compression see distinct text).

Measured in the same run:
  baseline   reading every trajectory (``dojo_lite.read_trajectory``): the floor of any report
  report     ``dojo_lite.report.write_report`` over the whole folder: wall time, and the
             process's peak RSS growth while it ran; the page's size
  browser    in headless Chromium (when installed): the page loaded and drawn, then one
             episode opened (unpacked and drawn), and the JS heap after both

Prints a table and ends stdout with one JSON line. Targets: the page under a third of the
trajectories' size, drawn in under 10 s, an episode opened in under 1 s.

    .venv/bin/python benchmarks/report_scale.py                    # 1,000 episodes, about 50 MB
    .venv/bin/python benchmarks/report_scale.py --episodes 50 --kb 20
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from measures import progress

import dojo_lite
from dojo_lite.report import write_report

TASK = "tabular/penguins-species"
BROWSER_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1300,2000")


def play(folder: Path) -> Path:
    """One real episode on the micro data; its trajectory."""
    task = dojo_lite.find_task(TASK)
    solutions = {name: (task.path / "solutions" / f"{name}.py").read_text() for name in ("simple", "reference")}
    env = dojo_lite.DojoEnv(task, variant="micro", trajectory_dir=folder)
    try:
        env.reset(seed=0)
        for action in ({"action": "request_info", "topic": "all"},
                       {"action": "execute_code", "code": "raise SystemExit('not yet')"},
                       {"action": "execute_code", "code": solutions["simple"]},
                       {"action": "validate_code", "code": solutions["reference"]},
                       {"action": "execute_code", "code": solutions["reference"]}):
            env.step(action)
    finally:
        env.close()
    (path,) = folder.rglob("*.jsonl")
    return path


def _padded(code: str, rng: random.Random, size: int) -> str:
    """``code`` grown to about ``size`` characters with lines like its own (so it compresses like
    code does), each with a number of its own (so no two runs are the same)."""
    lines, grown = [line for line in code.splitlines() if line.strip()] or ["pass"], [code]
    total = len(code)
    while total < size:
        line = f"{rng.choice(lines)}  # variant {rng.randrange(10**6)}"
        grown.append(line)
        total += len(line) + 1
    return "\n".join(grown) + "\n"


def copies(source: Path, folder: Path, episodes: int, kb: int, seed: int) -> int:
    """Write ``episodes`` varied copies of ``source`` (each about ``kb`` kB); return their total size."""
    rng = random.Random(seed)
    header, *steps = (json.loads(line) for line in source.read_text().splitlines())
    steps = [s for s in steps if s.get("type") == "step"]
    total = 0
    for i in range(episodes):
        kept = [json.loads(json.dumps(step)) for step in steps[:rng.randint(1, len(steps))]]
        runs = [s for s in kept if isinstance(s.get("action"), dict) and "code" in s["action"]]
        room = kb * 1024 - sum(len(json.dumps(s)) for s in kept)
        for step in runs:
            step["action"]["code"] = _padded(step["action"]["code"], rng, room // len(runs))
        path = folder / f"copy{i:05d}.jsonl"
        records = [{**header, "episode_id": f"copy{i:05d}", "seed": i}, *kept]
        path.write_text("".join(json.dumps(r) + "\n" for r in records))
        total += path.stat().st_size
    return total


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def in_browser(page: Path) -> dict[str, float] | None:
    try:
        from selenium import webdriver
    except ImportError:
        return None
    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver_path):
        return None
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in BROWSER_FLAGS:
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=driver_path))
    driver.set_script_timeout(300)
    try:
        started = time.perf_counter()
        driver.get(page.resolve().as_uri())
        driver.execute_async_script("const done = arguments[arguments.length - 1]; window.dojoReport.ready.then(done);")
        drawn = time.perf_counter() - started
        started = time.perf_counter()
        last = driver.execute_script("return document.querySelectorAll('script.episode-data').length") - 1
        driver.execute_async_script("const done = arguments[arguments.length - 1];"
                                    f"window.dojoReport.openEpisode({last}).then(done);")
        opened = time.perf_counter() - started
        heap = driver.execute_script("return performance.memory ? performance.memory.usedJSHeapSize : 0")
        return {"drawn_s": drawn, "episode_open_s": opened, "js_heap_mb": heap / 2**20}
    finally:
        driver.quit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--episodes", type=int, default=1000)
    parser.add_argument("--kb", type=int, default=64, help="size of each trajectory file (kB, about)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        progress("playing one real episode")
        source = play(work / "played")
        folder = work / "copies"
        folder.mkdir()
        progress(f"writing {args.episodes} copies")
        size = copies(source, folder, args.episodes, args.kb, args.seed)
        progress("baseline: reading every trajectory")
        started = time.perf_counter()
        for path in sorted(folder.glob("*.jsonl")):
            dojo_lite.read_trajectory(path)
        read_s = time.perf_counter() - started
        progress("writing the report")
        rss_before, started = _rss_mb(), time.perf_counter()
        page = write_report([folder], work / "report.html")
        report_s, rss_growth = time.perf_counter() - started, _rss_mb() - rss_before
        page_mb = page.stat().st_size / 2**20
        progress("opening it in Chromium")
        browser = in_browser(page)
    result: dict[str, Any] = {
        "episodes": args.episodes, "trajectories_mb": round(size / 2**20, 1), "read_s": round(read_s, 2),
        "report_s": round(report_s, 2), "report_vs_read": round(report_s / read_s, 1),
        "report_rss_growth_mb": round(rss_growth, 1), "page_mb": round(page_mb, 1),
        "page_vs_trajectories": round(page_mb * 2**20 / size, 3),
        **({key: round(value, 2) for key, value in browser.items()} if browser else {"browser": None}),
    }
    width = max(map(len, result))
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
