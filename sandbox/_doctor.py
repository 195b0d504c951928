"""``sandbox doctor``: which guarantees hold on this host, checked for real."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import attrs

from ._cgroups import CgroupHost, CgroupVersion
from ._errors import NsjailNotFound
from ._gpu import GpuDevice, GpuInventory, NvidiaInventory
from ._jail import find_nsjail


@attrs.frozen
class Check:
    name: str
    ok: bool
    detail: str


@attrs.frozen
class HostReport:
    """What this host can enforce.  ``ok`` is True when every guarantee holds."""

    checks: tuple[Check, ...]
    gpus: tuple[GpuDevice, ...] = ()

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "checks": [attrs.asdict(c) for c in self.checks],
                "gpus": [attrs.asdict(g) for g in self.gpus]}

    def render(self) -> str:
        lines = [f"{'ok' if c.ok else 'NO':>3}  {c.name:<22} {c.detail}" for c in self.checks]
        lines += [f"gpu  {g.index}: {g.name or g.node} {g.memory_bytes or '?'} bytes" for g in self.gpus]
        verdict = ("all guarantees hold" if self.ok
                   else "some guarantees do NOT hold: runs degrade (strict mode refuses)")
        return "\n".join([*lines, verdict])


def _probe(code: str) -> tuple[bool, str]:
    try:
        out = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as exc:
        return False, str(exc)
    lines = (out.stdout + out.stderr).strip().splitlines()
    return out.returncode == 0, lines[-1] if lines else ""


def _user_namespaces() -> Check:
    ok, detail = _probe("import os; os.unshare(os.CLONE_NEWUSER | os.CLONE_NEWNS); print('unshare works')")
    return Check("user namespaces", ok, detail or "unshare(CLONE_NEWUSER) refused")


def _cgroups() -> Check:
    host = CgroupHost.detect()
    if host.version is CgroupVersion.NONE:
        return Check("cgroups", False, host.reason)
    where = ", ".join(sorted(f"{c}={p}" for c, p in host.base.items()))
    missing = {"memory", "pids", "cpu"} - host.controllers
    detail = f"{host.version.value}, delegated parent writable: {where}"
    return Check("cgroups", not missing, detail + (f"; missing controllers {sorted(missing)}" if missing else ""))


def _seccomp() -> Check:
    with open("/proc/self/status") as f:
        status = f.read()
    line = next((x for x in status.splitlines() if x.startswith("Seccomp:")), "")
    ok = bool(line) and os.path.exists("/proc/sys/kernel/seccomp/actions_avail")
    return Check("seccomp", ok, "available (policies via Pool(seccomp_policy=...))" if ok else "not available")


def _nsjail() -> Check:
    try:
        path = find_nsjail()
    except NsjailNotFound as exc:
        return Check("nsjail binary", False, str(exc))
    return Check("nsjail binary", True, str(path))


def _jail_run() -> Check:
    from ._sync import run

    result = run("import os, socket\ntry:\n    socket.create_connection(('1.1.1.1', 53), timeout=1)\n"
                 "    print('NETWORK')\nexcept OSError:\n    print('jailed', os.getuid())\n")
    jailed = not any("no jail" in w for w in result.warnings)
    ok = result.ok and jailed and "jailed" in result.stdout.text
    detail = f"status={result.status.value} in {result.wall_s * 1000:.0f} ms; {result.stdout.text.strip()}"
    return Check("jailed run", ok, detail + ("" if jailed else "; fell back to an unjailed zygote"))


def doctor(*, run_probe: bool = True, inventory: GpuInventory | None = None) -> HostReport:
    """Check this host.  ``run_probe`` also starts a real jail and runs code in it."""
    checks = [
        Check("root", True, "running as root" if os.geteuid() == 0
              else f"uid {os.geteuid()} (needs a delegated cgroup)"),
        _nsjail(), _user_namespaces(), _cgroups(), _seccomp(),
    ]
    if run_probe:
        checks.append(_jail_run())
    return HostReport(tuple(checks), tuple((inventory or NvidiaInventory()).devices()))
