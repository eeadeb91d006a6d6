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

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass

from textual.binding import Binding, BindingType
from textual.dom import DOMNode

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
    id: str = ""
    """The name a user remaps it by in settings.toml's `[keymap]`; the action's name when empty.
    Screens share an id for the same deed (`stop` on Run and Runs), so one line moves both."""

    @property
    def binding_id(self) -> str:
        return self.id or self.action

    def binding(self) -> Binding:
        return Binding(
            self.key,
            self.action,
            self.label,
            show=self.show,
            priority=self.priority,
            tooltip=self.help,
            id=self.binding_id,
        )


def bindings(actions: Iterable[Action]) -> list[BindingType]:  # the type Textual's BINDINGS has
    return [action.binding() for action in actions]


def spell(key: str) -> str:
    """A Textual key spec as the help and the docs write it (`question_mark` -> `?`)."""
    return SPELLED.get(key, key)


def help_rows(owner: type[DOMNode], keymap: Mapping[str, str] | None = None) -> list[tuple[str, str]]:
    """(keys, what they do) for a screen or app class: widget keys first, then its bindings;
    bindings of one action share a row ("q / ctrl+q"). `keymap` (id -> keys) shows the user's
    remapped keys in place of the declared ones."""
    keymap = keymap or {}
    rows: dict[str, tuple[list[str], str]] = {}
    for binding in owner.BINDINGS:
        if not isinstance(binding, Binding):  # a ("key", "action") tuple: none of ours
            continue
        keys, text = rows.setdefault(binding.action, ([], binding.tooltip or binding.description))
        if binding.id is not None and binding.id in keymap:
            remapped = [spell(k.strip()) for k in keymap[binding.id].split(",")]
            keys.extend(k for k in remapped if k not in keys)
        else:
            keys.append(spell(binding.key))
    return list(getattr(owner, "HELP_KEYS", [])) + [(" / ".join(keys), text) for keys, text in rows.values()]


def palette_commands(screen: object) -> Iterator[tuple[Action, Callable]]:
    """(action, callable) for each of the screen's actions that has a palette title and that
    the screen's `check_action` allows now (a finished run has no Stop)."""
    check = None if isinstance(screen, type) else getattr(screen, "check_action", None)
    for action in getattr(screen, "ACTIONS", ()):
        if action.title and not (check and check(action.action, ()) is False):
            yield action, getattr(screen, f"action_{action.action}")
