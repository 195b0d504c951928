"""``dojo-lite report``: pages of real episodes, checked in a real headless Chromium.

The episodes are real: the micro variant of ``tabular/penguins-species`` in real jails, and a
batch of the toy task through ``dojo-lite run --episodes 3 --report``.  One step of the
penguins episode is hostile: its code, its output and a file it writes carry HTML and script.
Each layer that keeps such content inert is tested on its own: the escaping (the page's HTML,
parsed here, holds no element the content tried to open), the Content-Security-Policy (a script
put into the page raw does not run), and that the page fetches nothing.
"""

from __future__ import annotations

import base64
import gzip
import html.parser
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import dojo_lite
from dojo_lite.report import render_report, write_report
from dojo_lite.report._model import Rate, read_episode

pytestmark = pytest.mark.root

CHROMIUM, CHROMEDRIVER = shutil.which("chromium") or "/usr/bin/chromium", shutil.which("chromedriver") or ""
PENGUINS = "tabular/penguins-species"
HOSTILE_OUT = '</pre><script>window.__pwned = "stdout"</script><img src=x onerror="window.__pwned=\'img\'">'
HOSTILE_FILE = "<img src=x onerror=window.__pwned=1>.txt"
HOSTILE_CODE = f'''
# </script><script>window.__pwned = "code"</script>
import shutil, sys
shutil.copy("input/sample_submission.csv", "submission.csv")
open({HOSTILE_FILE!r}, "w").close()
print({HOSTILE_OUT!r})
print({HOSTILE_OUT!r}, file=sys.stderr)
'''


def _solution(name: str) -> str:
    return (dojo_lite.find_task(PENGUINS).path / "solutions" / f"{name}.py").read_text()


@pytest.fixture(scope="module")
def penguins_trajectory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One real episode on the micro data: an error, a simple model, a stronger one, and a hostile run."""
    folder = tmp_path_factory.mktemp("trajectories")
    env = dojo_lite.DojoEnv(dojo_lite.find_task(PENGUINS), variant="micro", trajectory_dir=folder)
    try:
        env.reset(seed=7)
        actions = [{"action": "request_info", "topic": "metric"},
                   {"action": "execute_code", "code": "raise ValueError('<b>no model yet</b>')"},
                   {"action": "execute_code", "code": _solution("simple")},
                   {"action": "validate_code", "code": _solution("reference")},
                   {"action": "execute_code", "code": _solution("reference")},
                   {"action": "execute_code", "code": HOSTILE_CODE}]
        for action in actions:
            env.step(action)
    finally:
        env.close()
    (path,) = folder.rglob("*.jsonl")
    return path


@pytest.fixture(scope="module")
def batch(toy_root: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """``dojo-lite run --episodes 3 --report``: the report, the trajectory dir, and stderr."""
    folder = tmp_path_factory.mktemp("batch")
    script = folder / "solve.py"
    script.write_text("import pandas as pd\nt = pd.read_csv('input/test.csv')\n"
                      "pd.DataFrame({'id': t.id, 'y': t.x1 + t.x2 + 0.7}).to_csv('submission.csv', index=False)\n")
    out = folder / "batch.html"
    done = subprocess.run(
        [sys.executable, "-m", "dojo_lite._cli", "run", "tabular/toy-sum", "--task-path", str(toy_root),
         "--agent", f"script:{script}", "--episodes", "3", "--trajectory-dir", str(folder / "t"), "--report", str(out)],
        capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return out, folder / "t", done.stderr


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    webdriver = pytest.importorskip("selenium.webdriver")
    if not (os.path.exists(CHROMIUM) and CHROMEDRIVER):
        pytest.skip("needs Chromium and ChromeDriver (Debian: apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1300,2200", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
    driver.set_script_timeout(60)
    yield driver
    driver.quit()


def _open(browser: Any, page: Path, hash_: str = "") -> list[dict[str, Any]]:
    """Load the page, wait until its script says it is drawn, and return the console's entries."""
    browser.get_log("browser")  # drop what an earlier page logged
    browser.get(page.resolve().as_uri() + hash_)
    state = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "window.dojoReport.ready.then(() => done('ready'), (e) => done('failed: ' + e));")
    assert state == "ready"
    return list(browser.get_log("browser"))


def _errors(entries: list[dict[str, Any]]) -> list[str]:
    return [entry["message"] for entry in entries if entry["level"] == "SEVERE"]


def _chart(browser: Any, selector: str) -> dict[str, list[Any]]:
    """A drawn chart's traces, by name: what Plotly holds, i.e. what the reader sees."""
    traces = browser.execute_script(
        "return document.querySelector(arguments[0]).data.map(t => ({name: t.name, x: t.x, y: t.y}));", selector)
    return {trace["name"]: trace for trace in traces}


def test_an_episode_page_draws_every_step_and_its_numbers(browser: Any, penguins_trajectory: Path,
                                                          tmp_path: Path) -> None:
    page = write_report([penguins_trajectory], tmp_path / "one.html")
    entries = _open(browser, page)
    assert _errors(entries) == []
    steps = dojo_lite.read_trajectory(penguins_trajectory).steps
    assert browser.execute_script("return document.querySelectorAll('.js-plotly-plot').length") == 4
    assert browser.execute_script("return document.getElementById('episode').dataset.open") == "0"

    graded = [s for s in steps if s["info"].get("score") is not None]
    assert len(graded) == 3  # simple, reference, and the hostile run's sample submission
    chart = _chart(browser, ".episode-chart")
    assert chart["score"]["x"] == [s["info"]["step"] for s in graded]
    assert chart["score"]["y"] == [s["info"]["score"] for s in graded]
    assert chart["position score"]["y"] == [s["info"]["position_score"] for s in graded]
    board = dojo_lite.read_trajectory(penguins_trajectory).header["leaderboard"]
    for name in ("gold", "silver", "bronze"):
        assert chart[f"{name} threshold"]["y"] == [board[name]] * 2
    assert chart["leaderboard median"]["y"] == [board["median"]] * 2
    # the star marks the steps that moved the best score: the simple run and the reference
    assert chart["best moved"]["x"] == [3, 5]

    rows = browser.execute_script(
        "return [...document.querySelectorAll('#episode-body table.steps tbody tr')].map(r => ({"
        "step: r.dataset.step, status: r.querySelector('.status').textContent,"
        "score: r.querySelector('.score').dataset.value, moved: r.classList.contains('moved')}));")
    assert [row["step"] for row in rows] == [str(s["step"]) for s in steps]
    assert [row["status"] for row in rows] == [s["observation"]["status"] for s in steps]
    assert [row["status"] for row in rows][1] == "code_error"
    for row, step in zip(rows, steps, strict=True):
        score = step["info"].get("score")
        assert (float(row["score"]) if row["score"] else None) == score
    assert [row["moved"] for row in rows] == [False, False, True, False, True, False]

    best = dojo_lite.read_trajectory(penguins_trajectory).end["best_position_score"]
    assert _chart(browser, "[data-chart=histogram]")["episodes"]["x"] == [best]
    path = Path(os.environ.get("DOJO_REPORT_SCREENSHOTS", tmp_path)) / "report-episode.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    assert browser.save_screenshot(str(path)) and path.stat().st_size > 10_000


def test_each_run_shows_its_code_its_diff_its_outputs_and_the_feedback(browser: Any, penguins_trajectory: Path,
                                                                      tmp_path: Path) -> None:
    _open(browser, write_report([penguins_trajectory], tmp_path / "one.html"))
    runs = browser.execute_script(
        "return [...document.querySelectorAll('#episode-body details.run')].map(d => ({step: d.dataset.step,"
        "code: d.querySelector('.code').textContent, diff: (d.querySelector('.diff') || {}).textContent || null,"
        "stderr: (d.querySelector('.stderr') || {}).textContent || null,"
        "feedback: d.querySelector('.feedback').textContent}));")
    steps = {str(s["step"]): s for s in dojo_lite.read_trajectory(penguins_trajectory).steps}
    assert [run["step"] for run in runs] == ["2", "3", "4", "5", "6"]
    for run in runs:
        step = steps[run["step"]]
        assert run["code"].rstrip("\n") == step["action"]["code"].rstrip("\n")
        assert run["feedback"] == step["observation"]["feedback"]
    assert runs[0]["diff"] is None  # the first run has nothing before it
    assert "+" + _solution("simple").splitlines()[0] in runs[1]["diff"]
    assert "-raise ValueError('<b>no model yet</b>')" in runs[1]["diff"]
    assert "no model yet" in steps["2"]["observation"]["data"]["run"]["stderr_tail"]
    assert runs[0]["stderr"] == steps["2"]["observation"]["data"]["run"]["stderr_tail"]


def test_hostile_content_is_shown_as_text_and_never_runs(browser: Any, penguins_trajectory: Path,
                                                        tmp_path: Path) -> None:
    entries = _open(browser, write_report([penguins_trajectory], tmp_path / "one.html"))
    assert _errors(entries) == []
    assert browser.execute_script("return window.__pwned === undefined")
    body = browser.execute_script("return document.getElementById('episode-body').textContent")
    assert HOSTILE_OUT in body and HOSTILE_FILE in body and '</script><script>window.__pwned = "code"</script>' in body
    assert browser.execute_script(
        "const b = document.getElementById('episode-body');"
        "return b.querySelectorAll('script, img, iframe, object').length === 0 && "
        "[...b.querySelectorAll('*')].every(e => [...e.attributes].every(a => !a.name.startsWith('on')));")


class _Elements(html.parser.HTMLParser):
    """Every start tag and its attribute names, as a browser's tokenizer would see them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, [name for name, _ in attrs]))


def _elements(text: str) -> list[tuple[str, list[str]]]:
    parser = _Elements()
    parser.feed(text)
    return parser.tags


def _details(page: str) -> list[str]:
    holder = r'<script type="application/octet-stream" class="episode-data" data-episode="\d+">([^<]*)</script>'
    blobs = re.findall(holder, page)
    return [json.loads(gzip.decompress(base64.b64decode(blob)))["html"] for blob in blobs]


def test_escaping_alone_leaves_no_element_of_the_content_in_the_html(penguins_trajectory: Path) -> None:
    """Without a browser or a policy: the page's own HTML holds no tag the hostile content opened."""
    page = render_report([penguins_trajectory])
    (detail,) = _details(page)
    assert HOSTILE_FILE.replace("<", "&lt;").replace(">", "&gt;") in detail
    tags = _elements(detail)
    assert not [tag for tag, _ in tags if tag in ("script", "img", "iframe", "object")]
    assert not [(tag, names) for tag, names in tags if any(name.startswith("on") for name in names)]
    scripts = [tag for tag, _ in _elements(page) if tag == "script"]
    assert len(scripts) == 2 + 1 + 1  # plotly.js, the report's script, one task's charts, one episode


def test_the_policy_alone_stops_a_script_that_got_into_the_page(browser: Any, penguins_trajectory: Path,
                                                                tmp_path: Path) -> None:
    """Were escaping to fail, the Content-Security-Policy still runs nothing but the page's own scripts."""
    page = render_report([penguins_trajectory])
    raw = '<script>window.__pwned = "raw"</script><img src=x onerror="window.__pwned = \'onerror\'">'
    (tmp_path / "raw.html").write_text(page.replace("</main>", raw + "</main>"))
    entries = _open(browser, tmp_path / "raw.html")
    assert browser.execute_script("return window.__pwned === undefined")
    assert any("Content Security Policy" in message for message in _errors(entries))


def test_the_page_fetches_nothing(browser: Any, penguins_trajectory: Path, tmp_path: Path) -> None:
    entries = _open(browser, write_report([penguins_trajectory], tmp_path / "one.html"))
    assert _errors(entries) == []
    assert browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)") == []
    policy = browser.execute_script(
        "return document.querySelector('meta[http-equiv=Content-Security-Policy]').content")
    assert "default-src 'none'" in policy and "connect-src 'none'" in policy


def test_a_batch_report_from_run_aggregates_and_drills_down(browser: Any, batch: tuple[Path, Path, str]) -> None:
    page, folder, stderr = batch
    assert f"report: wrote {page}" in stderr
    (record_path,) = (folder / "batches").glob("batch-*.json")
    record = json.loads(record_path.read_text())
    results = [dojo_lite.read_trajectory(folder / "batches" / item) for item in record["trajectories"]]
    assert len(results) == 3

    assert _errors(_open(browser, page)) == []
    assert browser.execute_script("return document.getElementById('episode').hidden")  # nothing opened yet
    rows = browser.execute_script("return document.querySelectorAll('table.episodes tbody tr').length")
    assert rows == 3
    rates = browser.execute_script(
        "return Object.fromEntries([...document.querySelectorAll('table.rates tbody tr')].map("
        "r => [r.dataset.rate, r.cells[3].textContent]));")
    medals = sum(r.end["best_medal"] in ("gold", "silver", "bronze") for r in results)
    assert rates["any medal"] == f"{medals} / 3" and rates["valid submission"] == "3 / 3"
    runs = browser.execute_script("return document.querySelector('table.scheduler tbody tr').cells[2].textContent")
    assert runs == str(record["scheduler"]["runs"]) and record["scheduler"]["runs"] >= 6
    assert sorted(_chart(browser, "[data-chart=histogram]")["episodes"]["x"]) == sorted(
        r.end["best_position_score"] for r in results)

    browser.find_element("css selector", 'tr.episode-row[data-episode="1"]').click()
    browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "const wait = () => document.getElementById('episode').dataset.open === '1' ? done() : setTimeout(wait, 50);"
        "wait();")
    title = browser.execute_script("return document.getElementById('episode-title').textContent")
    assert title.endswith(browser.execute_script(
        "return document.querySelector('tr.episode-row[data-episode=\"1\"]').cells[1].textContent"))
    assert browser.execute_script("return document.querySelectorAll('#episode-body details.run').length") == 2
    assert _errors(list(browser.get_log("browser"))) == []
    _open(browser, page, "#episode-2")  # a link straight to an episode opens it
    assert browser.execute_script("return document.getElementById('episode').dataset.open") == "2"


def test_run_prints_the_command_that_makes_its_report(toy_root: Path, tmp_path: Path) -> None:
    script = tmp_path / "solve.py"
    script.write_text("import shutil\nshutil.copy('input/sample_submission.csv', 'submission.csv')\n")
    done = subprocess.run(
        [sys.executable, "-m", "dojo_lite._cli", "run", "tabular/toy-sum", "--task-path", str(toy_root),
         "--agent", f"script:{script}", "--trajectory-dir", str(tmp_path / "t")],
        capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    (trajectory,) = (tmp_path / "t").rglob("*.jsonl")
    assert f"report: dojo-lite report {trajectory} --out report.html" in done.stderr


def _with_header(path: Path, target: Path, **changes: Any) -> Path:
    lines = path.read_text().splitlines()
    header = {**json.loads(lines[0]), **changes}
    target.write_text("\n".join([json.dumps(header), *lines[1:]]) + "\n")
    return target


@pytest.mark.parametrize("version", [2, 0, "1", None])
def test_an_unknown_format_version_is_refused_clearly(penguins_trajectory: Path, tmp_path: Path,
                                                      version: Any) -> None:
    odd = _with_header(penguins_trajectory, tmp_path / "odd.jsonl", format=version)
    with pytest.raises(dojo_lite.TrajectoryError, match="trajectory format version"):
        dojo_lite.read_trajectory(odd)
    command = [sys.executable, "-m", "dojo_lite._cli", "report", str(odd), "--out", str(tmp_path / "r.html")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and f"format version {version!r} is not one this dojo_lite reads" in done.stderr
    assert not (tmp_path / "r.html").exists()


def test_a_header_without_a_version_is_read_as_version_1(penguins_trajectory: Path, tmp_path: Path) -> None:
    lines = penguins_trajectory.read_text().splitlines()
    header = json.loads(lines[0])
    assert header["format"] == 1  # what this dojo_lite writes
    del header["format"], header["leaderboard"]
    old = tmp_path / "old.jsonl"
    old.write_text("\n".join([json.dumps(header), *lines[1:]]) + "\n")
    episode = read_episode(old)
    assert episode.thresholds is not None  # taken from a graded step's grade
    assert episode.thresholds["gold"] == json.loads(lines[0])["leaderboard"]["gold"]


def test_a_batch_record_of_an_unknown_version_is_refused(tmp_path: Path) -> None:
    record = tmp_path / "batch-x.json"
    record.write_text(json.dumps({"type": "batch", "format": 9, "trajectories": []}))
    with pytest.raises(dojo_lite.TrajectoryError, match="format version 9"):
        render_report([record])


def test_nothing_to_report_is_an_error_not_an_empty_page(tmp_path: Path) -> None:
    with pytest.raises(dojo_lite.TrajectoryError, match="no trajectories found"):
        render_report([tmp_path])
    with pytest.raises(dojo_lite.TrajectoryError, match="no such file or folder"):
        render_report([tmp_path / "missing"])


@pytest.mark.parametrize(("hits", "n", "low", "high"), [(0, 10, 0.0, 0.2775), (10, 10, 0.7225, 1.0),
                                                        (5, 10, 0.2366, 0.7634), (1, 1, 0.2065, 1.0)])
def test_rates_carry_wilson_intervals(hits: int, n: int, low: float, high: float) -> None:
    interval = Rate(hits, n).interval
    assert interval is not None
    assert interval == pytest.approx((low, high), abs=1e-4)
    assert Rate(0, 0).interval is None and Rate(0, 0).value is None
