"""Blocking convenience: one run in a fresh jail."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ._isolation import Isolation
from ._jail import Mount, Runtime
from ._limits import Limits
from ._pool import Pool
from ._result import RunResult


def run(
    code: str | bytes,
    *,
    limits: Limits | None = None,
    preload: Sequence[str] = (),
    ro_mounts: Sequence[Mount] = (),
    workdir: Path | None = None,
    runtime: Runtime | None = None,
    env: Mapping[str, str] | None = None,
    isolation: Isolation | str = Isolation.JAIL,
    **pool_options: Any,
) -> RunResult:
    """Run ``code`` once in a fresh jail and return its result (blocks).

    With ``workdir``, the run starts with a copy of that directory's files and
    the files it creates or changes are copied back.  ``isolation`` and the
    other keyword arguments (``disk_quota``, ``seccomp``, ...) are
    :class:`Pool`'s, and it refuses to run in the same cases.  For many runs,
    use a :class:`Pool`: this pays for a whole jail and interpreter start every call.
    """
    pool = Pool(preload=preload, limits=limits, ro_mounts=ro_mounts, runtime=runtime, env=env,
                isolation=isolation, name="once", **pool_options)
    return asyncio.run(_run_once(pool, code, workdir))


async def _run_once(pool: Pool, code: str | bytes, workdir: Path | None) -> RunResult:
    async with pool:
        inside = await pool.prepare_workdir("run")
        if workdir is not None:
            shutil.copytree(workdir, inside, dirs_exist_ok=True, symlinks=True)
            _chown_tree(inside)  # runs as uid 65534 when the controller is root, jailed or not
        result = await pool.run(code, workdir="run")
        if workdir is not None:
            for change in result.files:
                target = Path(workdir) / change.path
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(inside / change.path, target, follow_symlinks=False)
        return result


def _chown_tree(path: Path) -> None:
    import os

    from ._jail import JAIL_UID

    if os.geteuid() != 0:
        return
    for root, dirs, files in os.walk(path):
        for name in (*dirs, *files):
            os.lchown(os.path.join(root, name), JAIL_UID, JAIL_UID)
