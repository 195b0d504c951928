"""Resource limits for one run, and the parsing of human sizes."""

from __future__ import annotations

import math
import re

import attrs

from ._errors import ConfigError

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def parse_size(value: str | int) -> int:
    """Bytes in ``value``: an int, or a string like ``512M``, ``2G``, ``1.5GiB``, ``4096``.

    >>> parse_size("512M"), parse_size("2G"), parse_size(10)
    (536870912, 2147483648, 10)
    """
    if isinstance(value, bool):
        raise ConfigError(f"not a size: {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise ConfigError(f"size must not be negative: {value}")
        return value
    match = _SIZE.match(str(value))
    if not match:
        raise ConfigError(f"not a size: {value!r} (try 512M or 2G)")
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()])


def _positive(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
        raise ConfigError(f"{attribute.name} must be a positive finite number, got {value!r}")


def _size(value: str | int) -> int:
    return parse_size(value)


@attrs.frozen(kw_only=True)
class Limits:
    """What one run may use.  Defaults suit ML code on a small machine.

    ``timeout`` is wall-clock seconds, enforced from outside the run with
    sub-second precision.  ``memory`` is the cgroup limit (RAM and swap
    together) in bytes; sizes may be given as ``"2G"``.  ``cpus`` is a CPU
    quota in cores.  ``output_bytes`` is how much of each of stdout and stderr
    is kept (half head, half tail); a run that writes more than
    ``output_kill_bytes`` in all is stopped with status ``output_limit``.
    ``tmp_bytes`` and ``tmp_files`` cap the run's own ``/tmp`` and ``/dev/shm``
    (each a fresh tmpfs, in memory: what they hold counts against ``memory`` too).
    """

    timeout: float = attrs.field(default=60.0, validator=_positive)
    memory: int = attrs.field(default=2 << 30, converter=_size)
    pids: int = attrs.field(default=256)
    cpus: float = attrs.field(default=1.0, validator=_positive)
    output_bytes: int = attrs.field(default=64 << 10, converter=_size)
    output_kill_bytes: int = attrs.field(default=64 << 20, converter=_size)
    max_file_size: int = attrs.field(default=8 << 30, converter=_size)
    open_files: int = attrs.field(default=4096)
    tmp_bytes: int = attrs.field(default=1 << 30, converter=_size)
    tmp_files: int = attrs.field(default=100_000)

    @tmp_files.validator
    def _check_tmp_files(self, attribute: attrs.Attribute[int], value: int) -> None:
        if value < 16:
            raise ConfigError(f"tmp_files must be at least 16, got {value}")

    def tmpfs_options(self) -> str:
        """Mount options of the run's /tmp and /dev/shm."""
        return f"size={max(1 << 20, min(self.tmp_bytes, self.memory))},nr_inodes={self.tmp_files}"

    @pids.validator
    def _check_pids(self, attribute: attrs.Attribute[int], value: int) -> None:
        if value < 1:
            raise ConfigError(f"pids must be at least 1, got {value}")

    @memory.validator
    def _check_memory(self, attribute: attrs.Attribute[int], value: int) -> None:
        if value < 16 << 20:
            raise ConfigError(f"memory below 16M cannot start Python, got {value}")

    def rlimits(self) -> dict[str, int | None]:
        """The rlimits set in the child: every one explicit, none left to nsjail's defaults."""
        return {
            "nofile": self.open_files,
            "fsize": self.max_file_size,
            "stack": 64 << 20,
            "core": 0,
            # RLIMIT_CPU is a backstop only: the wall-clock timer decides.
            "cpu": math.ceil(self.timeout * max(self.cpus, 1.0)) + 5,
            # The cgroup limits memory; an address-space limit breaks CUDA and JITs.
            "as": None,
        }
