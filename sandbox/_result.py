"""What a run returns."""

from __future__ import annotations

import enum
from typing import Any

import attrs


class RunStatus(enum.Enum):
    """How a run ended.  Decided by the sandbox, never from an exit code alone."""

    OK = "ok"                          # exit code 0
    ERROR = "error"                    # non-zero exit, an exception, or a fatal signal of its own
    TIMEOUT = "timeout"                # the wall-clock limit ran out; the sandbox killed it
    MEMORY = "memory"                  # the memory limit was hit and the kernel killed it
    KILLED = "killed"                  # killed from outside for another reason (SIGKILL, cancel)
    OUTPUT_LIMIT = "output_limit"      # wrote more than Limits.output_kill_bytes
    DISK_LIMIT = "disk_limit"          # failed with its work dir's disk quota or its /tmp full
    SANDBOX_ERROR = "sandbox_error"    # the sandbox failed (the zygote died, a setup step failed)


@attrs.frozen
class Output:
    """One captured stream: head and tail kept, the middle dropped and counted."""

    text: str
    dropped_bytes: int = 0
    total_bytes: int = 0

    @property
    def truncated(self) -> bool:
        return self.dropped_bytes > 0


@attrs.frozen
class FileChange:
    """A file the run created or changed in its work dir (path relative to it)."""

    path: str
    size: int
    created: bool


@attrs.frozen(kw_only=True)
class RunResult:
    """The outcome of one run of untrusted code.

    ``exit_code`` is set when the process exited, ``signal`` when a signal killed
    it.  ``traceback`` holds the formatted traceback of an uncaught Python
    exception (``SyntaxError`` included).  ``message`` explains statuses the code
    did not cause itself (timeout, memory, sandbox errors).  ``files`` lists what the
    run created or changed in its work dir (at most 1,000; ``files_complete`` is False
    when the tree was too big to look at whole).  ``warnings`` lists
    guarantees that did not hold for this run (see ``sandbox doctor``).
    """

    status: RunStatus
    exit_code: int | None = None
    signal: int | None = None
    stdout: Output = Output("")
    stderr: Output = Output("")
    traceback: str | None = None
    message: str = ""
    wall_s: float = 0.0
    cpu_s: float | None = None
    peak_memory_bytes: int | None = None
    files: tuple[FileChange, ...] = ()
    files_complete: bool = True
    warnings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status is RunStatus.OK

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; the keys of ``python -m sandbox run --json``."""
        return {
            "status": self.status.value,
            "exit_code": self.exit_code,
            "signal": self.signal,
            "stdout": self.stdout.text,
            "stderr": self.stderr.text,
            "stdout_dropped_bytes": self.stdout.dropped_bytes,
            "stderr_dropped_bytes": self.stderr.dropped_bytes,
            "traceback": self.traceback,
            "message": self.message,
            "wall_s": round(self.wall_s, 6),
            "cpu_s": None if self.cpu_s is None else round(self.cpu_s, 6),
            "peak_memory_bytes": self.peak_memory_bytes,
            "files": [attrs.asdict(f) for f in self.files],
            "files_complete": self.files_complete,
            "warnings": list(self.warnings),
        }

