"""One action registry: a screen declares each of its keys once, as an `Action`, and the
footer (its BINDINGS), the `?` help and the command palette are all built from that.

    class RunScreen(Screen):
        ACTIONS = (Action("s", "stop", "Stop", "stop the run (asks first)", title="Stop run"), ...)
        BINDINGS = bindings(ACTIONS)

The help reads the live BINDINGS (the help line rides on Textual's `Binding.tooltip`); keys a
widget handles itself (a table's enter, a form's tab) are listed in the screen's `HELP_KEYS`.
A new screen adds its module and one line to `fer_tui.keys.SECTIONS`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from textual.binding import Binding

# how the help and the README spell Textual's key names
SPELLED = {"question_mark": "?", "slash": "/"}


@dataclass(frozen=True)
class Action:
    key: str
    """Textual key spec: "s", "ctrl+s"."""
    action: str
    """The screen's (or app's) `action_<name>` without the prefix."""
    label: str
    """Footer label: one or two words."""
    help: str
    """What it does, in one line: the `?` help and the palette's text."""
    title: str | None = None
    """Command palette title; None keeps it out of the palette (navigation keys)."""
    show: bool = True
    """In the footer (the footer has 80 columns: the rest are in `?` and the palette)."""
    priority: bool = False
    """Before the focused widget's own keys (ctrl+s must not reach an input)."""

    def binding(self) -> Binding:
        return Binding(self.key, self.action, self.label, show=self.show, priority=self.priority, tooltip=self.help)


def bindings(actions: Iterable[Action]) -> list[Binding]:
    return [action.binding() for action in actions]


def help_rows(owner: type) -> list[tuple[str, str]]:
    """(keys, what they do) for a screen or app class: widget keys first, then its bindings;
    bindings of one action share a row ("q / ctrl+q")."""
    rows: dict[str, tuple[list[str], str]] = {}
    for binding in owner.BINDINGS:
        keys, text = rows.setdefault(binding.action, ([], binding.tooltip or binding.description))
        keys.append(SPELLED.get(binding.key, binding.key))
    return list(getattr(owner, "HELP_KEYS", [])) + [(" / ".join(keys), text) for keys, text in rows.values()]


def palette_commands(screen: object) -> Iterator[tuple[str, str, Callable]]:
    """(title, help, callable) for each of the screen's actions that has a palette title."""
    for action in getattr(screen, "ACTIONS", ()):
        if action.title:
            yield action.title, action.help, getattr(screen, f"action_{action.action}")
