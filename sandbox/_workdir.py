"""What a run created or changed in its work dir."""

from __future__ import annotations

import os
from pathlib import Path

import attrs

from ._result import FileChange

MAX_ENTRIES = 20_000


@attrs.frozen
class Snapshot:
    """(size, mtime, inode) of every file under a directory, symlinks not followed."""

    files: dict[str, tuple[int, int, int]]

    @classmethod
    def take(cls, root: Path) -> Snapshot:
        files: dict[str, tuple[int, int, int]] = {}
        stack = [str(root)]
        while stack and len(files) < MAX_ENTRIES:
            try:
                entries = list(os.scandir(stack.pop()))
            except OSError:
                continue
            for entry in entries:
                try:
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
                        continue
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                files[os.path.relpath(entry.path, root)] = (st.st_size, st.st_mtime_ns, st.st_ino)
        return cls(files)

    def changes_since(self, before: Snapshot) -> tuple[FileChange, ...]:
        return tuple(
            FileChange(path, meta[0], created=path not in before.files)
            for path, meta in sorted(self.files.items())
            if before.files.get(path) != meta
        )
