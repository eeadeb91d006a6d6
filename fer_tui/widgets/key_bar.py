"""The bottom row: the screen's keys, drawn as one line of text; a click on a key presses it.

Textual's Footer mounts a widget per key and mounts them all again each time the focus moves,
which was a quarter of the time a screen took to start. This bar reads the same bindings
(`Binding.show`, the check_action state, the help line as a tooltip), draws them compact, the
command palette's key on the right, and only repaints when they change.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.style import Style
from rich.text import Text
from textual import events
from textual.screen import Screen
from textual.widget import Widget

SEPARATOR = "▏"  # before the palette's key, on the right


@dataclass(frozen=True)
class Key:
    """One key as the bar shows it."""

    key: str  # what a click presses
    display: str  # `^q`, `?`, `enter`
    description: str
    enabled: bool
    tooltip: str

    @property
    def label(self) -> str:
        """What the bar shows for it: `^q Quit`."""
        return f"{self.display} {self.description}" if self.description else self.display


class KeyBar(Widget):
    """The keys of the screen it is on, the command palette's on the right."""

    ALLOW_SELECT = False
    COMPONENT_CLASSES = {"key-bar--key", "key-bar--description", "key-bar--hover", "key-bar--separator"}
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
        pointer: pointer;
        & > .key-bar--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        & > .key-bar--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        & > .key-bar--hover {
            background: $block-hover-background;
        }
        & > .key-bar--separator {
            color: $foreground 20%;
        }
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self.spans: list[tuple[int, int, Key]] = []  # [start, end) columns of each key drawn
        self._hover: Key | None = None

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen) -> None:
        self.refresh()

    def keys(self) -> tuple[list[Key], Key | None]:
        """The keys shown (one per action, in binding order) and the palette's key, if any."""
        active = self.screen.active_bindings
        shown: dict[str, Key] = {}
        for _, binding, enabled, tooltip in active.values():
            if binding.show and binding.action not in shown:
                display = self.app.get_key_display(binding)
                shown[binding.action] = Key(binding.key, display, binding.description, enabled, tooltip)
        palette = None
        if self.app.ENABLE_COMMAND_PALETTE and self.app.COMMAND_PALETTE_BINDING in active:
            _, binding, enabled, tooltip = active[self.app.COMMAND_PALETTE_BINDING]
            palette = shown.pop(binding.action, None) or Key(
                binding.key, self.app.get_key_display(binding), binding.description, enabled, tooltip
            )
        return list(shown.values()), palette

    def render(self) -> Text:
        keys, palette = self.keys()
        key_style = self.get_component_rich_style("key-bar--key")
        description_style = self.get_component_rich_style("key-bar--description")
        hover_style = self.get_component_rich_style("key-bar--hover", partial=True)
        text = Text(no_wrap=True, overflow="crop", end="")
        self.spans = []

        def draw(key: Key) -> None:
            start = len(text)
            extra = hover_style if key == self._hover else Style()
            dim = Style() if key.enabled else Style(dim=True)
            text.append(key.display, key_style + dim + extra)
            if key.description:
                text.append(f" {key.description}", description_style + dim + extra)
            self.spans.append((start, len(text), key))

        for key in keys:
            draw(key)
            text.append(" ")
        if palette is not None:
            right = len(SEPARATOR) + len(palette.label) + 1  # and a space at the edge
            text.append(" " * max(1, self.size.width - len(text) - right))
            text.append(SEPARATOR, self.get_component_rich_style("key-bar--separator"))
            draw(palette)
            text.append(" ")
        return text

    def key_at(self, x: int) -> Key | None:
        return next((key for start, end, key in self.spans if start <= x < end), None)

    def on_click(self, event: events.Click) -> None:
        key = self.key_at(event.x)
        if key is None:
            return
        event.stop()
        if key.enabled:
            self.app.simulate_key(key.key)
        else:
            self.app.bell()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        key = self.key_at(event.x)
        if key != self._hover:
            self._hover = key
            self.tooltip = (key.tooltip or key.description) if key else None
            self.refresh()

    def on_leave(self, event: events.Leave) -> None:
        if self._hover is not None:
            self._hover = None
            self.tooltip = None
            self.refresh()
