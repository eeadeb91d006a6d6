"""The face under the cursor, drawn in the terminal with textual-image, and its caption.

textual-image picks the best renderer (Sixel, the kitty graphics protocol, else coloured half
blocks) by asking the terminal, which is only possible before Textual takes over stdin: so
`run_app` imports this module's renderer (`preload()`) before the app starts. FER_TUI_IMAGES
forces a renderer: `halfcell` (tests and snapshots, deterministic), `unicode`, `tgp`, `sixel`,
or `off`.
"""

from __future__ import annotations

import os
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Static

from fer_core.text import shown


def renderer() -> str:
    return os.environ.get("FER_TUI_IMAGES", "auto").strip().lower() or "auto"


def preload() -> None:
    """Let textual-image query the terminal now, while nothing else reads stdin."""
    if renderer() != "off":
        try:
            import textual_image.widget  # noqa: F401 - the import does the query
        except Exception:  # noqa: BLE001 - no image support is not a reason to fail to start
            pass


def image_widget(id: str) -> Widget:
    mode = renderer()
    if mode == "off":
        return Static("", id=id)
    try:
        from textual_image import widget
    except Exception:  # noqa: BLE001 - fall back to the caption only
        return Static("", id=id)
    kinds: dict[str, type[widget.BaseImage]] = {
        "halfcell": widget.HalfcellImage,
        "unicode": widget.UnicodeImage,
        "tgp": widget.TGPImage,
        "sixel": widget.SixelImage,
    }
    return kinds.get(mode, widget.Image)(None, id=id)


class FacePanel(Vertical):
    """`show(path, caption)`: the face file (48x48 grayscale) and one line under it."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.path: Path | None = None

    def compose(self) -> ComposeResult:
        yield image_widget("face")
        yield Static("", id="face-caption")

    def show(self, path: Path | None, caption: Text | str = "") -> None:
        if path != self.path:
            self.path = path
            face = self.query_one("#face")
            if isinstance(face, Static):
                face.update("" if path is None else Text(shown(path.name), style="dim"))
            else:
                from textual_image.widget import BaseImage  # imported already: the face is one

                assert isinstance(face, BaseImage)
                try:
                    face.image = str(path) if path is not None and path.is_file() else None
                except Exception:  # noqa: BLE001 - an unreadable image: no face, no crash
                    face.image = None
        self.query_one("#face-caption", Static).update(caption)
