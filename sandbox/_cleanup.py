"""Removing what a crashed controller left behind: cgroups, disks and pool dirs.

Every pool dir has a random name and holds an ``owner`` file with its
controller's pid; its cgroup has the same name.  A later start removes those
whose owner is gone.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import stat
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psutil

from ._cgroups import CgroupHost, CgroupVersion
from ._errors import HostError
from ._quota import unmount_below

log = logging.getLogger("sandbox")
_done = False


_YOUNG_S = 60.0  # a pool dir without an owner file yet may be starting right now
RUNTIME_STAGE = "runtime"  # the owner name of a process's staged runtime, beside its pools' dirs


def pool_root(*, create: bool = False) -> Path:
    """The folder of this user's pool dirs: ``.sandbox`` in the temp dir for root and
    ``.sandbox-<uid>`` for others (staged data is bound from there, so its name shows inside the
    jail: root's names no uid; the dot keeps ``import sandbox`` in the temp dir from finding it).
    With ``create``, it is made if need be and must be a directory of this user's that no one
    else can write to: else HostError, never a folder another user planted."""
    uid = os.geteuid()
    root = Path(tempfile.gettempdir()) / (".sandbox" if uid == 0 else f".sandbox-{uid}")
    if not create:
        return root
    with contextlib.suppress(FileExistsError):
        root.mkdir(mode=0o711)
    info = os.lstat(root)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != uid or info.st_mode & 0o022:
        raise HostError(f"{root} must be a directory owned by uid {uid} that only it can write to; remove it")
    return root


def _owner_alive(name: str) -> bool:
    """True while the controller that made pool ``name`` runs (or the pool is too young to tell)."""
    folder = pool_root() / name
    try:
        pid = int((folder / "owner").read_text().split()[0])
    except (FileNotFoundError, ValueError, IndexError):  # none yet, or one no controller wrote whole
        try:
            return time.time() - folder.stat().st_mtime < _YOUNG_S
        except OSError:
            return False
    except OSError:
        return False
    return pid == os.getpid() or psutil.pid_exists(pid)


def remove_stale(force: bool = False) -> list[str]:
    """Kill and remove pool cgroups and dirs whose controller process is gone.

    Runs once per process unless ``force``; returns what it removed.
    """
    global _done
    if _done and not force:
        return []
    _done = True
    removed: list[str] = []
    host = CgroupHost.detect()
    if host.version is not CgroupVersion.NONE:
        names = {p.name for base in set(host.base.values()) if base.is_dir() for p in base.iterdir() if p.is_dir()}
        for name in sorted(names):
            if not _owner_alive(name):
                with contextlib.suppress(OSError):
                    host.group(name).remove()
                    removed.append(f"cgroup {name}")
    root = pool_root()
    with contextlib.suppress(OSError):
        for path in root.iterdir():
            if path.is_dir() and not _owner_alive(path.name):
                unmount_below(path)  # the dead pool's work dir disks
                left = remove_tree(path)
                removed.append(str(path) + (f" (could not remove {len(left)} entries)" if left else ""))
    if removed:
        log.warning("sandbox: removed stale leftovers of dead controllers: %s", ", ".join(removed))
    return removed


_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def remove_tree(path: str | os.PathLike[str], *, keep_root: bool = False) -> list[str]:
    """Remove ``path`` and everything below it, whatever tree agent code made there.

    Iterative and descriptor-based: any depth (no recursion, no path longer
    than one name), any width (a directory is read once), odd names, modes
    that forbid reading or searching (fixed on the way), links never followed,
    and other file systems never entered (a mount point is unmounted when we
    may, else left).  Never raises: what cannot be removed is logged and
    returned.  ``keep_root`` empties ``path`` but keeps it.
    """
    try:
        top = os.open(path, _DIR_FLAGS)
    except FileNotFoundError:
        return []
    except OSError as exc:
        if exc.errno in (errno.ENOTDIR, errno.ELOOP):  # a file, or a link (never followed)
            return _unlink_quietly(path)
        log.warning("sandbox: cannot remove %s: %s", path, exc)
        return [os.fsdecode(path)]
    left: list[str] = []
    try:
        _empty(top, os.fstat(top).st_dev, left)
    except BaseException as exc:  # a cleanup must never stop what called it
        log.warning("sandbox: removing %s stopped: %r", path, exc)
        left.append(os.fsdecode(path))
    finally:
        os.close(top)
    if not keep_root:
        try:
            os.rmdir(path)
        except OSError as exc:
            left.append(f"{os.fsdecode(path)} ({exc.strerror})")
    if left:
        log.warning("sandbox: could not remove %d entries under %s, e.g. %s", len(left), path, left[0])
    return left


def _empty(top: int, device: int, left: list[str]) -> None:
    """Remove everything in directory ``top``, holding one descriptor at a time
    (a deep tree would exhaust them): a level's remaining names stay in memory,
    and the way back up is ``..``, checked against the inode it must be."""
    levels: list[tuple[list[str], str, tuple[int, int]]] = [(_names(top), "", _identity(top))]
    fd = os.dup(top)
    try:
        while levels:
            names, name, _ = levels[-1]
            if names:
                entry = names.pop()
                child = _enter(fd, entry, device, left)
                if child is not None:
                    levels.append((_names(child), entry, _identity(child)))
                    fd = _swap(fd, child)
                continue
            levels.pop()
            if levels:
                parent = os.open("..", _DIR_FLAGS, dir_fd=fd)
                fd = _swap(fd, parent)
                if _identity(fd) != levels[-1][2]:
                    raise OSError(errno.ESTALE, "the tree moved while it was being removed")
                _rmdir(fd, name, left)
    finally:
        os.close(fd)


def _swap(old: int, new: int) -> int:
    os.close(old)
    return new


def _identity(fd: int) -> tuple[int, int]:
    st = os.fstat(fd)
    return st.st_dev, st.st_ino


def _names(fd: int) -> list[str]:
    with os.scandir(fd) as entries:
        return [entry.name for entry in entries]


def _enter(fd: int, name: str, device: int, left: list[str]) -> int | None:
    """Unlink ``name`` in ``fd``, or open it as a directory to empty (None when done with it)."""
    try:
        st = os.stat(name, dir_fd=fd, follow_symlinks=False)
    except FileNotFoundError:
        return None
    if not stat.S_ISDIR(st.st_mode):
        _try(lambda: os.unlink(name, dir_fd=fd), name, left)
        return None
    if st.st_dev != device:
        _unmount_at(fd, name, left)
        return None
    with contextlib.suppress(OSError):
        os.rmdir(name, dir_fd=fd)
        return None
    if st.st_mode & 0o700 != 0o700:
        with contextlib.suppress(OSError):
            os.chmod(name, 0o700, dir_fd=fd, follow_symlinks=False)
    try:
        return os.open(name, _DIR_FLAGS, dir_fd=fd)
    except OSError as exc:
        left.append(f"{name!r} ({exc.strerror})")
        return None


def _rmdir(parent: int, name: str, left: list[str]) -> None:
    _try(lambda: os.rmdir(name, dir_fd=parent), name, left)


def _try(action: Callable[[], object], name: str, left: list[str]) -> None:
    try:
        action()
    except FileNotFoundError:
        pass
    except OSError as exc:
        left.append(f"{name!r} ({exc.strerror})")


def _unmount_at(fd: int, name: str, left: list[str]) -> None:
    """A mount point inside a tree: never descend into another file system."""
    path = f"/proc/self/fd/{fd}/{name}"
    try:
        target = os.path.realpath(path)
        unmount_below(Path(target))
        os.rmdir(name, dir_fd=fd)
    except OSError as exc:
        left.append(f"{name!r} (a mount point: {exc.strerror})")


def _unlink_quietly(path: str | os.PathLike[str]) -> list[str]:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as exc:
        log.warning("sandbox: cannot remove %s: %s", path, exc)
        return [os.fsdecode(path)]
    return []
