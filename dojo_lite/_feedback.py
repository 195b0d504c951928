"""Texts an agent reads: the task's info topics and what became of its code."""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import sandbox

from ._task import PreparedData, Task
from ._text import quote_block

__all__ = ["data_files", "describe_run", "run_data", "submission_format"]

_TAIL = 3000  # characters of each output stream an agent is shown
_FILES_SHOWN = 50  # file names of a run an observation lists
_HINTS = {
    sandbox.RunStatus.TIMEOUT: "It ran out of time: make it faster (fewer rows or features, fewer "
                            "iterations, a simpler model) or stop earlier.",
    sandbox.RunStatus.MEMORY: "It ran out of memory: load less at once, use smaller dtypes, or a "
                           "lighter model.",
    sandbox.RunStatus.OUTPUT_LIMIT: "It printed too much: print summaries, not whole frames or loops.",
    sandbox.RunStatus.DISK_LIMIT: "It ran out of disk: write fewer or smaller files (the reset action empties "
                               "the work dir).",
    sandbox.RunStatus.ERROR: "Fix the error shown above and try again.",
    sandbox.RunStatus.KILLED: "It was killed by a signal; check for crashes in native code.",
}


def data_files(data: PreparedData) -> list[dict[str, Any]]:
    """Each public file: name and size, and for CSVs rows and column types, for ``.npy`` the
    array's shape and dtype.  Read once per prepared folder (it never changes), whatever the
    number of episodes asking."""
    return copy.deepcopy(_data_files(data.public))


@functools.lru_cache(maxsize=64)
def _data_files(public: Path) -> list[dict[str, Any]]:
    return [_describe_file(path, public) for path in sorted(public.rglob("*")) if path.is_file()]


def _describe_file(path: Path, root: Path) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": str(path.relative_to(root)), "bytes": path.stat().st_size}
    if path.suffix == ".csv":
        frame = pd.read_csv(path)
        entry["rows"] = len(frame)
        entry["columns"] = {str(c): str(t) for c, t in frame.dtypes.items()}
    elif path.suffix == ".npy":
        array = np.load(path, mmap_mode="r")
        entry["shape"], entry["dtype"] = list(array.shape), str(array.dtype)
    return entry


def data_text(files: list[dict[str, Any]]) -> str:
    lines = ["Files under ./input/ (read-only; the full data for execute_code, a micro sample with the "
             "same schema for validate_code):"]
    for entry in files:
        if "columns" in entry:
            columns = ", ".join(f"{name} ({dtype})" for name, dtype in entry["columns"].items())
            lines.append(f"- {entry['name']}: {entry['rows']} rows, {entry['bytes']} bytes; columns: {columns}")
        elif "shape" in entry:
            lines.append(f"- {entry['name']}: array of shape {tuple(entry['shape'])}, dtype {entry['dtype']}")
        else:
            lines.append(f"- {entry['name']}: {entry['bytes']} bytes")
    return "\n".join(lines)


def submission_format(task: Task, data: PreparedData) -> tuple[str, dict[str, Any]]:
    """How a submission must look, with the head of ``sample_submission.csv``."""
    spec = task.grading
    head = pd.read_csv(data.public / "sample_submission.csv", nrows=5).to_csv(index=False)
    rows = len(data.answers())
    kind = {
        "label": "a label" + (f" among {list(spec.labels)}" if spec.labels else ""),
        "probability": "a probability in [0, 1]",
        "value": "a number",
    }[spec.prediction_kind.value]
    text = (f"Write ./submission.csv: a CSV with the columns {[spec.id_column, *spec.prediction_columns]}, "
            f"one row per id of the test set ({rows} rows), each prediction {kind}. "
            f"Like ./input/sample_submission.csv, which begins:\n{head}")
    return text, {"columns": [spec.id_column, *spec.prediction_columns], "rows": rows,
                  "prediction_kind": spec.prediction_kind.value, "sample_head": head}


def run_data(result: sandbox.RunResult) -> dict[str, Any]:
    """The facts of a run, for programs."""
    return {
        "status": result.status.value, "exit_code": result.exit_code, "signal": result.signal,
        "wall_s": round(result.wall_s, 3), "cpu_s": result.cpu_s, "peak_memory_bytes": result.peak_memory_bytes,
        "stdout_tail": result.stdout.text[-_TAIL:], "stderr_tail": result.stderr.text[-_TAIL:],
        "traceback": result.traceback, "files": [f.path for f in result.files[:_FILES_SHOWN]],
        "files_total": len(result.files), "files_complete": result.files_complete and len(result.files) <= _FILES_SHOWN,
        "warnings": list(result.warnings),  # guarantees that did not hold (an explicit opt-out)
    }


def _stream(name: str, output: sandbox.Output) -> str:
    """An output tail, each line quoted (``| ``): what the code printed never reads as ours."""
    if not output.text:
        return ""
    text = output.text[-_TAIL:]
    cut = output.total_bytes - len(text.encode(errors="replace"))
    label = f"{name} (last {len(text)} characters of {output.total_bytes} bytes)" if cut > 0 else name
    return f"{label}, each line behind '| ':\n{quote_block(text.rstrip())}\n"


def describe_run(result: sandbox.RunResult, where: str) -> str:
    """What happened to a run, for an agent: the verdict, output tails, the traceback, a hint."""
    if result.status is sandbox.RunStatus.OK:
        head = f"Your code ran {where} and finished in {result.wall_s:.1f} s."
    elif result.status is sandbox.RunStatus.SANDBOX_ERROR:
        head = f"The sandbox failed while running your code {where} (not your fault): {result.message}"
    else:
        head = f"Your code failed {where} after {result.wall_s:.1f} s: {result.status.value}. {result.message}".rstrip()
    parts = [head, _stream("stdout", result.stdout), _stream("stderr", result.stderr)]
    if result.traceback and result.traceback.strip()[-200:] not in result.stderr.text:
        parts.append(f"traceback, each line behind '| ':\n{quote_block(result.traceback.rstrip()[-_TAIL:])}\n")
    if result.status in _HINTS:
        parts.append(_HINTS[result.status])
    return "\n".join(p for p in parts if p)
