"""The last lines of train.log, re-read only when the file changed."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.widgets import Static

from fer_core.text import shown
from fer_tui.format import tail_lines, wrap_tail
from fer_tui.watch import read_tail


class LogTail(Static):
    path: Path | None = None

    def reload(self, path: Path) -> None:
        self.path = path
        height, width = max(1, self.size.height or 8), max(20, self.content_size.width or 78)
        # long epoch lines wrap at words (the accuracy is at their end); whole lines only
        lines = wrap_tail(tail_lines(read_tail(path), height), width, height)
        text = Text(
            "\n".join(map(shown, lines)) or "(no output yet)",
            no_wrap=True,
            overflow="crop",
            style="" if lines else "dim",
        )
        self.update(text)

    def on_resize(self) -> None:
        # the number of lines shown depends on the height
        if self.path is not None:
            self.reload(self.path)
