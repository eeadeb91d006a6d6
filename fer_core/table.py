"""A plain-text table that fits the terminal: `fer-tui runs`, `queue` and `checkpoints`.

At 80 columns over SSH a wider row wraps and the table stops reading as one. `fit` lays the
rows out in as few columns as still fit: a column that is `-` on every row goes first, then
long cells are shortened with `…` down to their column's `min_width`, and only when that is
not enough are the least needed columns left out (highest `drop` first). A column with
`keep` is never left out. Without a width (the output is not a terminal) every column is
printed whole, as scripts have always read it.
"""

from __future__ import annotations

import re
import shutil
import sys
import textwrap
from dataclasses import dataclass
from typing import Literal

ELLIPSIS = "…"


@dataclass(frozen=True)
class Column:
    header: str
    right: bool = False  # numbers: aligned right
    keep: bool = False  # never left out (the columns that say which row and how good)
    drop: int = 0  # left out highest first when shortening is not enough; 0: never
    min_width: int | None = None  # shortened with … down to this; None: never shortened
    # middle keeps both ends; run: a run id loses its date first, then its middle (its time of
    # day and name are what tell it apart, and a unique end is what stop and --resume take)
    cut: Literal["end", "middle", "run"] = "end"


_DATED = re.compile(r"\d{8}-\d{6}-")  # a run id: date-time-name


def terminal_width() -> int | None:
    """The terminal's width when stdout is one, else None (piped: rows are printed whole)."""
    return shutil.get_terminal_size().columns if sys.stdout.isatty() else None


def shorten(text: str, width: int, cut: str = "end") -> str:
    if len(text) <= width:
        return text
    if width <= 1:
        return ELLIPSIS[:width]
    if cut == "run" and _DATED.match(text):
        return shorten(text[9:], width, "middle")
    if cut in ("middle", "run"):
        head = width // 2
        return text[:head] + ELLIPSIS + text[len(text) - (width - 1 - head) :]
    return text[: width - 1] + ELLIPSIS


def note(text: str, width: int | None, indent: str = "  └ ") -> list[str]:
    """A message under a row (a failure's reason), wrapped to `width` when there is one."""
    if width is None:
        return [indent + text]
    return textwrap.wrap(text, width, initial_indent=indent, subsequent_indent=" " * len(indent)) or [indent]


def common_date(run_ids: list[str]) -> str:
    """`20261128` when every dated run id starts with that date (`20261128-001946-demo`), else
    ''. Undated names (the shipped models' folders) keep their name and do not count."""
    dates = {run_id[:8] for run_id in run_ids if _DATED.match(run_id)}
    return dates.pop() if len(dates) == 1 else ""


def without_date(run_id: str, date: str) -> str:
    return run_id.removeprefix(f"{date}-") if date else run_id


def date_header(header: str, date: str) -> str:
    return f"{header} ({date[:4]}-{date[4:6]}-{date[6:]})" if date else header


def _blank(rows: list[list[str]], index: int) -> bool:
    return bool(rows) and all(row[index] in ("", "-") for row in rows)


def layout(columns: list[Column], rows: list[list[str]], width: int | None, gap: int = 1) -> dict[int, int]:
    """Which columns are shown (by index) and at what width."""
    natural = {i: max(len(c.header), *(len(row[i]) for row in rows)) for i, c in enumerate(columns)}
    if width is None:
        return natural

    def needed(shown: dict[int, int]) -> int:
        return sum(shown.values()) + gap * (len(shown) - 1)

    shown = dict(natural)
    for i, column in enumerate(columns):  # nothing to say on any row: the first to go
        if needed(shown) > width and not column.keep and _blank(rows, i):
            del shown[i]
    droppable = sorted((i for i in shown if columns[i].drop and not columns[i].keep), key=lambda i: -columns[i].drop)
    while True:
        excess = needed(shown) - width
        room = {i: w - max(columns[i].min_width or w, len(columns[i].header)) for i, w in shown.items()}
        if excess <= sum(r for r in room.values() if r > 0):
            widths = dict(shown)
            while excess > 0:  # take from the column with the most to spare
                i = max(room, key=lambda k: room[k])
                widths[i] -= 1
                room[i] -= 1
                excess -= 1
            return widths
        if not droppable:
            return {i: w - max(0, room[i]) for i, w in shown.items()}  # as narrow as it goes
        del shown[droppable.pop(0)]


def fit(columns: list[Column], rows: list[list[str]], width: int | None, gap: int = 1) -> list[str]:
    """The header line and one line per row, no longer than `width` when it can be helped."""
    widths = layout(columns, rows, width, gap)
    order = sorted(widths)

    def line(cells: list[str]) -> str:
        parts = []
        for i in order:
            text = shorten(cells[i], widths[i], columns[i].cut)
            parts.append(text.rjust(widths[i]) if columns[i].right else text.ljust(widths[i]))
        return (" " * gap).join(parts).rstrip()

    return [line([c.header for c in columns]), *(line(row) for row in rows)]
