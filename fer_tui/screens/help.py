"""The `?` screen: every key, grouped by screen, read from the live bindings."""

from __future__ import annotations

from collections.abc import Mapping

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from fer_tui.actions import help_rows
from fer_tui.keys import sections


def section_table(title: str, owner: type, keymap: Mapping[str, str] | None = None) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True, min_width=12)
    table.add_column()
    table.add_row(Text(title, style="bold underline"), "")
    for keys, text in help_rows(owner, keymap):
        table.add_row(keys, text)
    return table


def keys_table(keymap: Mapping[str, str] | None = None) -> Group:
    """Every section, one after the other (as the help shows them)."""
    return Group(*(section_table(title, owner, keymap) for title, owner in sections()))


class HelpScreen(ModalScreen[None]):
    """Every key by screen, the `section` asked from first (then Everywhere, then the others);
    `keymap` is the user's, so the keys shown are the keys in force."""

    BINDINGS = [Binding("escape,question_mark,q", "close", "Close")]
    DEFAULT_CSS = "HelpScreen .keys { margin-bottom: 1; }"

    def __init__(self, section: str | None = None, keymap: Mapping[str, str] | None = None) -> None:
        super().__init__()
        self.section = section
        self.keymap = dict(keymap or {})

    def compose(self) -> ComposeResult:
        # the current screen's keys first, then Everywhere and the rest in their usual order
        ordered = sorted(sections(), key=lambda item: item[0] != self.section)
        with Vertical(classes="dialog dialog-tall", id="help"):
            with VerticalScroll():
                for title, owner in ordered:
                    yield Static(
                        section_table(title, owner, self.keymap),
                        id=f"keys-{title.lower().replace(' ', '-')}",
                        classes="keys",
                    )
            yield Static("Training runs detached: quitting never stops a run. escape closes.", classes="dialog-hint")

    def action_close(self) -> None:
        self.dismiss(None)
