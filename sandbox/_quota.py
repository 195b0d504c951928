"""Disk quotas for work dirs: one loop-mounted ext4 file system per work dir.

A work dir with a quota is the root of a small ext4 file system kept in a
sparse image file of exactly ``DiskQuota.bytes`` bytes, with room for
``DiskQuota.files`` inodes: the kernel refuses writes past either (``ENOSPC``),
and the host's disk loses at most the image's size, whatever agent code does.
Making one costs about 15 ms (mkfs and mount); it needs root (loop devices),
``mkfs.ext4`` and ``mount``.  Where they are missing, :func:`quota_problem`
says why, and the pool refuses a quota it cannot enforce.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import logging
import os
import shutil
import subprocess
from pathlib import Path

import attrs

from ._errors import ConfigError
from ._limits import parse_size

log = logging.getLogger("sandbox")

_RESERVED_INODES = 11  # ext4's first inodes (root, journal, ...) are never free
_MIN_BYTES = 16 << 20
_MNT_DETACH = 2
_SYS_OPEN_TREE = 428  # the same number on every architecture (asm-generic, Linux 5.2)
_OPEN_TREE_CLONE = 1
_AT_FDCWD = -100
_LOOP_MAJOR = 7
_LOOP_SET_DIRECT_IO = 0x4C08  # linux/loop.h
_libc = ctypes.CDLL(None, use_errno=True)


def _direct_io(mountpoint: Path) -> None:
    """Switch the loop device under ``mountpoint`` to direct I/O, where it takes.

    Buffered, a loop device copies each write again into the host's page cache, and kernel
    threads (the loop's worker, the host's writeback) do that work outside every cgroup: a run
    that fills its quota kept them busy on 0.7-1 CPU beside it (top, on the development VM),
    and the controller's event loop waited behind them.  Direct, 1 GiB written cost the
    machine 0.44 s of CPU, not 0.95-1.1 s (dd, same VM).  A backing file system without
    ``O_DIRECT`` stays buffered: slower, the same limits.
    """
    try:
        device = os.stat(mountpoint).st_dev
        if os.major(device) != _LOOP_MAJOR:
            return
        fd = os.open(f"/dev/loop{os.minor(device)}", os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return
    try:
        fcntl.ioctl(fd, _LOOP_SET_DIRECT_IO, 1)
    except OSError as exc:
        log.debug("sandbox: the loop device of %s stays buffered (%s)", mountpoint, exc)
    finally:
        os.close(fd)


def _files(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 16:
        raise ConfigError(f"a disk quota needs room for at least 16 files, got {value!r}")
    return value


def _quota_bytes(value: str | int) -> int:
    size = parse_size(value)
    if size < _MIN_BYTES:
        raise ConfigError(f"a disk quota below {_MIN_BYTES >> 20}M cannot hold a file system, got {value!r}")
    return size


@attrs.frozen
class DiskQuota:
    """The most a work dir may hold: ``bytes`` of data (``"2G"`` works) and ``files``
    files, directories and links together."""

    bytes: int = attrs.field(default=2 << 30, converter=_quota_bytes)
    files: int = attrs.field(default=100_000, validator=lambda _i, _a, v: _files(v))


def quota_problem() -> str | None:
    """Why disk quotas cannot be enforced on this host, or None when they can."""
    if os.geteuid() != 0:
        return "disk quotas need root (each work dir is a loop-mounted file system)"
    if not os.path.exists("/dev/loop-control"):
        return "no loop devices (/dev/loop-control is missing)"
    missing = [tool for tool in ("mkfs.ext4", "mount", "umount") if not _tool(tool)]
    if missing:
        return f"{', '.join(missing)} not found (install e2fsprogs and mount)"
    return None


def _tool(name: str) -> str | None:
    return shutil.which(name, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin:/usr/bin:/bin")


@attrs.define
class LoopDisk:
    """One work dir's file system: ``image`` mounted at ``mountpoint``."""

    image: Path
    mountpoint: Path
    quota: DiskQuota
    owner: int | None = None

    @classmethod
    def create(cls, image: Path, mountpoint: Path, quota: DiskQuota, *, owner: int | None = None) -> LoopDisk:
        """Make the image, format it and mount it (blocks for about 15 ms)."""
        disk = cls(image, mountpoint, quota, owner)
        try:
            disk._format()
            mountpoint.mkdir(mode=0o700, exist_ok=True)
            disk._mount()
        except BaseException:
            disk.remove()
            raise
        return disk

    def _format(self) -> None:
        with open(self.image, "wb") as f:
            f.truncate(self.quota.bytes)  # sparse: the host pays only for what is written
        _check_call([_tool("mkfs.ext4") or "mkfs.ext4", "-q", "-F", "-O", "^has_journal,^resize_inode",
                     "-m", "0", "-I", "256", "-b", "4096", "-N", str(self.quota.files + _RESERVED_INODES),
                     "-E", "lazy_itable_init=1,nodiscard", str(self.image)])

    def _mount(self) -> None:
        # noinit_itable: the kernel must not zero the inode tables in the
        # background, which would make the sparse image take real space.
        _check_call([_tool("mount") or "mount", "-t", "ext4", "-o", "loop,nosuid,nodev,noatime,noinit_itable",
                     str(self.image), str(self.mountpoint)])
        _direct_io(self.mountpoint)
        with contextlib.suppress(FileNotFoundError):
            (self.mountpoint / "lost+found").rmdir()
        self.mountpoint.chmod(0o700)
        if self.owner is not None:
            os.chown(self.mountpoint, self.owner, self.owner)

    def wipe(self) -> None:
        """Empty the work dir, whatever the tree in it: a new file system in a new image.

        Never the old image formatted again: a run that just ended may still hold the
        old file system (its mount namespace dies a moment later), and the loop device
        of a still-mounted image would be reused, with the old contents.
        """
        old = self.image
        self.image = _next_image(old)
        try:
            self._format()
            self._unmount()
            self._mount()
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                self.image.unlink()
            self.image = old
            raise
        with contextlib.suppress(FileNotFoundError):
            old.unlink()  # its blocks are freed when the last mount of it goes

    def usage(self) -> tuple[int, int]:
        """(bytes free, files free) as the kernel counts them."""
        st = os.statvfs(self.mountpoint)
        return st.f_bavail * st.f_frsize, st.f_favail

    def full(self) -> bool:
        """True when the quota is all but used: under 5% (or 4 MiB) of the bytes, or 1% of the
        files, left.  A write that fails on it fails for want of room (a big write can get
        ENOSPC with a few MiB still free)."""
        try:
            free_bytes, free_files = self.usage()
        except OSError:
            return False
        return free_bytes < max(4 << 20, self.quota.bytes // 20) or free_files < max(16, self.quota.files // 100)

    def _unmount(self) -> None:
        # Lazy: a run still holding a clone of the mount keeps the file system
        # alive until it ends; the loop device goes with the last reference.
        if _libc.umount2(os.fsencode(self.mountpoint), _MNT_DETACH) != 0:
            err = ctypes.get_errno()
            if err not in (errno.EINVAL, errno.ENOENT):
                raise OSError(err, f"umount {self.mountpoint}: {os.strerror(err)}")

    def remove(self) -> None:
        """Unmount and delete the image; never raises (a leftover is logged)."""
        try:
            self._unmount()
        except OSError as exc:
            log.warning("sandbox: could not unmount %s: %s", self.mountpoint, exc)
        with contextlib.suppress(OSError):
            self.mountpoint.rmdir()
        with contextlib.suppress(FileNotFoundError):
            self.image.unlink()


def _next_image(image: Path) -> Path:
    """``w.img`` -> ``w.1.img`` -> ``w.2.img``: a fresh name in the same folder."""
    stem, _, count = image.stem.partition(".")
    return image.with_name(f"{stem}.{int(count or 0) + 1}.img")


def detached_tree(path: Path) -> int:
    """A detached copy of the mount at ``path`` (``open_tree(OPEN_TREE_CLONE)``), as an fd.

    A run attaches it at ``/workspace`` with ``move_mount``: the work dir
    reaches the jail without the jail ever seeing the host's directory of
    work dirs.  Needs root.
    """
    fd = _libc.syscall(ctypes.c_long(_SYS_OPEN_TREE), ctypes.c_int(_AT_FDCWD), os.fsencode(path),
                       ctypes.c_uint(_OPEN_TREE_CLONE | os.O_CLOEXEC))
    if fd < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"open_tree {path}: {os.strerror(err)}")
    return int(fd)


def unmount_below(root: Path) -> list[str]:
    """Lazily unmount every mount at or below ``root`` (a dead pool's work dirs); returns them."""
    prefix = str(root).rstrip("/") + "/"
    points = []
    with contextlib.suppress(OSError), open("/proc/self/mountinfo") as f:
        for line in f:
            point = _unescape(line.split()[4])
            if point == str(root) or point.startswith(prefix):
                points.append(point)
    for point in sorted(points, key=len, reverse=True):
        _libc.umount2(os.fsencode(point), _MNT_DETACH)
    return points


def _unescape(field: str) -> str:
    """Mount points in mountinfo escape space, tab, newline and backslash as octal."""
    return field.encode().decode("unicode_escape").encode("latin-1").decode(errors="surrogateescape")


def _check_call(argv: list[str]) -> None:
    out = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise OSError(errno.EIO, f"{' '.join(argv)} failed: {(out.stderr or out.stdout).strip()[-500:]}")
