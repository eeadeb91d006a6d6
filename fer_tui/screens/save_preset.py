"""Ask for a preset name and description; dismisses with (name, description) or None."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label

from fer_core.config import preset_name_problem


class SavePresetScreen(ModalScreen[tuple[str, str] | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, suggestion: str = "") -> None:
        super().__init__()
        self.suggestion = suggestion

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Save the form as a preset", classes="dialog-title")
            yield Input(self.suggestion, placeholder="name: lowercase, digits, - or _", id="name")
            yield Input(placeholder="one-line purpose", id="description")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save", variant="primary", id="save", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def on_input_submitted(self) -> None:
        self._save()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self._save()
        else:
            self.dismiss(None)

    def _save(self) -> None:
        name = self.query_one("#name", Input).value.strip()
        problem = preset_name_problem(name) if name else "Give the preset a name"
        if problem:  # the dialog stays open with what was typed
            self.notify(problem, severity="error")
            return
        self.dismiss((name, self.query_one("#description", Input).value.strip()))

    def action_cancel(self) -> None:
        self.dismiss(None)
