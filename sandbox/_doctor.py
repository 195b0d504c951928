"""``sandbox doctor``: which guarantees hold on this host, checked for real."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import attrs

from ._cgroups import CgroupHost, CgroupVersion
from ._errors import NsjailNotFound, SandboxError
from ._gpu import GpuDevice, GpuInventory, NvidiaInventory
from ._jail import find_nsjail
from ._quota import quota_problem
from ._seccomp import SeccompPolicy


@attrs.frozen
class Check:
    """One guarantee the doctor checked: whether it holds here, and what it found."""

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

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; the keys of ``python -m sandbox doctor --json``."""
        return {"ok": self.ok, "checks": [attrs.asdict(c) for c in self.checks],
                "gpus": [attrs.asdict(g) for g in self.gpus]}


    def render(self) -> str:
        lines = [f"{'ok' if c.ok else 'NO':>3}  {c.name:<22} {c.detail}" for c in self.checks]
        lines += [f"gpu  {g.index}: {g.name or g.node} {g.memory_bytes or '?'} bytes" for g in self.gpus]
        verdict = ("all guarantees hold" if self.ok
                   else "some guarantees do NOT hold: pools refuse to start until the NO lines are fixed, "
                        "or until you opt out explicitly (isolation='none', disk_quota=None)")
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
    """Install the default policy in a child process and check it refuses what it should."""
    try:
        program = SeccompPolicy.default().compile()
    except SandboxError as exc:
        return Check("seccomp", False, str(exc))
    ok, detail = _probe(
        "import ctypes, os, sandbox._zygote as z\n"
        f"z.install_seccomp(bytes.fromhex({program.hex()!r}))\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "assert libc.unshare(0x10000000) == -1 and ctypes.get_errno() == 1, 'unshare(CLONE_NEWUSER) allowed'\n"
        "print('default policy installs and refuses unshare(CLONE_NEWUSER) with EPERM')\n")
    return Check("seccomp", ok, detail or "the filter does not install")


def _quotas() -> Check:
    problem = quota_problem()
    return Check("disk quotas", problem is None, problem or "loop-mounted ext4 per work dir")


def _nsjail() -> Check:
    try:
        path = find_nsjail()
    except NsjailNotFound as exc:
        return Check("nsjail binary", False, str(exc))
    return Check("nsjail binary", True, str(path))


_JAIL_PROBE = """
import json, os, socket
try:
    socket.create_connection(("1.1.1.1", 53), timeout=1)
    net = "NETWORK REACHABLE"
except OSError:
    net = "no network"
caps = {k: v for k, v in (l.split(":\t") for l in open("/proc/self/status").read().splitlines() if ":\t" in l)}
print(json.dumps({"uid": os.getuid(), "net": net, "seccomp": caps["Seccomp"].strip(),
                  "caps": [caps[k].strip() for k in ("CapEff", "CapPrm", "CapBnd")]}))
"""


def _jail_run() -> Check:
    from ._sync import run

    try:
        result = run(_JAIL_PROBE)
    except SandboxError as exc:
        return Check("jailed run", False, str(exc).splitlines()[0])
    lines = result.stdout.text.strip().splitlines()
    if not result.ok or not lines:
        return Check("jailed run", False, f"status={result.status.value}: {result.message}")
    seen = json.loads(lines[-1])
    filtered, capless = seen["seccomp"] == "2", all(int(c, 16) == 0 for c in seen["caps"])
    ok = seen["net"] == "no network" and filtered and capless
    detail = (f"{result.wall_s * 1000:.0f} ms; {seen['net']}, seccomp filter {'on' if filtered else 'OFF'}, "
              f"capabilities {'none' if capless else seen['caps']}")
    return Check("jailed run", ok, detail)


def doctor(*, run_probe: bool = True, inventory: GpuInventory | None = None) -> HostReport:
    """Check this host.  ``run_probe`` also starts a real jail and runs code in it."""
    checks = [
        Check("root", True, "running as root" if os.geteuid() == 0
              else f"uid {os.geteuid()} (needs a delegated cgroup)"),
        _nsjail(), _user_namespaces(), _cgroups(), _seccomp(), _quotas(),
    ]
    if run_probe:
        checks.append(_jail_run())
    return HostReport(tuple(checks), tuple((inventory or NvidiaInventory()).devices()))
