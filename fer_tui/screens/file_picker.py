"""Pick a data file or a folder; dismisses with the chosen path or None."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, DirectoryTree, Input, Label

from fer_tui.actions import Action, bindings
from fer_tui.screens import key_hint


class DataTree(DirectoryTree):
    """Folders and the files fer-tui can read (CSV, gzipped CSV); hidden entries skipped."""

    def filter_paths(self, paths: Iterable[Path]) -> list[Path]:
        return [p for p in paths if not p.name.startswith(".") and (p.is_dir() or p.name.endswith((".csv", ".csv.gz")))]


class FolderTree(DirectoryTree):
    """Folders only (a sample folder, a folder of checkpoints); hidden entries skipped."""

    def filter_paths(self, paths: Iterable[Path]) -> list[Path]:
        return [p for p in paths if not p.name.startswith(".") and p.is_dir()]


class FilePickerScreen(ModalScreen[str | None]):
    """The data file by default; `folders=True` picks a folder (Use or enter on the path)."""

    ACTIONS = (Action("escape", "cancel", "Cancel", "close the picker, choosing nothing", id="cancel_pick"),)
    BINDINGS = bindings(ACTIONS)
    HELP_KEYS = [
        ("↑↓ enter", "a file: choose it; a folder: open it (and put it in the path)"),
        ("tab", "the folders, the path (enter there chooses it), Use and Cancel"),
    ]

    def __init__(
        self,
        start: Path,
        title: str = "Data: a FER2013 CSV (.csv/.csv.gz) or an image folder",
        folders: bool = False,
        value: Path | None = None,
    ) -> None:
        super().__init__()
        self.start = start if start.is_dir() else Path.cwd()
        self.title_text = title
        self.folders = folders
        self.value = value if value is not None else self.start

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog dialog-tall"):
            yield Label(self.title_text, classes="dialog-title")
            yield (FolderTree if self.folders else DataTree)(self.start, id="tree")
            yield Input(str(self.value), id="path")
            yield Label(self.keys_text(), classes="dialog-hint", id="picker-keys")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Use", variant="primary", id="use", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def keys_text(self) -> str:
        """How to choose and how to cancel: the buttons alone said neither."""
        cancel = f"{key_hint(self, 'cancel')}: cancel"
        if self.folders:
            return f"enter on a folder puts it in the path; enter there or Use: choose it · {cancel}"
        return f"enter on a file or in the path: choose it · {cancel}"

    def on_directory_tree_file_selected(self, event: DirectoryTree.FileSelected) -> None:
        self.dismiss(str(event.path))

    def on_directory_tree_directory_selected(self, event: DirectoryTree.DirectorySelected) -> None:
        # a folder may be an image-folder data set: offer it, Use confirms
        self.query_one("#path", Input).value = str(event.path)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "use":
            self.dismiss(self.query_one("#path", Input).value.strip() or None)
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)
