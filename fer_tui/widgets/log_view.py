"""train.log you can read: every line back to the first, wrapped at words, searchable (`/`, `n`,
`N`), following the tail unless the user scrolled away from it.

`LogFile` reads only what was appended since the last poll (a long run's log is never re-read
whole); `LogView` is a line-rendered scroll view (only the rows on screen are drawn); `LogPanel`
holds the view and its search input and keeps the old log tail's `reload(path)` interface.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from rich.style import Style
from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Input

_CONTROL = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|[\x00-\x08\x0b-\x1f\x7f]")  # what a terminal would act on
MATCH = Style(reverse=True)
CURRENT = Style(color="black", bgcolor="yellow", bold=True)
INDENT = "  "  # continuation rows of a wrapped line


def clean(line: str) -> str:
    """A log line as shown: a progress bar's last state (after its last \\r), no escapes."""
    return _CONTROL.sub("", line.rsplit("\r", 1)[-1].expandtabs(4))


@dataclass
class LogFile:
    """Incremental reader: whole new lines since the last poll; a partial last line waits."""

    path: Path
    offset: int = 0
    inode: int | None = None
    pending: bytes = b""

    def poll(self) -> tuple[list[str], bool]:
        """(new lines, whether the file was replaced or truncated so the old lines are void)."""
        try:
            with open(self.path, "rb") as handle:
                info = os.fstat(handle.fileno())
                reset = info.st_ino != self.inode and self.inode is not None or info.st_size < self.offset
                if reset:
                    self.offset, self.pending = 0, b""
                self.inode = info.st_ino
                handle.seek(self.offset)
                chunk = handle.read()
        except OSError:
            return [], False
        self.offset += len(chunk)
        data = self.pending + chunk
        end = data.rfind(b"\n") + 1
        self.pending = data[end:]
        lines = [clean(line) for line in data[:end].decode("utf-8", errors="replace").split("\n")[:-1]]
        return lines, reset


@dataclass(frozen=True)
class Row:
    """One screen row: `line`'s characters start..end (a wrapped line has several rows)."""

    line: int
    start: int
    end: int


def wrap(text: str, width: int) -> list[tuple[int, int]]:
    """(start, end) of each row of `text` wrapped at spaces into `width` columns; continuation
    rows lose INDENT columns to the indent. A word longer than a row is cut."""
    spans, start, room = [], 0, width
    while len(text) - start > room:
        cut = text.rfind(" ", start + 1, start + room + 1)
        cut = cut if cut > start else start + room
        spans.append((start, cut))
        start = cut + 1 if cut < len(text) and text[cut] == " " else cut
        room = max(4, width - len(INDENT))
    spans.append((start, len(text)))
    return spans


@dataclass
class Search:
    term: str = ""
    matches: list[tuple[int, int, int]] = field(default_factory=list)  # (line, start, end)
    current: int | None = None

    def find(self, lines: list[str], first: int = 0) -> None:
        """Every match from line `first` on (appended lines are searched as they come)."""
        if not self.term:
            return
        pattern = re.compile(re.escape(self.term), re.IGNORECASE)
        for index in range(first, len(lines)):
            self.matches.extend((index, m.start(), m.end()) for m in pattern.finditer(lines[index]))


class LogView(ScrollView, can_focus=True):
    """The lines of a log, wrapped to the width, drawn row by row."""

    DEFAULT_CSS = "LogView { scrollbar-size-vertical: 1; }"

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.lines: list[str] = []
        self.rows: list[Row] = []
        self.wrap_width = 0
        self.search = Search()

    @property
    def following(self) -> bool:
        """At the bottom: new lines scroll into view. Textual's anchor does the following (the
        compositor keeps an anchored view at its bottom through resizes); scrolling away
        releases it and `end` (scroll_end) takes it again."""
        return self.is_anchored and not self._anchor_released  # Textual 8 has no public accessor

    def on_mount(self) -> None:
        self.anchor()

    def append(self, lines: list[str], reset: bool = False) -> None:
        if reset:
            self.lines, self.rows = [], []
            self.search = Search(self.search.term)
        first = len(self.lines)
        self.lines.extend(lines)
        self._wrap_from(first)
        self.search.find(self.lines, first)
        self.virtual_size = Size(self.wrap_width, len(self.rows))
        self.refresh()

    def _wrap_from(self, first: int) -> None:
        width = self.wrap_width
        if not width:
            return
        for index in range(first, len(self.lines)):
            self.rows.extend(Row(index, start, end) for start, end in wrap(self.lines[index], width))

    def on_resize(self) -> None:
        width = max(8, self.size.width - 1)  # the scrollbar's column
        if width == self.wrap_width:
            return
        top = self.rows[int(self.scroll_y)].line if self.rows and int(self.scroll_y) < len(self.rows) else 0
        self.wrap_width, self.rows = width, []
        self._wrap_from(0)
        self.virtual_size = Size(width, len(self.rows))
        if not self.following:  # the same line stays on top
            self.scroll_to(y=self._first_row(top), animate=False, immediate=True)
        self.refresh()

    def _first_row(self, line: int) -> int:
        low, high = 0, len(self.rows)
        while low < high:  # rows are sorted by line
            mid = (low + high) // 2
            if self.rows[mid].line < line:
                low = mid + 1
            else:
                high = mid
        return low

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        index = int(self.scroll_y) + y
        style = self.rich_style
        if not self.rows:
            if y == 0:
                text = Text("(no output yet)", style="dim")
                return Strip(list(text.render(self.app.console)), text.cell_len).crop_extend(0, width, style)
            return Strip.blank(width, style)
        if index >= len(self.rows):
            return Strip.blank(width, style)
        row = self.rows[index]
        line = self.lines[row.line]
        text = Text(line[row.start : row.end], no_wrap=True, end="")
        current = self.search.matches[self.search.current] if self.search.current is not None else None
        for match in self._matches(row):
            lo, hi = max(match[1], row.start) - row.start, min(match[2], row.end) - row.start
            if lo < hi:
                text.stylize(CURRENT if match == current else MATCH, lo, hi)
        if row.start:  # a continuation (a line's first row starts at 0)
            text = Text(INDENT, end="") + text
        return Strip(list(text.render(self.app.console)), text.cell_len).crop_extend(0, width, style)

    def _matches(self, row: Row) -> list[tuple[int, int, int]]:
        # matches are in line order: bisect to this line's
        matches = self.search.matches
        low, high = 0, len(matches)
        while low < high:
            mid = (low + high) // 2
            if matches[mid][0] < row.line:
                low = mid + 1
            else:
                high = mid
        found = []
        while low < len(matches) and matches[low][0] == row.line:
            found.append(matches[low])
            low += 1
        return found

    # ------------------------------------------------------------ search

    def find(self, term: str) -> int:
        """Search for `term` (any case); go to the first match at or below the top row.
        Returns the number of matches."""
        self.search = Search(term)
        self.search.find(self.lines)
        if self.search.matches:
            top = self.rows[int(self.scroll_y)].line if int(self.scroll_y) < len(self.rows) else 0
            after = [k for k, m in enumerate(self.search.matches) if m[0] >= top]
            self._go(after[0] if after else 0)
        self.refresh()
        return len(self.search.matches)

    def next_match(self, backward: bool = False) -> int | None:
        """Go to the next (or previous) match, wrapping around; None if there is none."""
        if not self.search.matches:
            return None
        current = self.search.current
        step = -1 if backward else 1
        index = 0 if current is None else (current + step) % len(self.search.matches)
        self._go(index)
        return index

    def _go(self, index: int) -> None:
        self.search.current = index
        line, start, _ = self.search.matches[index]
        first = self._first_row(line)
        row = first
        while row + 1 < len(self.rows) and self.rows[row + 1].line == line and self.rows[row + 1].start <= start:
            row += 1
        if not (self.scroll_y <= row < self.scroll_y + self.size.height):  # keep the match in view, mid-screen
            self.scroll_to(y=max(0, row - self.size.height // 2), animate=False, immediate=True)
        self.refresh()


class LogPanel(Vertical):
    """The log view and its search input (`/` opens it, enter searches, escape closes)."""

    path: Path | None = None

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.file: LogFile | None = None

    def compose(self) -> ComposeResult:
        yield LogView(id="log-view")
        yield Input(placeholder="search train.log: enter finds, esc closes", id="log-search", compact=True)

    @property
    def view(self) -> LogView:
        return self.query_one(LogView)

    def reload(self, path: Path) -> None:
        """Read what `path` gained since the last call."""
        if self.file is None or self.file.path != path:
            self.file, self.path = LogFile(path), path
        lines, reset = self.file.poll()
        if lines or reset:
            self.view.append(lines, reset)
        self.show_state()

    def show_state(self) -> None:
        view, search = self.view, self.view.search
        if search.term:
            where = f"{search.current + 1}/" if search.current is not None else ""
            self.border_subtitle = f"“{search.term}” {where}{len(search.matches)} · n/N"
        else:
            self.border_subtitle = "/ search" if view.following or not view.lines else "end: follow"

    def open_search(self) -> None:
        box = self.query_one(Input)
        box.display = True
        box.value = self.view.search.term
        box.focus()

    @on(Input.Submitted, "#log-search")
    def _searched(self, event: Input.Submitted) -> None:
        event.stop()
        found = self.view.find(event.value)
        self.close_search()
        if event.value and not found:
            self.notify(f"“{event.value}” is not in train.log", severity="warning", markup=False)
        self.show_state()

    def close_search(self) -> None:
        box = self.query_one(Input)
        box.display = False
        self.view.focus()

    def next_match(self, backward: bool = False) -> None:
        if self.view.next_match(backward) is None:
            self.notify("no search yet: / searches train.log" if not self.view.search.term else "no match")
        self.show_state()

    def on_key(self, event: events.Key) -> None:
        if event.key == "escape" and self.query_one(Input).has_focus:
            event.stop()
            self.close_search()

    def on_mount(self) -> None:
        self.query_one(Input).display = False
        self.view.watch(self.view, "scroll_y", lambda _: self.show_state(), init=False)
