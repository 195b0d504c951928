"""What a run created or changed in its work dir."""

from __future__ import annotations

import os
from pathlib import Path

import attrs

from ._result import FileChange

MAX_ENTRIES = 20_000  # entries (files, directories, links) a snapshot looks at
MAX_CHANGES = 1_000  # changes a result lists


@attrs.frozen
class Snapshot:
    """(size, mtime, inode) of every file under a directory, symlinks not followed.

    At most ``MAX_ENTRIES`` entries of any kind are looked at (a tree of a million
    empty directories costs no more than one of twenty thousand); ``complete`` says
    whether that was all.  Taking one walks the disk: do it off the event loop.
    """

    files: dict[str, tuple[int, int, int]]
    complete: bool = True

    @classmethod
    def take(cls, root: Path, limit: int = MAX_ENTRIES) -> Snapshot:
        files: dict[str, tuple[int, int, int]] = {}
        stack, seen = [str(root)], 0
        while stack:
            try:
                with os.scandir(stack.pop()) as entries:
                    for entry in entries:
                        seen += 1
                        if seen > limit:
                            return cls(files, complete=False)
                        _record(entry, root, files, stack)
            except OSError:
                continue
        return cls(files)

    def changes_since(self, before: Snapshot) -> tuple[tuple[FileChange, ...], bool]:
        """The files created or changed since ``before`` (at most ``MAX_CHANGES``), and
        whether that list is complete."""
        changed = [path for path, meta in sorted(self.files.items()) if before.files.get(path) != meta]
        listed = tuple(FileChange(path, self.files[path][0], created=path not in before.files)
                       for path in changed[:MAX_CHANGES])
        return listed, self.complete and before.complete and len(changed) <= MAX_CHANGES


def _record(entry: os.DirEntry[str], root: Path, files: dict[str, tuple[int, int, int]], stack: list[str]) -> None:
    try:
        if entry.is_dir(follow_symlinks=False):
            stack.append(entry.path)
            return
        st = entry.stat(follow_symlinks=False)
    except OSError:
        return
    files[os.path.relpath(entry.path, root)] = (st.st_size, st.st_mtime_ns, st.st_ino)
