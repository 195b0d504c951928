"""The command line contract that scripts rely on."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

CONTRACT_KEYS = {"status", "exit_code", "signal", "stdout", "stderr", "traceback", "wall_s", "cpu_s",
                 "peak_memory_bytes"}


def sandbox_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sandbox", *args], capture_output=True, text=True,
                          timeout=timeout, check=False)


def last_json_line(stdout: str) -> dict[str, Any]:
    lines = stdout.rstrip("\n").splitlines()
    assert lines, "no output"
    value = json.loads(lines[-1])
    assert isinstance(value, dict)
    return value


def test_run_json_ok(tmp_path: Path) -> None:
    script = tmp_path / "job.py"
    script.write_text("import sys\nprint('hello from the jail')\nprint('warn', file=sys.stderr)\n")
    done = sandbox_cli("run", "--json", "--timeout", "5", "--memory", "512M", str(script))
    assert done.returncode == 0, done.stderr
    result = last_json_line(done.stdout)
    assert set(result) >= CONTRACT_KEYS
    assert result["status"] == "ok" and result["exit_code"] == 0 and result["signal"] is None
    assert result["stdout"] == "hello from the jail\n" and result["stderr"] == "warn\n"
    assert result["traceback"] is None
    assert 0 < result["wall_s"] < 5 and result["cpu_s"] is not None and result["peak_memory_bytes"] > 0


def test_run_json_error_and_timeout(tmp_path: Path) -> None:
    failing = tmp_path / "fail.py"
    failing.write_text("raise KeyError('missing column')\n")
    done = sandbox_cli("run", "--json", "--timeout", "5", "--memory", "512M", str(failing))
    assert done.returncode == 1
    result = last_json_line(done.stdout)
    assert result["status"] == "error" and result["exit_code"] == 1
    assert "KeyError: 'missing column'" in result["traceback"]

    sleeper = tmp_path / "sleep.py"
    sleeper.write_text("import time\ntime.sleep(30)\n")
    done = sandbox_cli("run", "--json", "--timeout", "1", "--memory", "512M", str(sleeper))
    assert done.returncode == 1
    result = last_json_line(done.stdout)
    assert result["status"] == "timeout" and 1.0 <= result["wall_s"] <= 1.5


def test_doctor_json() -> None:
    done = sandbox_cli("doctor", "--json")
    report = last_json_line(done.stdout)
    assert isinstance(report["ok"], bool) and isinstance(report["checks"], list)
    names = {check["name"] for check in report["checks"]}
    assert {"nsjail binary", "cgroups", "jailed run"} <= names
    assert done.returncode == (0 if report["ok"] else 1)
    jailed = next(c for c in report["checks"] if c["name"] == "jailed run")
    assert jailed["ok"], jailed
