"""Told when a run ends: the dashboard watches every run it saw live and, when one finishes,
fails, stops or is lost, shows a toast, rings the terminal bell and (unless switched off) asks
the terminal for a desktop notification with OSC 9 and OSC 777, which reach the user's desktop
over SSH in terminals that support them (others ignore them).

Switched off by FER_TUI_NOTIFY=0 (or false/no/off): `desktop_enabled` is the one on/off input.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from fer_core.records import RunStatus
from fer_core.runs import rundir

NOTIFY_ENV = "FER_TUI_NOTIFY"
ENDINGS = {  # state -> (how the toast words it, its severity)
    "finished": ("finished", "information"),
    "early_stopped": ("stopped early (patience)", "information"),
    "stopped": ("stopped", "warning"),
    "failed": ("failed", "error"),
    "lost": ("lost (its trainer is gone)", "error"),
}
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f;]")  # control characters end an OSC; `;` splits OSC 777


def desktop_enabled(environ: Mapping[str, str] = os.environ) -> bool:
    """Desktop notifications are on unless FER_TUI_NOTIFY says 0/false/no/off."""
    return environ.get(NOTIFY_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


def desktop_sequence(title: str, body: str) -> str:
    """OSC 9 (iTerm2, WezTerm, Windows Terminal, kitty) and OSC 777 (urxvt, foot, Ghostty,
    VTE) for one notification; the run names in them are the user's, so control characters
    (which would end the sequence early and inject others) are replaced."""
    title, body = _UNSAFE.sub(" ", title)[:80], _UNSAFE.sub(" ", body)[:200]
    return f"\x1b]9;{title}: {body}\x07\x1b]777;notify;{title};{body}\x07"


@dataclass(frozen=True)
class RunEnded:
    path: Path
    state: str
    status: RunStatus

    @property
    def words(self) -> str:
        return ENDINGS.get(self.state, (self.state, "warning"))[0]

    @property
    def severity(self) -> str:
        return ENDINGS.get(self.state, (self.state, "warning"))[1]

    def text(self) -> str:
        best = f"; best val acc {100 * self.status.best_val_acc:.2f}%" if self.status.best_val_acc is not None else ""
        why = f": {self.status.message}" if self.state in ("failed", "stopped") and self.status.message else ""
        return f"{self.path.name} {self.words}{why}{best}"


@dataclass
class EndWatch:
    """The runs seen live; `check` returns those that have ended since, once each."""

    read: Callable[[Path], RunStatus | None] = rundir.read_status
    live: set[Path] = field(default_factory=set)

    def track(self, paths: Iterable[Path]) -> None:
        self.live.update(Path(p) for p in paths)

    def check(self) -> list[RunEnded]:
        ended = []
        for path in sorted(self.live):
            status = self.read(path)
            state = rundir.effective_state(status, run_dir=path)
            if state in rundir.LIVE_STATES:
                continue
            self.live.discard(path)
            if status is not None and state in ENDINGS:
                ended.append(RunEnded(path, state, status))
        return ended
