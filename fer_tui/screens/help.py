"""The `?` screen: every key, grouped by screen, read from the live bindings."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from fer_tui.actions import help_rows
from fer_tui.keys import sections


def keys_table() -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for index, (title, owner) in enumerate(sections()):
        if index:
            table.add_row("", "")
        table.add_row(Text(title, style="bold underline"), "")
        for keys, text in help_rows(owner):
            table.add_row(keys, text)
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "close", "Close")]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog dialog-tall", id="help"):
            with VerticalScroll():
                yield Static(keys_table())
            yield Static("Training runs detached: quitting never stops a run. escape closes.", classes="dialog-hint")

    def action_close(self) -> None:
        self.dismiss(None)
