"""Another interpreter as the runtime: the zygote is stdlib-only and runs on any Python >= 3.9."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys

import pytest

from sandbox import Pool, RunStatus, Runtime

OTHER = next((p for p in ("/usr/bin/python3.11", "/usr/bin/python3") if os.path.exists(p)), None)


@pytest.mark.skipif(OTHER is None or os.path.realpath(OTHER) == os.path.realpath(sys.executable),
                    reason="needs a second interpreter (Debian's /usr/bin/python3)")
def test_a_system_python_runs_jailed_code(runner: asyncio.Runner) -> None:
    assert OTHER is not None

    async def main() -> tuple[bool, list[RunStatus], str]:
        async with Pool(runtime=Runtime(OTHER), preload=["json", "sqlite3"]) as pool:
            ok = await pool.run("import sys, json; print(sys.version_info[:2], json.dumps([1]))", workdir="w")
            bad = await pool.run("raise KeyError('k')", workdir="w")
            return pool.jailed, [ok.status, bad.status], ok.stdout.text + (bad.traceback or "")

    jailed, statuses, text = runner.run(main())
    assert jailed
    assert statuses == [RunStatus.OK, RunStatus.ERROR]
    assert "(3, 11)" in text or "(3, " in text
    assert "KeyError: 'k'" in text


def test_a_runtime_that_does_not_exist_is_a_config_error() -> None:
    from sandbox import ConfigError

    missing = shutil.which("python3") or "/usr/bin/python3"
    with pytest.raises(ConfigError):
        Runtime(missing + "-does-not-exist").mount_dirs()
