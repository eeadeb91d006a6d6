"""The key map in one place: the help screen shows it and the README quotes it."""

from __future__ import annotations

KEYS: list[tuple[str, list[tuple[str, str]]]] = [
    ("Everywhere", [
        ("t", "Train: presets and the form"),
        ("r", "Runs: every run, live first"),
        ("k", "Checkpoints: verdicts, test inference"),
        ("?", "this help"),
        ("ctrl+p", "command palette (actions, themes)"),
        ("q / ctrl+q", "quit the UI (runs keep training)"),
    ]),
    ("Train", [
        ("↑↓ enter", "choose a preset (fills the form)"),
        ("tab", "next field; errors show under the field"),
        ("space", "turn a switch on or off"),
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
    ("Compare", [
        ("d", "only the fields that differ"),
        ("escape", "back to the runs"),
    ]),
    ("Checkpoints", [
        ("i / enter", "test inference on the sample folder"),
        ("space", "mark/unmark (A, B) for compare"),
        ("c", "compare A and B on the same folder"),
        ("d", "deep check: structure, size, behaviour"),
        ("o", "open another folder of checkpoints"),
        ("s", "choose the sample folder"),
        ("m", "make the sample folder (demo set)"),
        ("x", "export to ONNX beside the checkpoint"),
        ("escape", "cancel the running inference"),
        ("ctrl+r", "read the folder again"),
    ]),
]
