"""The containment guarantees again, for an unprivileged user.

Disk quotas need root, so these runs say ``--no-disk-quota`` (and the tests check that
without it the CLI refuses).

As root, the tests create a user, give it a delegated cgroup parent (the
setup an admin does once per user) and make the interpreter reachable: the
pyenv interpreter lives under /root, mode 0700, so /root gets o+x (traverse,
not list) for the duration of the module.  Then the CLI runs as that user.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

USER = "sbxtest"
ROOT = Path(__file__).resolve().parents[2]
CONTROLLERS = ("memory", "pids", "cpu", "cpuacct")

pytestmark = [pytest.mark.root, pytest.mark.slow]

RunAs = Callable[..., dict[str, Any]]


def _ensure_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(USER)
    except KeyError:
        if not shutil.which("useradd"):
            pytest.skip("useradd is not available to create an unprivileged user")
        subprocess.run(["useradd", "-M", "-s", "/usr/sbin/nologin", USER], check=True)
        return pwd.getpwnam(USER)


def _delegate_cgroups(uid: int) -> list[Path]:
    made = []
    for controller in CONTROLLERS:
        base = Path("/sys/fs/cgroup") / controller
        if not (base / "cgroup.procs").exists():
            continue
        path = base / f"sandbox-{uid}"
        path.mkdir(exist_ok=True)
        for item in [path, *path.iterdir()]:
            os.chown(item, uid, -1)
        made.append(path)
    return made


@pytest.fixture(scope="module")
def user() -> Iterator[pwd.struct_passwd]:
    if os.geteuid() != 0:
        pytest.skip("needs root to create an unprivileged user")
    account = _ensure_user()
    mode = os.stat("/root").st_mode & 0o7777
    os.chmod("/root", mode | 0o001)
    try:
        yield account
    finally:
        os.chmod("/root", mode)


@pytest.fixture(scope="module")
def delegated(user: pwd.struct_passwd) -> Iterator[list[Path]]:
    made = _delegate_cgroups(user.pw_uid)
    if not made:
        pytest.skip("no cgroup v1 hierarchy to delegate on this host")
    yield made
    for path in made:
        subprocess.run(["find", str(path), "-mindepth", "1", "-type", "d", "-delete"], check=False)
        path.rmdir()


def _cli_as(user: pwd.struct_passwd, tmp: Path, env: dict[str, str], code: str,
            *args: str) -> subprocess.CompletedProcess[str]:
    script = tmp / f"script-{abs(hash(code))}.py"
    script.write_text(code)
    script.chmod(0o644)
    cmd = ["runuser", "-u", user.pw_name, "--", sys.executable, "-m", "sandbox", "run", "--json", *args, str(script)]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=tmp, env=env, timeout=120)


def _runner(user: pwd.struct_passwd, tmp: Path, env: dict[str, str], *fixed: str) -> RunAs:
    def run_as(code: str, *args: str) -> dict[str, Any]:
        out = _cli_as(user, tmp, env, code, *fixed, *args)
        lines = out.stdout.strip().splitlines()
        assert lines, out.stderr
        return dict(json.loads(lines[-1]))

    return run_as


@pytest.fixture(scope="module")
def shared_tmp(user: pwd.struct_passwd) -> Iterator[Path]:
    """A folder the user can read (pytest's own tmp folders are 0700 root)."""
    tmp = Path(tempfile.mkdtemp(prefix="sbx-unpriv-"))
    tmp.chmod(0o755)
    yield tmp
    shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="module")
def run_as(user: pwd.struct_passwd, delegated: list[Path], shared_tmp: Path) -> RunAs:
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "PYTHONPATH": str(ROOT), "DOJO_SECRET": "hunter2"}
    return _runner(user, shared_tmp, env, "--no-disk-quota")


def test_runs_jailed_with_cgroups(run_as: RunAs) -> None:
    result = run_as("print('hello')")
    assert result["status"] == "ok"
    assert result["stdout"] == "hello\n"
    assert len(result["warnings"]) == 1 and "disk_quota=None" in result["warnings"][0], result["warnings"]
    assert result["peak_memory_bytes"] > 0


def test_without_root_a_disk_quota_is_refused(user: pwd.struct_passwd, delegated: list[Path],
                                               shared_tmp: Path) -> None:
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "PYTHONPATH": str(ROOT)}
    out = _cli_as(user, shared_tmp, env, "print('must not run')")
    assert out.returncode == 2 and "must not run" not in out.stdout
    assert "disk quotas need root" in out.stderr and "disk_quota=None" in out.stderr, out.stderr


def test_agent_code_has_no_capabilities(run_as: RunAs) -> None:
    code = ("status = dict(l.split(':\\t', 1) for l in open('/proc/self/status').read().splitlines() if ':\\t' in l)\n"
            "print([status[k].strip() for k in ('CapEff', 'CapPrm', 'CapBnd', 'NoNewPrivs', 'Seccomp')])\n")
    result = run_as(code)
    assert result["stdout"] == str(["0000000000000000"] * 3 + ["1", "2"]) + "\n", result


def test_network_is_unreachable(run_as: RunAs) -> None:
    code = ("import socket\ntry:\n    socket.create_connection(('1.1.1.1', 53), timeout=2)\n"
            "    print('CONNECTED')\nexcept OSError as e:\n    print('blocked', e)\n")
    result = run_as(code)
    assert result["status"] == "ok"
    assert result["stdout"].startswith("blocked")


def test_memory_bomb_is_stopped(run_as: RunAs) -> None:
    code = "x = []\nwhile True:\n    x.append(bytearray(10**7))\n"
    result = run_as(code, "--memory", "256M", "--timeout", "30")
    assert result["status"] == "memory"


def test_busy_loop_times_out(run_as: RunAs) -> None:
    result = run_as("while True:\n    pass\n", "--timeout", "1.5")
    assert result["status"] == "timeout"
    assert 1.5 <= result["wall_s"] < 2.0


def test_host_secret_and_environment_are_hidden(run_as: RunAs, shared_tmp: Path) -> None:
    secret = shared_tmp / "secret.txt"
    secret.write_text("the answer")
    secret.chmod(0o644)  # readable by the user on the host: only the jail hides it
    code = (f"import os\ntry:\n    print(open({str(secret)!r}).read())\nexcept OSError as e:\n"
            "    print('unreadable', type(e).__name__)\nprint('env', os.environ.get('DOJO_SECRET'))\n")
    result = run_as(code)
    assert "the answer" not in result["stdout"]
    assert "unreadable" in result["stdout"]
    assert "env None" in result["stdout"]


def test_writes_outside_the_work_dir_fail(run_as: RunAs) -> None:
    code = ("import sys\nfor p in ['/etc/x', '/usr/x', sys.prefix + '/x', '/x']:\n    try:\n"
            "        open(p, 'w').write('x')\n        print('WROTE', p)\n"
            "    except OSError:\n        print('denied')\n")
    result = run_as(code)
    assert "WROTE" not in result["stdout"]
    assert result["stdout"].count("denied") == 4



@pytest.fixture(scope="module")
def undelegated_env() -> dict[str, str]:
    """The user with no delegated cgroup (a parent that does not exist)."""
    return {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "PYTHONPATH": str(ROOT),
            "SANDBOX_CGROUP_PARENT": "no-such-parent-for-tests"}


def test_without_cgroups_the_jail_refuses_and_names_the_fix(user: pwd.struct_passwd, shared_tmp: Path,
                                                             undelegated_env: dict[str, str]) -> None:
    out = _cli_as(user, shared_tmp, undelegated_env, "print('must not run')", "--no-disk-quota")
    assert out.returncode == 2
    assert "must not run" not in out.stdout
    assert "no usable cgroup" in out.stderr and "delegated cgroup parent" in out.stderr, out.stderr


@pytest.fixture(scope="module")
def run_as_unjailed(user: pwd.struct_passwd, shared_tmp: Path, undelegated_env: dict[str, str]) -> RunAs:
    """No cgroup and an explicit opt-out: ``--no-jail`` (and no quota)."""
    return _runner(user, shared_tmp, undelegated_env, "--no-jail", "--no-disk-quota")


def test_without_a_jail_it_runs_only_when_asked_and_says_so(run_as_unjailed: RunAs, user: pwd.struct_passwd) -> None:
    result = run_as_unjailed("import os\nprint(os.getuid())")
    assert result["status"] == "ok"
    assert result["stdout"] == f"{user.pw_uid}\n"
    assert any("isolation='none'" in w for w in result["warnings"])
    assert any("no usable cgroup" in w for w in result["warnings"])


def test_without_cgroups_the_rss_watchdog_still_stops_a_memory_bomb(run_as_unjailed: RunAs) -> None:
    code = "x = []\nwhile True:\n    x.append(bytearray(10**7))\n"
    result = run_as_unjailed(code, "--memory", "256M", "--timeout", "30")
    assert result["status"] == "memory"
    assert "watchdog" in result["message"]
