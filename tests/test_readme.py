"""Every Python example in README.md runs as written, on a CPU-only host like this one."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
EXAMPLES = re.findall(r"^```python\n(.*?)^```", README.read_text(), flags=re.S | re.M)


def test_the_readme_has_examples() -> None:
    assert len(EXAMPLES) >= 3, "the env, scheduler and sandbox examples"


@pytest.mark.parametrize("index", range(len(EXAMPLES)))
def test_a_readme_example_runs_as_written(index: int, tmp_path: Path) -> None:
    code = EXAMPLES[index]
    env = {**os.environ, "PYTHONPATH": ""}
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, f"example {index} failed:\n{code}\n--- stderr ---\n{done.stderr}"
    assert done.stdout.strip(), f"example {index} printed nothing:\n{code}"
    assert "Traceback" not in done.stdout + done.stderr, done.stderr
