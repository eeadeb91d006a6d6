"""Where the `?` help finds the keys: one registration per screen, in the order shown.

Each entry names a class whose BINDINGS come from `fer_tui.actions`; it is imported when
the help opens, so the Checkpoints screen's imports never slow the app's start.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

SECTIONS: list[tuple[str, str]] = [
    ("Everywhere", "fer_tui.app:FerApp"),
    ("Train", "fer_tui.screens.train:TrainScreen"),
    ("Run", "fer_tui.screens.run:RunScreen"),
    ("Runs", "fer_tui.screens.runs:RunsScreen"),
    ("Compare", "fer_tui.screens.compare:CompareScreen"),
    ("Queue", "fer_tui.screens.queue:QueueScreen"),
    ("Leaderboard", "fer_tui.screens.leaderboard:LeaderboardScreen"),
    ("Checkpoints", "fer_tui.screens.checkpoints:CheckpointsScreen"),
    ("File picker", "fer_tui.screens.file_picker:FilePickerScreen"),
]


def sections() -> Iterator[tuple[str, Any]]:  # a screen class or the app: each has ACTIONS
    for title, target in SECTIONS:
        module, _, name = target.partition(":")
        yield title, getattr(importlib.import_module(module), name)
