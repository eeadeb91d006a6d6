"""The key map in one place: the help screen shows it and the README quotes it."""

from __future__ import annotations

KEYS: list[tuple[str, list[tuple[str, str]]]] = [
    ("Everywhere", [
        ("t", "Train: presets and the form"),
        ("r", "Runs: every run, live first"),
        ("?", "this help"),
        ("ctrl+p", "command palette (actions, themes)"),
        ("q / ctrl+q", "quit the UI (runs keep training)"),
    ]),
    ("Train", [
        ("↑↓ enter", "choose a preset (fills the form)"),
        ("tab", "next field; errors show under the field"),
        ("ctrl+o", "pick the data file"),
        ("ctrl+s", "start the run (detached) and watch it"),
        ("ctrl+n", "save the form as a new preset"),
    ]),
    ("Run", [
        ("s", "stop the run (asks first)"),
        ("u", "resume a stopped or lost run"),
        ("escape", "back to the runs"),
    ]),
    ("Runs", [
        ("enter", "open (reattach to) the run"),
        ("space", "mark/unmark for compare"),
        ("c", "compare the marked runs"),
        ("s", "stop the run under the cursor"),
    ]),
]
