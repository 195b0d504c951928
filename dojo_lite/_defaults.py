"""``FROM_TASK``: the typed sentinel for "take this setting from the task"."""

from __future__ import annotations

import enum
from typing import Final

__all__ = ["FROM_TASK", "FromTask"]


class FromTask(enum.Enum):
    """The type of :data:`FROM_TASK` (a one-member enum, so type checkers can narrow on it)."""

    FROM_TASK = "from the task"

    def __repr__(self) -> str:
        return "FROM_TASK"


FROM_TASK: Final = FromTask.FROM_TASK
