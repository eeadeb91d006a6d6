"""The training form: one row per TrainConfig field, validated as you type."""

from __future__ import annotations

import typing

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from fer_core.config import BOOL_FIELDS, FIELDS, TrainConfig, check_field, make_config, parse_value
from fer_core.errors import ConfigError
from fer_core.models import ARCHITECTURES
from fer_core.text import shown
from fer_tui.format import number


def choices(name: str) -> list[str] | None:
    """The allowed values of a choice field (Literal or the model registry), else None."""
    if name == "arch":
        return list(ARCHITECTURES)
    annotation = TrainConfig.model_fields[name].annotation
    if typing.get_origin(annotation) is typing.Literal:
        return [str(v) for v in typing.get_args(annotation)]
    return None


class OnOff(Checkbox):
    """A checkbox that says `on` or `off` and shows its X only when on: readable without colour
    (the stock one differs only by the X's colour, and with no label it was cut to `▐X…`)."""

    def __init__(self, value: bool, **kwargs) -> None:
        super().__init__("on" if value else "off", value, **kwargs)
        self.BUTTON_INNER = "X" if value else " "

    def watch_value(self) -> None:
        super().watch_value()
        self.BUTTON_INNER = "X" if self.value else " "
        self.label = "on" if self.value else "off"


class ConfigForm(VerticalScroll):
    """Every schema field; keeps `valid` (the last config without errors) and `errors`."""

    class Changed(Message):
        """A field changed: the screen redraws the diff and the error count."""

        def __init__(self, form: ConfigForm) -> None:
            super().__init__()
            self.form = form

    class FieldFocused(Message):
        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

    def __init__(self, config: TrainConfig | None = None, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.valid = config or TrainConfig()
        self.errors: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        # a grid of name and editor, no container per row: the form is most of the dashboard's
        # first screen, and every widget here costs its start (an error line is made on demand)
        for name in FIELDS:
            yield Label(name, classes="field-name", id=f"name-{name}")
            editor = self._editor(name, TrainConfig.model_fields[name].description or "")
            if name == "data_csv":
                with Horizontal(classes="field-editor"):  # the file button beside it
                    yield editor
                    yield Button("…", id="pick-data", compact=True, tooltip="Choose a file")
            else:
                yield editor

    def _editor(self, name: str, description: str) -> Widget:
        value = getattr(self.valid, name)
        options = choices(name)
        # classes given at construction: a class added later restyles the widget on the spot
        editor_id, classes = f"f-{name}", "field-editor"
        if name in BOOL_FIELDS:
            return OnOff(value, compact=True, tooltip=description, id=editor_id, classes=classes)
        if options is not None:
            return Select(
                [(o, o) for o in options],
                value=str(value),
                allow_blank=False,
                compact=True,
                tooltip=description,
                id=editor_id,
                classes=classes,
            )
        return Input(
            number(value), select_on_focus=False, compact=True, tooltip=description, id=editor_id, classes=classes
        )

    # ------------------------------------------------------------------ values

    def raw(self, name: str) -> str:
        """A field's current value as text (what check_field expects)."""
        widget = self.query_one(f"#f-{name}")
        if isinstance(widget, Checkbox):
            return "true" if widget.value else "false"
        assert isinstance(widget, (Input, Select)), widget  # _editor made it
        return str(widget.value)

    def config(self) -> TrainConfig:
        """The config the form shows; raises ConfigError naming every bad field."""
        return make_config({name: parse_value(name, self.raw(name)) for name in FIELDS})

    def load(self, config: TrainConfig) -> None:
        """Fill every editor from `config` (choosing a preset)."""
        # the editors' Changed events arrive later and re-validate against `config`: harmless
        self.valid = config
        for name in FIELDS:
            widget = self.query_one(f"#f-{name}")
            value = getattr(config, name)
            if isinstance(widget, Input):
                widget.value = number(value)
            elif isinstance(widget, Select):
                widget.value = str(value)
            elif isinstance(widget, Checkbox):
                widget.value = bool(value)
            self._show_error(name, None)
        self.post_message(self.Changed(self))

    def set_value(self, name: str, text: str) -> None:
        """Set a text field (the file picker's result) and validate it."""
        self.query_one(f"#f-{name}", Input).value = text

    # ------------------------------------------------------------------ validation

    def validate_field(self, name: str) -> str | None:
        """Check one field against the last valid config; re-check fields still in error."""
        message = check_field(name, self.raw(name), self.valid)
        if message is None:
            try:
                self.valid = make_config({**self.valid.model_dump(), name: parse_value(name, self.raw(name))})
            except ConfigError as error:  # pragma: no cover - check_field said it was fine
                message = str(error)
        self._show_error(name, message)
        if message is None:
            # a fix here can cure a cross-field error elsewhere (min_lr vs lr)
            for other in [n for n in self.errors if n != name]:
                self._show_error(other, check_field(other, self.raw(other), self.valid))
        return message

    def _show_error(self, name: str, message: str | None) -> None:
        if self.errors.get(name) == message:
            return  # nothing to restyle (every keystroke lands here)
        if message:
            self.errors[name] = message
        else:
            self.errors.pop(name, None)
        error = self._error_line(name, make=bool(message))
        if error is not None:
            error.update(Text(shown(message or "")))  # it quotes what was typed: never markup
            error.display = bool(message)
            self.query_one(f"#gap-{name}").display = bool(message)
        self.query_one(f"#name-{name}").set_class(bool(message), "-invalid")

    def _error_line(self, name: str, make: bool = False) -> Static | None:
        """The line under a field that says what is wrong with it, if it has one yet (`make`: made
        now if not), in the editors' column: a grid row's height is measured in its first cell's
        column."""
        found = self.query(f"#err-{name}")
        if found or not make:
            return found.first(Static) if found else None
        error = Static("", classes="field-error", id=f"err-{name}")
        editor = self.query_one(f"#f-{name}")
        cell = editor if editor.parent is self else editor.query_ancestor(".field-editor", Widget)
        self.mount(Label("", classes="field-gap", id=f"gap-{name}"), error, after=cell)
        return error

    @on(Input.Changed)
    @on(Select.Changed)
    @on(Checkbox.Changed)
    def _changed(self, event: Input.Changed | Select.Changed | Checkbox.Changed) -> None:
        event.stop()
        if not event.control.id or not event.control.id.startswith("f-"):
            return
        self.validate_field(event.control.id[2:])
        self.post_message(self.Changed(self))

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        widget_id = getattr(event.widget, "id", None) or ""
        if widget_id.startswith("f-"):
            self.post_message(self.FieldFocused(widget_id[2:]))

    @staticmethod
    def description(name: str) -> str:
        return TrainConfig.model_fields[name].description or ""
