"""Text a user or a file supplied, made safe to print on a terminal.

A CSV header, an image's file name or a sidecar's field may hold ESC, BEL or other control
characters: printed raw, `\\033]0;…\\007` sets the window title and `\\033[31m` the colours. A
file name that is not UTF-8 arrives as lone surrogates (`\\udcff`), which a UTF-8 terminal
cannot even encode. `shown()` writes every such character as a visible escape and leaves the
rest of Unicode (accents, CJK, emoji) alone. `counted()` says how many of a thing, in English.
"""

from __future__ import annotations

import os
import re

# C0 controls, DEL, C1 controls, lone surrogates (undecodable bytes of a file name), the line
# and paragraph separators (a message stays one line) and the bidirectional overrides (a name
# that reads backwards)
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # os.fsdecode's stand-in for the byte code - 0xDC00
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def shown(text: object) -> str:
    """`text` (a str, a path, bytes) with every control character written as an escape
    (`\\x1b`, `\\x00`, `\\u202e`) and undecodable bytes as `\\xff`: safe to print."""
    if isinstance(text, os.PathLike):
        text = os.fspath(text)
    if isinstance(text, bytes):
        text = text.decode("utf-8", "surrogateescape")
    return _UNSAFE.sub(_escape, str(text))


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """`1 epoch`, `3 epochs`, `0 faces`: `n` and the noun, singular only for 1."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"
