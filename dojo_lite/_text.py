"""Agent-written text, made safe to show an agent: escaped, capped, and never mistaken for ours.

Three tools, one per place such text goes:

- :func:`quote` for one value inside a sentence of ours (a file name, a CSV header, an id):
  one line, control and invisible characters escaped, cut short, in quotes.
- :func:`quote_block` for many lines (output tails, a traceback): every line behind ``| ``,
  so that no line the agent printed can pass for the environment's own verdict.
- :func:`clean` for any text at all, last: valid UTF-8, terminal escapes and other control
  characters shown as ``\\x1b``-style escapes, newlines and tabs kept.
"""

from __future__ import annotations

import re

__all__ = ["BLOCK_PREFIX", "clean", "quote", "quote_block"]

BLOCK_PREFIX = "| "
# C0 and C1 controls but tab and newline, DEL, bidirectional overrides and isolates, zero-width
# characters and the BOM: what can move the cursor, hide text or reorder it on a reader's screen.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ud800-\udfff]")
_ONE_LINE = re.compile(_UNSAFE.pattern[:-1] + "\\\\'\n\t]")
_SIMPLE = {"\\": "\\\\", "'": "\\'", "\n": "\\n", "\t": "\\t"}


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def clean(text: str) -> str:
    """``text`` as valid UTF-8 with every unsafe character escaped (newlines and tabs kept)."""
    return _UNSAFE.sub(lambda m: _escape(m.group()), text)


def quote(value: object, limit: int = 60) -> str:
    """One agent-written value for a sentence of ours: ``'name'``, escaped to one line and cut
    to ``limit`` characters (with ``...``); the empty string shows as ``'' (empty)``."""
    text = str(value)
    if not text:
        return "'' (empty)"
    shown = _ONE_LINE.sub(lambda m: _SIMPLE.get(m.group()) or _escape(m.group()), text)
    if len(shown) > limit:
        shown = shown[: max(1, limit - 3)] + "..."
    return f"'{shown}'"


def quote_block(text: str) -> str:
    """Agent-written lines, each behind ``| `` (cleaned): the environment's own lines never are."""
    return "\n".join(BLOCK_PREFIX + line for line in clean(text).split("\n"))
