"""The compiled kernel library every kernel cell calls into: built (or found in the cache) once
a process, and the one notice a run gets when it cannot be had."""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path

from fer_core.kernels import build

_said = False


@cache
def path() -> Path | str:
    """The library's path, or why it cannot be had (built now if needed)."""
    return build.library()


def available() -> bool:
    """True when the kernels are built (or could be now) and load as oneDNN 3."""
    return isinstance(path(), Path)


def unavailable_reason() -> str | None:
    """Why the stock operators are used, or None when ours are available."""
    found = path()
    return None if isinstance(found, Path) else found


def say_unavailable_once() -> None:
    """Tell the user (stderr, once a process) that the stock operators are used, and why."""
    global _said
    if not _said:
        print(f"fer-tui: fast kernels unavailable ({unavailable_reason()}); using MindSpore's", file=sys.stderr)
        _said = True
