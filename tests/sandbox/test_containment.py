"""Containment: the pool fails closed, and inside the jail the kernel is as closed as a container's.

Each layer is tested on its own where it can be switched: the seccomp filter alone is in
``test_seccomp.py``; here a pool with ``seccomp=None`` shows what the capability and
namespace-quota layers refuse by themselves.
"""

from __future__ import annotations

import asyncio
import errno
import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Callable
from pathlib import Path

import attrs
import pytest
from jailtools import BARE_LIMITS, Driver, assert_no_leftovers, describe

import sandbox
from sandbox import DiskQuota, RunStatus

# ------------------------------------------------------------ failing closed


def test_no_nsjail_binary_refuses(runner: asyncio.Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    def missing() -> Path:
        raise sandbox.NsjailNotFound("no nsjail binary (test)")

    monkeypatch.setattr("sandbox._pool.find_nsjail", missing)
    pool = sandbox.Pool(name="nonsjail")
    with pytest.raises(sandbox.NsjailNotFound):
        runner.run(pool.start())
    assert pool.closed
    with pytest.raises(sandbox.PoolClosed):
        runner.run(pool.run("print('must not run')", workdir="w"))


def test_a_jail_that_does_not_start_refuses_with_the_fix(runner: asyncio.Runner, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "nsjail"
    marker = tmp_path / "ran"
    fake.write_text(textwrap.dedent(f"""\
        #!/bin/sh
        [ "$1" = "--help" ] && exit 0
        touch {marker}
        echo "[E] clone(flags=CLONE_NEWUSER|CLONE_NEWNS) failed: Operation not permitted" >&2
        exit 1
        """))
    fake.chmod(0o755)
    monkeypatch.setattr("sandbox._pool.find_nsjail", lambda: fake)
    pool = sandbox.Pool(name="broken")
    with pytest.raises(sandbox.GuaranteeUnavailable) as caught:
        runner.run(pool.start())
    assert marker.exists(), "control: the broken binary was tried"
    text = str(caught.value)
    assert "Operation not permitted" in text and "user_namespaces" in text, text
    assert "isolation='none'" in text
    assert pool.closed


def test_unusable_cgroups_refuse_with_the_fix(runner: asyncio.Runner) -> None:
    pool = sandbox.Pool(name="nocgroup", cgroup_parent="no/such/nested/parent")
    with pytest.raises(sandbox.GuaranteeUnavailable) as caught:
        runner.run(pool.start())
    assert "no usable cgroup" in str(caught.value) and "Fix:" in str(caught.value)


def test_a_quota_that_cannot_hold_refuses(runner: asyncio.Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sandbox._pool.quota_problem", lambda: "no loop devices (test)")
    pool = sandbox.Pool(name="noquota")
    with pytest.raises(sandbox.GuaranteeUnavailable) as caught:
        runner.run(pool.start())
    assert "no loop devices" in str(caught.value) and "disk_quota=None" in str(caught.value)


def test_a_jailed_pool_has_no_warnings(bare: Driver) -> None:
    assert bare.pool.jailed and bare.pool.warnings == ()
    result = bare.run("print('jailed')")
    assert result.status is RunStatus.OK and result.warnings == (), describe(result)


def test_explicit_opt_outs_are_listed_in_every_result(fresh_pool: Callable[..., Driver]) -> None:
    driver = fresh_pool(disk_quota=None, seccomp=None)
    result = driver.run("print(1)")
    assert result.status is RunStatus.OK, describe(result)
    assert any("disk_quota=None" in w for w in result.warnings)
    assert any("seccomp=None" in w for w in result.warnings)


def test_bad_isolation_is_a_config_error() -> None:
    with pytest.raises(sandbox.ConfigError):
        sandbox.Pool(isolation="half")


# ------------------------------------------------------------ isolation="none"


@pytest.mark.root
def test_unjailed_as_root_refuses_an_unreadable_runtime(runner: asyncio.Runner) -> None:
    if all(os.stat(d).st_mode & 0o005 for d in ("/root",)) or not any(
            d.startswith("/root/") for d in sandbox.Runtime().mount_dirs()):
        pytest.skip("the runtime is readable by uid 65534 here")
    pool = sandbox.Pool(isolation="none", name="unjailed")
    with pytest.raises(sandbox.GuaranteeUnavailable) as caught:
        runner.run(pool.start())
    assert "never as root" in str(caught.value)


UNJAILED_PROBE = """
import json, os
print(json.dumps({"uid": os.getuid(), "euid": os.geteuid(), "cwd": os.getcwd(), "data": os.listdir(DATA),
                  "wrote": open("out.txt", "w").write("x")}))
"""


@pytest.mark.root
def test_unjailed_runs_never_as_root(fresh_pool: Callable[..., Driver], traversable_root: None,
                                     tmp_path_factory: pytest.TempPathFactory) -> None:
    data = tmp_path_factory.mktemp("unjailed-data")
    (data / "train.csv").write_text("a\n1\n")
    for path in (data, *data.parents):
        if path != Path("/") and str(path).startswith("/tmp"):
            path.chmod(path.stat().st_mode | 0o005)
    driver = fresh_pool(isolation="none", ro_mounts=[sandbox.Mount(data, "/data")])
    assert not driver.pool.jailed
    inside = driver.pool.agent_path("/data")
    assert inside == str(data), "without a jail, run code finds the data at its host path"
    result = driver.run(f"DATA = {inside!r}\n" + UNJAILED_PROBE)
    assert result.status is RunStatus.OK, describe(result)
    seen = json.loads(result.stdout.text)
    assert seen["uid"] == seen["euid"] == 65534
    assert seen["data"] == ["train.csv"]
    assert any("isolation='none'" in w for w in result.warnings)
    assert (driver.pool.workdir("w") / "out.txt").stat().st_uid == 65534


# ------------------------------------------------------------ capabilities and namespace quotas


STATUS_PROBE = """
import ctypes, json, os
libc = ctypes.CDLL(None, use_errno=True)
status = dict(l.split(":\\t", 1) for l in open("/proc/self/status").read().splitlines() if ":\\t" in l)
quotas = {k: open("/proc/sys/user/max_%s_namespaces" % k).read().strip()
          for k in ("user", "mnt", "pid", "net", "ipc", "uts", "cgroup")}

def unshare(flag):
    return 0 if libc.unshare(flag) == 0 else errno_name(ctypes.get_errno())

def errno_name(e):
    import errno
    return errno.errorcode.get(e, str(e))

print(json.dumps({
    "status": {k: status[k].strip() for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs",
                                              "Seccomp")},
    "securebits": libc.prctl(27, 0, 0, 0, 0),
    "quotas": quotas,
    "unshare user": unshare(0x10000000),
    "unshare net": unshare(0x40000000),
    "unshare mnt": unshare(0x00020000),
    "setuid 0 then write /etc": (os.setuid(0), os.access("/etc/passwd", os.W_OK))[1],
}))
"""


def _status_probe(driver: Driver) -> dict[str, object]:
    result = driver.run(STATUS_PROBE)
    assert result.status is RunStatus.OK, describe(result)
    return dict(json.loads(result.stdout.text))


def test_agent_code_has_no_capabilities_and_no_new_privs(bare: Driver) -> None:
    seen = _status_probe(bare)
    status = seen["status"]
    assert isinstance(status, dict)
    for field in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert int(status[field], 16) == 0, (field, status)
    assert status["NoNewPrivs"] == "1" and status["Seccomp"] == "2", status
    assert seen["securebits"] & 0x01 and seen["securebits"] & 0x02, "SECBIT_NOROOT must be set and locked"
    assert seen["setuid 0 then write /etc"] is False


def test_namespace_quotas_and_capabilities_hold_without_the_filter(fresh_pool: Callable[..., Driver]) -> None:
    # seccomp=None: what refuses here is the namespace quota (ENOSPC) and the missing capabilities (EPERM).
    seen = _status_probe(fresh_pool(seccomp=None))
    assert seen["status"]["Seccomp"] == "0", "control: no filter in this pool"  # type: ignore[index]
    assert set(seen["quotas"].values()) == {"0"}, seen["quotas"]  # type: ignore[union-attr]
    assert seen["unshare user"] == "ENOSPC", seen
    assert seen["unshare net"] == "EPERM" and seen["unshare mnt"] == "EPERM", seen


def test_with_the_filter_namespaces_are_refused_with_eperm(bare: Driver) -> None:
    seen = _status_probe(bare)
    assert seen["unshare user"] == seen["unshare net"] == seen["unshare mnt"] == "EPERM", seen


KERNEL_SURFACE = """
import ctypes, json, socket
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long

def call(*args):
    ret = libc.syscall(*[ctypes.c_long(a) if isinstance(a, int) else a for a in args])
    return "ok" if ret >= 0 else __import__("errno").errorcode.get(ctypes.get_errno(), "?")

def sock(family, kind=socket.SOCK_STREAM, proto=0):
    try:
        socket.socket(family, kind, proto).close()
        return "ok"
    except OSError as exc:
        return __import__("errno").errorcode.get(exc.errno, "?")

report = {
    "mount": call(165, b"none", b"/tmp", b"tmpfs", 0, None),
    "chroot": call(161, b"/tmp"),
    "fsopen": call(430, b"tmpfs", 0),
    "open_tree": call(428, -100, b"/tmp", 1),
    "add_key": call(248, b"user", b"k", b"v", 1, -4),
    "keyctl": call(250, 0, -4, 0, 0, 0),
    "bpf": call(321, 0, None, 0),
    "perf_event_open": call(298, None, 0, -1, -1, 0),
    "io_uring_setup": call(425, 4, None),
    "userfaultfd": call(323, 0),
    "ptrace traceme": call(101, 0, 0, 0, 0),
    "vsock": sock(40, socket.SOCK_STREAM),
    "packet": sock(17, socket.SOCK_RAW),
    "netlink netfilter": sock(16, socket.SOCK_RAW, 12),
    "inet": sock(socket.AF_INET),
    "unix": sock(socket.AF_UNIX),
}
print(json.dumps(report))
"""


@pytest.mark.skipif(os.uname().machine != "x86_64", reason="syscall numbers of x86_64")
def test_the_kernel_surface_of_a_container_is_closed(bare: Driver) -> None:
    result = bare.run(KERNEL_SURFACE)
    assert result.status is RunStatus.OK, describe(result)
    report = json.loads(result.stdout.text)
    allowed = {k: v for k, v in report.items() if v != "EPERM"}
    assert allowed == {"inet": "ok", "unix": "ok"}, report


# ------------------------------------------------------------ per-run namespaces


SHM = """
import ctypes, json, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
KEY = 0x5EC2E7
"""
SHM_WRITER = SHM + """
seg = libc.shmget(KEY, 1 << 20, 0o1666)
addr = libc.shmat(seg, None, 0)
ctypes.memmove(addr, SECRET.encode(), len(SECRET))
open("written", "w").close()
import time; time.sleep(HOLD)
print(json.dumps({"segment": seg}))
"""
SHM_READER = SHM + """
seg = libc.shmget(KEY, 0, 0o666)
print(json.dumps({"segment": seg, "errno": ctypes.get_errno()}))
"""
ABSTRACT_SERVER = """
import socket, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(NAME)
s.listen()
open("listening", "w").close()
time.sleep(HOLD)
"""
ABSTRACT_CLIENT = """
import json, socket
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    s.connect(NAME)
    print(json.dumps("CONNECTED"))
except OSError as exc:
    print(json.dumps(type(exc).__name__))
"""


async def _wait_for(path: Path) -> None:
    async with asyncio.timeout(10):
        while not path.exists():
            await asyncio.sleep(0.02)


def _concurrently(driver: Driver, holder: str, prober: str, ready: str) -> tuple[sandbox.RunResult, object]:
    async def both() -> tuple[sandbox.RunResult, sandbox.RunResult]:
        first = asyncio.ensure_future(driver.pool.run(holder, workdir="a"))
        await _wait_for(driver.pool.workdir("a") / ready)
        second = await driver.pool.run(prober, workdir="b")
        return await first, second

    a, b = driver.runner.run(both())
    assert a.status is RunStatus.OK, describe(a)
    assert b.status is RunStatus.OK, describe(b)
    return a, json.loads(b.stdout.text)


@pytest.mark.slow
def test_sysv_shared_memory_is_private_to_a_run(fresh_pool: Callable[..., Driver]) -> None:
    driver = fresh_pool(spares=2)
    secret = f"dojo-shm-{uuid.uuid4().hex}"
    _, seen = _concurrently(driver, f"SECRET = {secret!r}\nHOLD = 1.0\n" + SHM_WRITER, SHM_READER, "written")
    assert seen == {"segment": -1, "errno": errno.ENOENT}, seen
    control = driver.run(SHM + "seg = libc.shmget(KEY, 4096, 0o1666)\n"
                         "print(json.dumps({'again': libc.shmget(KEY, 0, 0o666) == seg}))\n")
    assert json.loads(control.stdout.text) == {"again": True}, "control: a run sees its own segment"
    left = driver.run(SHM_READER, workdir="c")
    assert json.loads(left.stdout.text)["segment"] == -1, "a later run sees a segment an earlier run left"


@pytest.mark.slow
def test_abstract_unix_sockets_do_not_connect_runs(fresh_pool: Callable[..., Driver]) -> None:
    driver = fresh_pool(spares=2)
    name = f"\0dojo-{uuid.uuid4().hex}"
    _, seen = _concurrently(driver, f"NAME = {name!r}\nHOLD = 1.0\n" + ABSTRACT_SERVER,
                            f"NAME = {name!r}\n" + ABSTRACT_CLIENT, "listening")
    assert seen == "ConnectionRefusedError", seen
    same_run = driver.run(f"NAME = {name!r}\nimport socket\ns = socket.socket(socket.AF_UNIX)\ns.bind(NAME)\n"
                          "s.listen()\nc = socket.socket(socket.AF_UNIX)\nc.connect(NAME)\nprint('connected')\n")
    assert same_run.stdout.text == "connected\n", describe(same_run)


def test_loopback_is_up_inside_a_run(bare: Driver) -> None:
    code = ("import socket\nsrv = socket.create_server(('127.0.0.1', 0))\n"
            "c = socket.create_connection(srv.getsockname(), timeout=2)\nconn, _ = srv.accept()\n"
            "c.sendall(b'ping')\nprint(conn.recv(4).decode(), [n for _, n in socket.if_nameindex()])\n")
    result = bare.run(code)
    assert result.status is RunStatus.OK, describe(result)
    assert result.stdout.text == "ping ['lo']\n"


# ------------------------------------------------------------ signals to itself


SIGNALS = {
    "sigterm": ("os.kill(os.getpid(), signal.SIGTERM)", signal.SIGTERM, RunStatus.ERROR),
    "sigkill": ("os.kill(os.getpid(), signal.SIGKILL)", signal.SIGKILL, RunStatus.KILLED),
    "abort": ("os.abort()", signal.SIGABRT, RunStatus.ERROR),
    "raise_signal": ("signal.raise_signal(signal.SIGUSR1)", signal.SIGUSR1, RunStatus.ERROR),
    "kill-group": ("os.kill(0, signal.SIGHUP)", signal.SIGHUP, RunStatus.ERROR),
}


@pytest.mark.parametrize("kind", sorted(SIGNALS))
def test_signals_to_itself_end_the_run_as_in_a_normal_process(bare: Driver, kind: str) -> None:
    code, signum, status = SIGNALS[kind]
    result = bare.run(f"import os, signal, time\nprint('before', flush=True)\n{code}\ntime.sleep(3)\n"
                      "print('survived')\n")
    assert result.signal == signum and result.status is status, describe(result)
    assert result.stdout.text == "before\n"
    assert result.wall_s < 2.0
    assert_no_leftovers(bare.pool)


IGNORING_CONTROLLER = """
import json, signal, sandbox
assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN, "control: this controller ignores SIGHUP"
result = sandbox.run("import os, signal, time\\nos.kill(0, signal.SIGHUP)\\ntime.sleep(3)\\nprint('survived')\\n",
                     limits=sandbox.Limits(timeout=10, memory="256M", cpus=1), disk_quota=None)
print(json.dumps({"signal": result.signal, "status": result.status.value, "stdout": result.stdout.text}))
"""


def test_agent_code_gets_fresh_signal_dispositions_whatever_the_controller_ignores() -> None:
    # A controller under nohup ignores SIGHUP; its jails must not pass that on to agent code.
    done = subprocess.run([sys.executable, "-c", IGNORING_CONTROLLER], capture_output=True, text=True, timeout=120,
                          preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN))
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"signal": signal.SIGHUP, "status": "error", "stdout": ""}, result


def test_the_run_is_pid_2_under_a_waiting_init(bare: Driver) -> None:
    code = "import os\nprint(os.getpid(), open('/proc/1/cmdline').read().split('\\0')[0].rsplit('/', 1)[-1])\n"
    result = bare.run(code)
    assert result.stdout.text == "2 sleep\n", describe(result)


# ------------------------------------------------------------ disk quotas


QUOTA = DiskQuota(bytes="64M", files=2000)
FILL_ONE_FILE = """
import json
written = 0
chunk = b"x" * (1 << 20)
try:
    with open("big.bin", "wb") as f:
        while written < (1 << 30):
            f.write(chunk)
            f.flush()
            written += len(chunk)
except OSError as exc:
    print(json.dumps({"written": written, "errno": exc.errno}), flush=True)
    raise
"""
MANY_FILES = """
import json, os
made = 0
os.mkdir("many")
try:
    for i in range(100_000):
        with open("many/%d" % i, "w") as f:
            f.write("x")
        made += 1
except OSError as exc:
    print(json.dumps({"made": made, "errno": exc.errno}), flush=True)
    raise
"""


def _last_json(result: sandbox.RunResult) -> dict[str, int]:
    return dict(json.loads(result.stdout.text.strip().splitlines()[-1]))


def _allocated(path: Path) -> int:
    return path.stat().st_blocks * 512


@pytest.fixture
def quota_pool(fresh_pool: Callable[..., Driver]) -> Driver:
    if sandbox._quota.quota_problem():
        pytest.skip(f"no disk quotas here: {sandbox._quota.quota_problem()}")
    return fresh_pool(disk_quota=QUOTA, limits=attrs.evolve(BARE_LIMITS, timeout=30))


@pytest.mark.slow
def test_one_huge_file_stops_at_the_quota(quota_pool: Driver) -> None:
    result = quota_pool.run(FILL_ONE_FILE)
    assert result.status is RunStatus.DISK_LIMIT, describe(result)
    assert "disk quota" in result.message
    seen = _last_json(result)
    assert seen["errno"] == errno.ENOSPC
    assert 48 << 20 <= seen["written"] <= 64 << 20, seen
    image = quota_pool.pool.directory / "disks" / "w.img"
    assert _allocated(image) <= QUOTA.bytes, "the host lost more than the quota"


@pytest.mark.slow
def test_a_hundred_thousand_small_files_stop_at_the_files_quota(quota_pool: Driver) -> None:
    result = quota_pool.run(MANY_FILES)
    assert result.status is RunStatus.DISK_LIMIT, describe(result)
    seen = _last_json(result)
    assert seen["errno"] == errno.ENOSPC
    # the files quota (2000, less the directory) binds long before the bytes quota (64M / 4K = 16000)
    assert QUOTA.files - 16 <= seen["made"] <= QUOTA.files + 16, seen


@pytest.mark.slow
def test_a_full_work_dir_is_emptied_and_usable_again(quota_pool: Driver) -> None:
    assert quota_pool.run(MANY_FILES).status is RunStatus.DISK_LIMIT
    quota_pool.runner.run(quota_pool.pool.clear_workdir("w"))
    assert list(quota_pool.pool.workdir("w").iterdir()) == []
    result = quota_pool.run("open('ok.txt', 'w').write('fits')\nprint('ok')\n")
    assert result.status is RunStatus.OK, describe(result)


@pytest.mark.slow
def test_work_dirs_have_their_own_quota(quota_pool: Driver) -> None:
    big = DiskQuota(bytes="96M", files=100)
    quota_pool.runner.run(quota_pool.pool.prepare_workdir("big", disk_quota=big))
    sizes = {}
    for name in ("w", "big"):
        result = quota_pool.run(FILL_ONE_FILE, workdir=name)
        assert result.status is RunStatus.DISK_LIMIT, describe(result)
        sizes[name] = _last_json(result)["written"]
    assert sizes["w"] <= 64 << 20 < sizes["big"] <= 96 << 20, sizes


def test_removing_a_work_dir_unmounts_its_disk(quota_pool: Driver) -> None:
    path = quota_pool.runner.run(quota_pool.pool.prepare_workdir("gone"))
    image = quota_pool.pool.directory / "disks" / "gone.img"
    assert image.exists() and _mounted(path), "control: the work dir is a mounted disk"
    quota_pool.runner.run(quota_pool.pool.remove_workdir("gone"))
    assert not image.exists() and not path.exists() and not _mounted(path)


def test_a_work_dirs_loop_device_writes_past_the_hosts_page_cache(quota_pool: Driver) -> None:
    """Direct I/O: what agent code writes is not copied again into the host's page cache by
    kernel threads that no cgroup limits (see ``sandbox._quota._direct_io``)."""
    disks = quota_pool.pool.directory / "disks"
    try:
        os.close(os.open(disks, os.O_RDWR | os.O_DIRECT | os.O_TMPFILE, 0o600))
    except OSError as exc:
        pytest.skip(f"the pool's folder takes no direct I/O here ({exc})")
    path = quota_pool.runner.run(quota_pool.pool.prepare_workdir("direct"))
    device = os.stat(path).st_dev
    assert os.major(device) == 7, "control: the work dir is a loop device's file system"
    assert Path(f"/sys/block/loop{os.minor(device)}/loop/dio").read_text().strip() == "1"
    assert quota_pool.run("open('f', 'wb').write(b'x' * (8 << 20))\n", workdir="direct").status is RunStatus.OK


def _mounted(path: Path) -> bool:
    return any(line.split()[4] == str(path) for line in Path("/proc/self/mountinfo").read_text().splitlines())


TMP_FILL = """
import json, os
written = 0
try:
    with open("/tmp/fill", "wb") as f:
        while True:
            f.write(b"x" * (1 << 20))
            f.flush()
            written += 1 << 20
except OSError as exc:
    print(json.dumps({"written": written, "errno": exc.errno}), flush=True)
    raise
"""


@pytest.mark.slow
def test_tmp_stops_at_its_quota(bare: Driver) -> None:
    limits = attrs.evolve(BARE_LIMITS, tmp_bytes="32M", memory="512M")
    result = bare.run(TMP_FILL, limits=limits)
    assert result.status is RunStatus.DISK_LIMIT, describe(result)
    assert "/tmp" in result.message
    seen = _last_json(result)
    assert seen["errno"] == errno.ENOSPC and 24 << 20 <= seen["written"] <= 32 << 20, seen


def test_tmp_files_stop_at_their_quota(bare: Driver) -> None:
    code = MANY_FILES.replace('"many', '"/tmp/many')
    result = bare.run(code, limits=attrs.evolve(BARE_LIMITS, tmp_files=500))
    assert result.status is RunStatus.DISK_LIMIT, describe(result)
    assert 450 <= _last_json(result)["made"] <= 500


@pytest.mark.root
def test_the_jail_never_holds_the_hosts_work_dirs(bare: Driver) -> None:
    code = "import os\nprint(os.path.exists('/.sandbox/episodes'), sorted(os.listdir('/.sandbox')))\n"
    result = bare.run(code)
    assert result.status is RunStatus.OK, describe(result)
    assert result.stdout.text.startswith("False"), result.stdout.text
    mode = stat.S_IMODE(os.stat(bare.pool.directory / "episodes").st_mode)
    assert mode & 0o007 in (0, 1), oct(mode)


@pytest.mark.slow
def test_a_nearly_full_disk_does_not_relabel_other_failures(quota_pool: Driver) -> None:
    filled = quota_pool.run(FILL_ONE_FILE)
    assert filled.status is RunStatus.DISK_LIMIT, describe(filled)
    bug = quota_pool.run("{}['missing']\n")
    assert bug.status is RunStatus.ERROR, describe(bug)
    again = quota_pool.run("open('more.bin', 'wb').write(b'x' * (8 << 20))\n")
    assert again.status is RunStatus.DISK_LIMIT, describe(again)


@pytest.mark.root
def test_mountinfo_names_no_host_path_of_the_controller(fresh_pool: Callable[..., Driver],
                                                         tmp_path_factory: pytest.TempPathFactory) -> None:
    token = f"dojo-host-{uuid.uuid4().hex}"
    data = tmp_path_factory.mktemp(token) / "public"
    data.mkdir()
    (data / "train.csv").write_text("a\n1\n")
    hidden_outside = Path("/var/tmp") / f"{token}-private"  # not under any mount: nothing to cover
    driver = fresh_pool(ro_mounts=[sandbox.Mount(data, "/data/full")], hidden=[str(hidden_outside)])
    result = driver.run("print(open('/proc/self/mountinfo').read())\nprint(open('/data/full/train.csv').read())\n")
    assert result.status is RunStatus.OK, describe(result)
    seen = result.stdout.text
    assert "a\n1\n" in seen, "control: the data is there"
    assert token not in seen, "the data's host path shows in mountinfo"
    assert str(Path(sandbox.__file__).parent) not in seen, "where sandbox is installed shows"
    assert f"/{os.getpid()}-" not in seen and str(driver.pool.directory.parent / "") in seen, \
        "pool folders are named at random (the controller's pid never shows)"
    assert "/dynamic." in seen and "zygote.py" in seen, "control: the zygote comes as content, not from a folder"
    for host in _runtime_host_paths():
        assert f"{host}/" not in seen and f"{host} " not in seen, f"the runtime's host path {host} shows"
    assert f"sandbox-{os.geteuid()}" not in seen, "the pool root names the controller's uid"


def _runtime_host_paths() -> set[str]:
    return {path for prefix in (sys.prefix, sys.base_prefix) for path in (prefix, os.path.realpath(prefix))}


RUNTIME_PROBE = """
import json, subprocess, sys, sysconfig
child = subprocess.run([sys.executable, "-c", "import sys, numpy; print(sys.prefix, numpy.__name__)"],
                       capture_output=True, text=True)
print(json.dumps({"prefix": sys.prefix, "base": sys.base_prefix, "exe": sys.executable, "path": sys.path,
                  "child": child.stdout + child.stderr, "code": child.returncode}))
"""


@pytest.mark.root
def test_the_runtime_sits_at_neutral_paths_and_still_starts_interpreters(fresh_pool: Callable[..., Driver]) -> None:
    """The controller's venv and pyenv are bound at /runtime (from staged hard links): sys.prefix,
    sys.path and mountinfo name neither; an interpreter started by agent code (joblib's workers,
    subprocess) still finds its shared libpython and the venv's packages."""
    driver = fresh_pool(preload=["numpy"])
    result = driver.run(RUNTIME_PROBE + "print(open('/proc/self/mountinfo').read())\n")
    assert result.status is RunStatus.OK, describe(result)
    first, _, mountinfo = result.stdout.text.partition("\n")
    seen = json.loads(first)
    assert seen["code"] == 0 and seen["child"].strip() == f"{seen['prefix']} numpy", seen
    assert seen["exe"].startswith("/runtime/") and seen["prefix"].startswith("/runtime/"), seen
    assert seen["base"].startswith(("/runtime/", "/usr")), seen
    for host in _runtime_host_paths() - {"/usr"}:
        assert not any(entry.startswith(host + "/") for entry in seen["path"]), (host, seen["path"])
        assert f"{host}/" not in mountinfo and f"{host} " not in mountinfo, host
    sources = [line.split()[3] for line in mountinfo.splitlines() if " /runtime/" in line]
    assert sources and all(source.startswith(str(driver.pool.directory.parent)) or source.startswith("/dynamic.")
                           for source in sources), sources
