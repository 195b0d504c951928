"""The report as one self-contained HTML page: Jinja2 templates, Plotly charts, Pygments colours.

The page aggregates first. Each episode's drill-down (its steps, code, diffs, outputs and chart)
is rendered here to escaped HTML, gzipped and embedded as base64, and only unpacked in the
browser when the reader opens that episode: a thousand episodes cost the reader one table, not a
thousand pages.

What keeps trajectory content inert, each on its own: every text is escaped (Jinja2's autoescape;
Pygments escapes the code it colours), the embedded data cannot close its element (base64, and
JSON with ``<``, ``>`` and ``&`` escaped), and the page's Content-Security-Policy lets only its
own two scripts run, by hash, and lets the page fetch nothing.
"""

from __future__ import annotations

import base64
import datetime
import difflib
import functools
import gzip
import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import jinja2
import markupsafe
import plotly.graph_objects as go
import plotly.offline
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import DiffLexer, PythonLexer

from .._errors import ConfigError
from ._model import EpisodeView, StepView, TaskSummary, TaskTally, expand_inputs, read_episode

__all__ = ["render_report", "write_report"]

_HERE = Path(__file__).parent / "templates"
_MEDAL_COLOURS = {"gold": "#c9a400", "silver": "#8a8d91", "bronze": "#a0522d", "median": "#5b6ee1"}
_FORMATTER = HtmlFormatter(cssclass="hl", nowrap=False)
_MISSING = "\N{EN DASH}"


@functools.cache
def _templates() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(_HERE), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(num=_num, pct=_pct, mb=_mb, seconds=_seconds)
    return env


def _num(value: float | None, digits: int = 4) -> str:
    return _MISSING if value is None else f"{value:.{digits}g}"


def _pct(value: float | None) -> str:
    return _MISSING if value is None else f"{100 * value:.1f}%"


def _mb(value: float | None) -> str:
    return _MISSING if value is None else f"{value / 2**20:.1f}"


def _seconds(value: float | None) -> str:
    return _MISSING if value is None else f"{value:.3f}"


@functools.lru_cache(maxsize=32)
def _colour(code: str, language: str) -> markupsafe.Markup:
    """``code`` coloured as HTML (Pygments escapes what it colours). Cached: an agent often runs
    the code it validated, and a batch of one agent repeats itself."""
    lexer = PythonLexer(stripnl=False) if language == "python" else DiffLexer(stripnl=False)
    return markupsafe.Markup(highlight(code, lexer, _FORMATTER))


def _json_for_html(value: Any) -> markupsafe.Markup:
    """JSON that cannot end the <script> element it is put in, nor open a comment or CDATA."""
    text = json.dumps(value, allow_nan=False, default=str)
    return markupsafe.Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def _figure(fig: go.Figure) -> dict[str, Any]:
    spec = fig.to_plotly_json()
    return {"data": spec["data"], "layout": spec["layout"]}


def _threshold_traces(thresholds: dict[str, float] | None, steps: Sequence[int]) -> list[dict[str, Any]]:
    if not thresholds or not steps:
        return []
    span = [min(steps), max(steps)]
    return [{"type": "scatter", "x": span, "y": [thresholds[name]] * 2, "mode": "lines", "hoverinfo": "name+y",
             "name": "leaderboard median" if name == "median" else f"{name} threshold",
             "line": {"dash": "dash" if name == "median" else "dot", "color": colour, "width": 1.5}}
            for name, colour in _MEDAL_COLOURS.items() if name in thresholds]


def _points(name: str, steps: Sequence[StepView], values: Sequence[float | None], **style: Any) -> dict[str, Any]:
    return {"type": "scatter", "name": name, "x": [s.step for s in steps], "y": list(values), **style}


def episode_chart(episode: EpisodeView) -> dict[str, Any]:
    """Score (left axis) and position score (right axis) per graded step, the leaderboard's medal
    thresholds and median, and a star where the best score moved: a Plotly figure as JSON.

    Written as Plotly's JSON, not built with ``plotly.graph_objects``: validating a figure object
    costs about 50 ms, paid once per episode of a thousand."""
    graded = [s for s in episode.steps if s.score is not None]
    moved = [s for s in graded if s.best_moved]
    steps = [s.step for s in episode.steps] or [0]
    data = [*_threshold_traces(episode.thresholds, steps),
            _points("score", graded, [s.score for s in graded], mode="lines+markers", line={"color": "#1f77b4"}),
            _points("position score", graded, [s.position_score for s in graded], mode="lines+markers", yaxis="y2",
                    line={"color": "#2ca02c", "dash": "dashdot"}),
            _points("best moved", moved, [s.score for s in moved], mode="markers",
                    marker={"symbol": "star", "size": 14, "color": "#d62728"})]
    layout = {
        "height": 340, "margin": {"l": 60, "r": 60, "t": 30, "b": 40}, "legend": {"orientation": "h", "y": -0.2},
        "xaxis": {"title": {"text": "step"}, "range": [min(steps) - 0.5, max(steps) + 0.5], "dtick": 1},
        "yaxis": _score_axis(episode),
        "yaxis2": {"title": {"text": "position score"}, "overlaying": "y", "side": "right", "range": [0, 1.05]},
    }
    return {"data": data, "layout": layout}


def _score_axis(episode: EpisodeView) -> dict[str, Any]:
    """The score axis, drawn so that up is better whatever the metric's direction."""
    metric = episode.metric or "metric"
    if episode.direction == "minimize":
        return {"title": {"text": f"score ({metric}, lower is better: axis reversed)"}, "autorange": "reversed"}
    return {"title": {"text": f"score ({metric})"}}


def _runs(steps: Sequence[StepView]) -> list[dict[str, Any]]:
    """Each step that ran code, with its code coloured and its diff against the previous run."""
    runs: list[dict[str, Any]] = []
    previous: tuple[int, str] | None = None
    for step in steps:
        if step.code is None:
            continue
        diff = None
        if previous is not None:
            lines = difflib.unified_diff(previous[1].splitlines(), step.code.splitlines(),
                                         f"step {previous[0]}", f"step {step.step}", lineterm="")
            text = "\n".join(lines)
            diff = _colour(text, "diff") if text else None
        runs.append({"step": step, "code": _colour(step.code, "python"), "diff": diff,
                     "previous": previous[0] if previous else None})
        previous = step.step, step.code
    return runs


def _detail(episode: EpisodeView) -> str:
    """An episode's drill-down, gzipped JSON in base64 (nothing in it can end its element)."""
    html = _templates().get_template("episode.html.j2").render(episode=episode, runs=_runs(episode.steps))
    payload = json.dumps({"html": html, "chart": episode_chart(episode)}, allow_nan=False, default=str)
    return base64.b64encode(gzip.compress(payload.encode("utf-8"), compresslevel=6, mtime=0)).decode("ascii")


def _task_charts(summary: TaskSummary, tally: TaskTally) -> dict[str, Any]:
    """A task's aggregate charts: the distribution of best position scores, wall time per action,
    and the mean best position score reached after each step."""
    hist = go.Figure(go.Histogram(x=list(summary.best_position_scores), xbins={"start": 0, "end": 1.0001, "size": 0.05},
                                  name="episodes", marker={"color": "#1f77b4"}))
    hist.update_layout(height=300, margin={"l": 50, "r": 20, "t": 30, "b": 40}, bargap=0.05,
                       xaxis={"title": {"text": "best position score"}, "range": [0, 1.02]},
                       yaxis={"title": {"text": "episodes"}})
    times = go.Figure([go.Box(y=tally.walls[action], name=action, boxpoints=False) for action in sorted(tally.walls)])
    times.update_layout(height=300, margin={"l": 50, "r": 20, "t": 30, "b": 40}, showlegend=False,
                        yaxis={"title": {"text": "wall seconds per step"}, "type": "log"})
    curve = _mean_curve(tally.curves)
    progress = go.Figure(go.Scatter(x=list(range(1, len(curve) + 1)), y=curve, mode="lines+markers",
                                    name="mean best position score"))
    progress.update_layout(height=300, margin={"l": 50, "r": 20, "t": 30, "b": 40},
                           xaxis={"title": {"text": "step"}}, yaxis={"title": {"text": "mean best position score"},
                                                                     "range": [0, 1.05]})
    return {"histogram": _figure(hist), "times": _figure(times), "progress": _figure(progress)}


def _mean_curve(curves: Sequence[Sequence[float]]) -> list[float]:
    """The mean over episodes of the best position score after each step (an episode that ended
    keeps its last value)."""
    longest = max((len(c) for c in curves), default=0)
    return [sum(c[min(i, len(c) - 1)] if c else 0.0 for c in curves) / len(curves) for i in range(longest)]


def _scripts() -> tuple[str, str]:
    return plotly.offline.get_plotlyjs(), (_HERE / "report.js").read_text(encoding="utf-8")


def _hash(script: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii") + "'"


def render_report(paths: Iterable[str | os.PathLike[str]], *, title: str | None = None) -> str:
    """The report of the trajectories (files, folders of them, batch records) as one HTML page.

    Raises :class:`~dojo_lite.TrajectoryError` for a path that does not exist, nothing to report,
    or a trajectory whose format version this dojo_lite does not know."""
    paths = list(paths)
    files, batches = expand_inputs(paths)
    tallies: dict[str, TaskTally] = {}
    details: list[str] = []
    for path in files:
        episode = read_episode(path)
        tally = tallies.setdefault(episode.task, TaskTally(episode.task))
        tally.add(episode, index=len(details))
        details.append(_detail(episode))
    tasks = []
    for name in sorted(tallies):
        summary = tallies[name].summary(batches)
        tasks.append({"summary": summary, "index": tallies[name].indices,
                      "charts": _json_for_html(_task_charts(summary, tallies[name]))})
    plotly_js, report_js = _scripts()
    page = _templates().get_template("report.html.j2")
    return page.render(
        title=title or "dojo_lite report", tasks=tasks, details=details, episodes=len(details),
        generated=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        inputs=[str(p) for p in paths], plotly_js=markupsafe.Markup(plotly_js), report_js=markupsafe.Markup(report_js),
        script_hashes=" ".join((_hash(plotly_js), _hash(report_js))), pygments_css=_FORMATTER.get_style_defs(".hl"),
        css=(_HERE / "report.css").read_text(encoding="utf-8"),
    )


def write_report(paths: Iterable[str | os.PathLike[str]], out: str | os.PathLike[str], *,
                 title: str | None = None) -> Path:
    """Write :func:`render_report`'s page to ``out`` (written aside, then renamed into place) and
    return its path. Raises :class:`~dojo_lite.ConfigError` when ``out`` cannot be written."""
    html = render_report(paths, title=title)
    target = Path(out)
    partial = target.with_name(target.name + ".partial")
    try:
        partial.write_text(html, encoding="utf-8")
        partial.replace(target)
    except OSError as exc:
        raise ConfigError(f"cannot write the report to {target}: {exc}") from exc
    return target
