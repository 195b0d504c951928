"""Removing what a crashed controller left behind: cgroups and pool dirs.

Every pool dir is named ``<controller pid>-<name>-<random>`` and its cgroup has
the same name, so a later start can tell which owners are gone.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
from pathlib import Path

import psutil

from ._cgroups import CgroupHost, CgroupVersion

log = logging.getLogger("sandbox")
_done = False


def _owner_alive(name: str) -> bool:
    pid, _, _ = name.partition("-")
    return not pid.isdigit() or psutil.pid_exists(int(pid)) or int(pid) == os.getpid()


def remove_stale(force: bool = False) -> list[str]:
    """Kill and remove pool cgroups and dirs whose controller process is gone.

    Runs once per process unless ``force``; returns what it removed.
    """
    global _done
    if _done and not force:
        return []
    _done = True
    removed: list[str] = []
    host = CgroupHost.detect()
    if host.version is not CgroupVersion.NONE:
        names = {p.name for base in set(host.base.values()) if base.is_dir() for p in base.iterdir() if p.is_dir()}
        for name in sorted(names):
            if not _owner_alive(name):
                with contextlib.suppress(OSError):
                    host.group(name).remove()
                    removed.append(f"cgroup {name}")
    root = Path(tempfile.gettempdir()) / f"sandbox-{os.geteuid()}"
    if root.is_dir():
        for path in root.iterdir():
            if path.is_dir() and not _owner_alive(path.name):
                shutil.rmtree(path, ignore_errors=True)
                removed.append(str(path))
    if removed:
        log.warning("sandbox: removed stale leftovers of dead controllers: %s", ", ".join(removed))
    return removed
