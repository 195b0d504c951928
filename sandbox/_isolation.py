"""How much isolation a pool gives, and what to tell a user when the host cannot give it.

The sandbox fails closed: a guarantee that cannot hold is an error naming the
step that fixes it, never a silent downgrade.  Weaker modes exist only as
explicit choices (``isolation="none"``, ``disk_quota=None``, ``seccomp=None``),
and every result of such a pool lists what is not enforced.
"""

from __future__ import annotations

import enum
import os
import re

from ._cgroups import CgroupHost, CgroupVersion


class Isolation(enum.Enum):
    """``jail`` (the default): an nsjail jail with cgroup limits, a seccomp filter,
    no capabilities, and per-run namespaces; a pool refuses to start where any of
    it cannot be had.  ``none``: an explicit opt-out for hosts without a jail:
    runs are plain processes of an unprivileged user (never root) with rlimits,
    a process group, the seccomp filter, and cgroup limits where usable (else an
    RSS watchdog); nothing isolates their files, network or each other."""

    JAIL = "jail"
    NONE = "none"


UNJAILED = ("isolation='none': no jail: the filesystem, network, environment and other episodes are NOT "
            "isolated from runs; only rlimits, a process group, the seccomp filter and memory limits apply")
NO_CGROUP = "no usable cgroup: memory enforced only by an RSS watchdog; pids and CPU not limited"
NO_DISK_QUOTA = "disk_quota=None: work dirs have no disk quota (one run can fill the host's disk)"
NO_SECCOMP = "seccomp=None: no syscall filter (the kernel's whole surface is open to runs)"
NO_INIT = "no `sleep` program for the runs' init: a run is pid 1 and its signals to itself are ignored"


def cgroup_fix(host: CgroupHost) -> str:
    """The one step that gives this user a usable cgroup parent."""
    uid = os.geteuid()
    if uid == 0:
        return "mount a cgroup hierarchy with the memory controller (cgroup v2, or v1 memory, pids and cpu)"
    v1 = "; ".join(f"mkdir -p /sys/fs/cgroup/{c}/sandbox-{uid}" for c in ("memory", "pids", "cpu", "cpuacct"))
    return (f"ask root once for a delegated cgroup parent: on cgroup v1 `{v1}; chown -R {uid} "
            f"/sys/fs/cgroup/*/sandbox-{uid}`; on cgroup v2 `mkdir /sys/fs/cgroup/sandbox-{uid} && chown -R {uid} "
            f"/sys/fs/cgroup/sandbox-{uid}` (or set SANDBOX_CGROUP_PARENT to one you own)")


def refusal(what: str, fix: str) -> str:
    """The text of a refusal: what does not hold, the fix, and the explicit way out."""
    return f"{what}. Fix: {fix}. Or opt out explicitly with isolation='none' (--no-jail), which isolates nothing"


def cgroup_problem(host: CgroupHost) -> str | None:
    if host.version is CgroupVersion.NONE:
        return host.reason
    missing = {"memory", "pids", "cpu"} - host.controllers
    return f"cgroup controllers missing: {sorted(missing)}" if missing else None


_DIAGNOSES = [
    (re.compile(r"clone\(.*\) failed|CLONE_NEWUSER|uid_map|Operation not permitted", re.I),
     "the kernel refused to make the jail's namespaces: as root, enable unprivileged user namespaces "
     "(`sysctl -w user.max_user_namespaces=15000`, and on Debian/Ubuntu `sysctl -w "
     "kernel.unprivileged_userns_clone=1` or `kernel.apparmor_restrict_unprivileged_userns=0`)"),
    (re.compile(r"error while loading shared libraries|cannot open shared object", re.I),
     "the nsjail binary lacks a library: reinstall it with `python -m sandbox install-nsjail`"),
    (re.compile(r"mount\(.*\) failed|Couldn't mount", re.I),
     "a mount of the jail failed: check that the runtime and the paths given to the pool exist "
     "(`python -m sandbox doctor` says more)"),
]


def diagnose_jail(log_text: str) -> str:
    """The fix for a jail that did not start, from what nsjail logged."""
    for pattern, fix in _DIAGNOSES:
        if pattern.search(log_text):
            return fix
    return "run `python -m sandbox doctor` to see which guarantee does not hold on this host"
