"""The quick soak (``benchmarks/soak.py --quick``): episodes under random faults lose no record
and leak nothing.  Its event-loop stall is printed, not asserted: on a shared 2-core machine it
swings with the host's load (see the soak's docstring and the closing notes)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
@pytest.mark.root
def test_the_quick_soak_loses_and_leaks_nothing() -> None:
    if os.geteuid() != 0:
        pytest.skip("the soak uses disk quotas (root)")
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "soak.py"), "--quick"], capture_output=True,
                         text=True, timeout=600, cwd=ROOT)
    assert out.stdout.strip(), out.stderr[-5000:]  # (it exits 1 when only the stall target is missed)
    line = json.loads(out.stdout.strip().splitlines()[-1])
    print(json.dumps(line))
    assert line["faults_injected"] >= 50 and line["steps"] >= 50, line
    for key in ("lost_records", "leaked_processes", "leaked_cgroups", "leaked_mounts", "leaked_dirs"):
        assert line[key] == 0, (key, line)
    assert line["controller_fd_growth"] <= 2, line
    assert line["controller_rss_growth_mb"] <= 50, line
