"""Isolation: network, host filesystem, environment, other episodes, escaping processes."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import select
import socket
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from jailtools import FIND_CHANNELS, Driver, assert_no_leftovers, describe

import sandbox
from sandbox import RunStatus

PROBE_HELPERS = """
import json, os

def attempt(fn):
    try:
        value = fn()
    except Exception as exc:
        return "FAILED " + type(exc).__name__
    return "OK " + repr(value)[:200]

def read(path):
    return attempt(lambda: open(path).read())
"""


def probe(body: str, **names: object) -> str:
    """Probe code: PROBE_HELPERS, ``NAME = value`` lines for ``names``, then ``body``."""
    constants = "".join(f"{key} = {value!r}\n" for key, value in names.items())
    return PROBE_HELPERS + constants + body


def succeeded(report: dict[str, str]) -> dict[str, str]:
    """The entries of a probe report that succeeded (in these tests, each one should have failed)."""
    return {key: value for key, value in report.items() if not value.startswith("FAILED")}


# ------------------------------------------------------------ network


@pytest.fixture
def host_listeners() -> Iterator[dict[str, socket.socket]]:
    """A TCP, a UDP and an abstract unix socket listening on the host's loopback."""
    tcp = socket.create_server(("127.0.0.1", 0))
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    unix.bind(f"\0dojo-test-{uuid.uuid4().hex}")
    unix.listen()
    listeners = {"tcp": tcp, "udp": udp, "unix": unix}
    yield listeners
    for sock in listeners.values():
        sock.close()


NETWORK = """
import socket

def tcp(address):
    socket.create_connection(address, timeout=2).close()

def udp(address):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.sendto(b"ping", address)
    sock.sendto(b"ping", address)

def unix(name):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(name)

report = {
    "tcp internet": attempt(lambda: tcp(("1.1.1.1", 53))),
    "tcp host loopback": attempt(lambda: tcp(("127.0.0.1", TCP_PORT))),
    "udp internet": attempt(lambda: udp(("8.8.8.8", 53))),
    "dns": attempt(lambda: socket.getaddrinfo("example.com", 443)),
    "dns pypi.org": attempt(lambda: socket.gethostbyname("pypi.org")),
    "abstract unix socket": attempt(lambda: unix(UNIX_NAME)),
}
udp_host = attempt(lambda: udp(("127.0.0.1", UDP_PORT)))
print(json.dumps({"report": report, "interfaces": [n for _, n in socket.if_nameindex()]}))
"""


def test_network_is_unreachable(bare: Driver, host_listeners: dict[str, socket.socket]) -> None:
    code = probe(NETWORK, TCP_PORT=host_listeners["tcp"].getsockname()[1],
                 UDP_PORT=host_listeners["udp"].getsockname()[1],
                 UNIX_NAME=host_listeners["unix"].getsockname())
    answer = bare.run_json(code)
    assert succeeded(answer["report"]) == {}
    assert set(answer["interfaces"]) <= {"lo"}, answer["interfaces"]
    readable, _, _ = select.select(list(host_listeners.values()), [], [], 0.2)
    assert readable == [], "a host socket heard from the jail"


# ------------------------------------------------------------ host filesystem


WRITES = """
import sys
targets = [p + "/" + NAME for p in ("/usr", "/etc", "", "/bin", "/lib", sys.prefix, sys.base_prefix,
                                    "/.sandbox", "/.sandbox/episodes", "/workspace/..", "/root")]
report = {p: attempt(lambda p=p: open(p, "w").write("x")) for p in targets}
for existing in ("/.sandbox/zygote.py", sys.executable, os.path.realpath(sys.executable), "/etc/passwd",
                 os.__file__):
    report["append " + existing] = attempt(lambda p=existing: open(p, "a").write("x"))
    report["chmod " + existing] = attempt(lambda p=existing: os.chmod(p, 0o777))
report["mkdir /usr"] = attempt(lambda: os.mkdir("/usr/" + NAME))
tmp = attempt(lambda: open("/tmp/" + NAME, "w").write("inside"))
print(json.dumps({"report": report, "tmp": tmp}))
"""


def _digest(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_writes_outside_the_work_dir_fail(bare: Driver) -> None:
    name = f"dojo-probe-{uuid.uuid4().hex}"
    guarded = [str(Path(sandbox.__file__).with_name("_zygote.py")), sys.executable, os.__file__]
    before = {path: _digest(path) for path in guarded}
    answer = bare.run_json(probe(WRITES, NAME=name))
    assert succeeded(answer["report"]) == {}
    assert answer["tmp"].startswith("OK"), "the jail's own /tmp must be writable"
    hosts = [Path(p) / name for p in ("/usr", "/etc", "/", "/bin", "/lib", sys.prefix, sys.base_prefix, "/tmp",
                                      "/root", bare.pool.directory, bare.pool.directory / "episodes")]
    assert [p for p in hosts if p.exists()] == []
    assert {path: _digest(path) for path in guarded} == before


READS = """
candidates = list(SECRETS)
for secret in SECRETS:
    candidates += ["/proc/1/root" + secret, "/proc/self/root" + secret, "/workspace/../.." + secret]
report = {path: read(path) for path in candidates}
report["list host tmp"] = attempt(lambda: [n for n in os.listdir("/tmp") if "dojo-secret" in n] or 1 / 0)
print(json.dumps(report))
"""


@pytest.fixture
def host_secrets(bare: Driver, tmp_path: Path) -> Iterator[tuple[str, list[Path]]]:
    """World-readable files on the host, outside any work dir; yields (their content, paths)."""
    content = f"secret-content-{uuid.uuid4().hex}"
    name = f"dojo-secret-{uuid.uuid4().hex}"
    paths = [Path("/root") / f".{name}", tmp_path / name, Path("/tmp") / name,
             bare.pool.directory / name, bare.pool.directory / "episodes" / name]
    for path in paths:
        path.write_text(content)
        path.chmod(0o644)
    yield content, paths
    for path in paths:
        path.unlink(missing_ok=True)


def test_host_secret_files_are_unreadable(bare: Driver, host_secrets: tuple[str, list[Path]]) -> None:
    content, paths = host_secrets
    name = paths[-1].name
    result = bare.run(probe(READS, SECRETS=[str(p) for p in paths] + [f"/.sandbox/episodes/{name}"]))
    assert result.status is RunStatus.OK, describe(result)
    assert content not in result.stdout.text + result.stderr.text
    assert succeeded(json.loads(result.stdout.text)) == {}


ENVIRON = """
import subprocess
print(json.dumps({
    "environ": dict(os.environ),
    "proc": read("/proc/self/environ"),
    "proc 1": read("/proc/1/environ"),
    "env": subprocess.run(["/usr/bin/env"], capture_output=True, text=True).stdout,
}))
"""
# What a run's environment may hold: the sandbox's fixed base, thread counts, and what the caller passed.
ALLOWED_ENV = {"PATH", "HOME", "TMPDIR", "LANG", "MPLBACKEND", "PYTHONUNBUFFERED", "OMP_NUM_THREADS",
               "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS", "CUDA_VISIBLE_DEVICES",
               "CUDA_DEVICE_ORDER", "ASKED_FOR", "LD_LIBRARY_PATH"}  # the last: a shared libpython's folder, inside


def test_controller_environment_is_not_visible(monkeypatch: pytest.MonkeyPatch,
                                               fresh_pool: Callable[..., Driver]) -> None:
    secret = f"dojo-env-{uuid.uuid4().hex}"
    monkeypatch.setenv("DOJO_SECRET", secret)
    driver = fresh_pool()
    result = driver.run(probe(ENVIRON), env={"ASKED_FOR": "visible"})
    assert result.status is RunStatus.OK, describe(result)
    answer = json.loads(result.stdout.text)
    assert answer["environ"].get("ASKED_FOR") == "visible", "control: variables passed to run() must arrive"
    assert "ASKED_FOR=visible" in answer["env"]
    assert secret not in result.stdout.text + result.stderr.text
    assert "DOJO_SECRET" not in result.stdout.text
    assert set(answer["environ"]) <= ALLOWED_ENV, set(answer["environ"]) - ALLOWED_ENV
    assert answer["environ"]["HOME"] == "/tmp"
    assert answer["environ"].get("LD_LIBRARY_PATH", "/runtime/").startswith("/runtime/")


# ------------------------------------------------------------ episodes


SNOOP = """
import ctypes, glob, socket
libc = ctypes.CDLL(None, use_errno=True)
MNT_DETACH = 2

def umount(path):
    if libc.umount2(path.encode(), MNT_DETACH) != 0:
        raise OSError(ctypes.get_errno(), "umount " + path)

def unshare():
    os.unshare(os.CLONE_NEWUSER | os.CLONE_NEWNS)

def paths():
    found = ["/.sandbox/episodes/a/" + FILE, "../a/" + FILE, "/workspace/../.sandbox/episodes/a/" + FILE,
             "/proc/1/root/.sandbox/episodes/a/" + FILE, "/proc/self/root/.sandbox/episodes/a/" + FILE,
             "/proc/1/cwd/../a/" + FILE, HOST_PATH, "/.sandbox/episodes/../episodes/a/" + FILE]
    found += [p + "/" + FILE for p in glob.glob("/proc/*/cwd")]
    found += [p + "/.sandbox/episodes/a/" + FILE for p in glob.glob("/proc/*/root")]
    return found

def snoop(label):
    for path in paths():
        report[label + " read " + path] = read(path)
    for path in ("/.sandbox/episodes", "/.sandbox/episodes/a", "../a", "/proc/1/root/.sandbox/episodes"):
        report[label + " list " + path] = attempt(lambda p=path: os.listdir(p) or 1 / 0)
    for fd in glob.glob("/proc/*/fd/*"):
        report[label + " fd " + fd] = attempt(lambda p=fd: os.readlink(p))

report = {}
snoop("plain")
for target in ("/.sandbox/episodes", "/workspace", "/.sandbox", "/proc"):
    report["umount " + target] = attempt(lambda t=target: umount(t))
snoop("after umount")
report["unshare"] = attempt(unshare)
for target in ("/.sandbox/episodes", "/workspace", "/.sandbox"):
    report["umount in new ns " + target] = attempt(lambda t=target: umount(t))
snoop("after unshare")
print(json.dumps(report))
"""


def _snoop(driver: Driver, filename: str, workdir: str) -> sandbox.RunResult:
    host_path = str(driver.pool.workdir("a") / filename)
    result = driver.run(probe(SNOOP, FILE=filename, HOST_PATH=host_path), workdir=workdir)
    assert result.status is RunStatus.OK, describe(result)
    return result


def test_episodes_cannot_see_each_other(bare: Driver) -> None:
    token = f"dojo-episode-{uuid.uuid4().hex}"
    write = bare.run(f"open('a-secret.txt', 'w').write({token!r})\nprint(open('a-secret.txt').read())", workdir="a")
    assert write.status is RunStatus.OK and write.stdout.text == token + "\n", describe(write)
    assert (bare.pool.workdir("a") / "a-secret.txt").read_text() == token
    control = json.loads(_snoop(bare, "a-secret.txt", "a").stdout.text)
    assert control["plain read /proc/self/cwd/a-secret.txt"] == f"OK {token!r}", "control: a reads its own file"
    snooped = _snoop(bare, "a-secret.txt", "b")
    assert token not in snooped.stdout.text, "episode b read episode a's file"
    report = json.loads(snooped.stdout.text)
    leaks = {k: v for k, v in succeeded(report).items() if not k.startswith("unshare") and " fd " not in k}
    assert leaks == {}, leaks
    assert not [v for v in report.values() if token in v or "a-secret" in v or "episodes/a" in v]
    assert not any(n for n in os.listdir(bare.pool.workdir("b")) if "a-secret" in n)


def test_episodes_do_not_share_tmp(bare: Driver) -> None:
    token = f"dojo-tmp-{uuid.uuid4().hex}"
    write = f"for d in ('/tmp', '/dev/shm'):\n    open(d + '/{token}', 'w').write({token!r})\n"
    assert bare.run(write, workdir="a").status is RunStatus.OK
    look = probe("print(json.dumps({d: os.listdir(d) for d in ('/tmp', '/dev/shm')}))\n")
    result = bare.run(look, workdir="b")
    assert result.status is RunStatus.OK, describe(result)
    assert token not in result.stdout.text, f"episode b sees what episode a left in /tmp: {result.stdout.text}"


CONCURRENT_SNOOP = """
import glob
seen = {}
for path in glob.glob("/proc/[0-9]*"):
    seen[path] = [read(path + "/cmdline"), attempt(lambda p=path: os.readlink(p + "/cwd")),
                  attempt(lambda p=path: os.listdir(p + "/cwd"))]
print(json.dumps(seen))
"""


@pytest.mark.slow
def test_concurrent_episodes_cannot_see_each_others_processes(fresh_pool: Callable[..., Driver]) -> None:
    driver = fresh_pool(spares=2)
    token = f"dojo-episode-{uuid.uuid4().hex}"
    holder = f"import time\nf = open('held.txt', 'w')\nf.write({token!r})\nf.flush()\ntime.sleep(1.5)\n"

    async def both() -> list[sandbox.RunResult]:
        first = asyncio.ensure_future(driver.pool.run(holder, workdir="a"))
        await asyncio.sleep(0.5)
        second = await driver.pool.run(probe(CONCURRENT_SNOOP), workdir="b")
        return [await first, second]

    a, b = driver.runner.run(both())
    assert a.status is RunStatus.OK and b.status is RunStatus.OK, (describe(a), describe(b))
    seen = json.loads(b.stdout.text)
    assert sorted(seen) == ["/proc/1", "/proc/2"], f"b sees processes that are not its own: {seen}"
    assert seen["/proc/1"][0].startswith("OK '/usr/bin/sleep") or "sleep" in seen["/proc/1"][0], seen
    assert token not in b.stdout.text and "held.txt" not in b.stdout.text


# ------------------------------------------------------------ escaping processes


DAEMONS = {
    "double-fork": """
import os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        for fd in (0, 1, 2):
            os.close(fd)
        time.sleep(1.0)
        open("/workspace/" + MARK, "w").write("escaped")
        os._exit(0)
    os._exit(0)
os.wait()
print("parent done")
""",
    "shell-background": """
import subprocess
subprocess.Popen("(sleep 1; echo escaped > /workspace/" + MARK + ") >/dev/null 2>&1 &", shell=True,
                 start_new_session=True).wait()
print("parent done")
""",
}


@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(DAEMONS))
def test_daemons_do_not_survive_the_run(bare: Driver, kind: str) -> None:
    mark = f"daemon-{uuid.uuid4().hex}"
    result = bare.run(f"MARK = {mark!r}\n" + DAEMONS[kind])
    assert result.status is RunStatus.OK, describe(result)
    assert result.stdout.text == "parent done\n"
    assert result.wall_s < 1.0, "the run waited for the daemon instead of killing it"
    assert_no_leftovers(bare.pool)
    time.sleep(1.5)
    assert not (bare.pool.workdir("w") / mark).exists(), "the daemon outlived its run"
    bare.assert_healthy()


@pytest.mark.parametrize("code", [
    "import os\nos.kill(os.getppid(), 9)\n",
    "import os\nos.kill(-1, 9)\n",
    "import os, signal\nos.killpg(0, signal.SIGKILL)\n",
    "import os, signal\nos.kill(1, signal.SIGKILL)\nprint('survived')\n",
], ids=["kill-parent", "kill-all", "killpg", "kill-pid-1"])
def test_code_that_kills_what_it_can_does_not_break_the_pool(bare: Driver, code: str) -> None:
    zygote = bare.zygote().pid
    result = bare.run(code)
    assert result.status is not RunStatus.TIMEOUT, describe(result)
    assert bare.zygote().pid == zygote, "the code killed the zygote"
    bare.assert_healthy()


def test_killing_its_own_process_group_is_not_a_sandbox_error(bare: Driver) -> None:
    # The agent is pid 2 under a waiting init: its own process group dies of the
    # signal, as in any process; its parent, outside its pid namespace, is out of reach (getppid() is 0).
    code = "import os\nprint('still here', os.getppid(), flush=True)\nos.kill(0, 15)\nprint('gone')\n"
    result = bare.run(code)
    assert result.status is RunStatus.ERROR and result.signal == 15, describe(result)
    assert result.stdout.text == "still here 0\n"
    bare.assert_healthy()


FORGE = FIND_CHANNELS + """
for fd in channels:
    for op in ("sandbox_error", "status"):
        try:
            tell(fd, json.dumps({"op": op, "text": "forged", "status": 9}).encode())
        except OSError:
            pass
print("clean exit", len(channels))
"""


def test_code_cannot_forge_its_verdict(bare: Driver) -> None:
    result = bare.run(FORGE)
    assert result.status is RunStatus.OK, describe(result)
    assert result.stdout.text == "clean exit 1\n"  # it found the channel, and forged on it


@pytest.mark.slow
def test_hidden_paths_are_empty_inside(fresh_pool: Callable[..., Driver], tmp_path: Path) -> None:
    token = f"dojo-private-{uuid.uuid4().hex}"
    (tmp_path / "public").mkdir()
    (tmp_path / "public" / "train.csv").write_text("a,b\n")
    (tmp_path / "private").mkdir()
    (tmp_path / "private" / "answers.csv").write_text(token)
    tmp_path.chmod(0o755)
    driver = fresh_pool(ro_mounts=[sandbox.Mount(tmp_path, "/data")], hidden=["/data/private"])
    look = probe("print(json.dumps({'public': attempt(lambda: os.listdir('/data/public')),"
                 " 'private': attempt(lambda: os.listdir('/data/private')),"
                 " 'answers': read('/data/private/answers.csv')}))\n")
    result = driver.run(look)
    assert result.status is RunStatus.OK, describe(result)
    report = json.loads(result.stdout.text)
    assert report["public"] == "OK ['train.csv']", "control: the mounted data is visible"
    assert report["private"] == "OK []" and report["answers"].startswith("FAILED"), report
    assert token not in result.stdout.text


@pytest.mark.parametrize("path", ["relative/path", "/", "/workspace/x", "/.sandbox"])
def test_hidden_paths_are_checked(path: str) -> None:
    with pytest.raises(sandbox.ConfigError):
        sandbox.Pool(hidden=[path])
