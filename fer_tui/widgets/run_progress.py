"""The in-epoch progress bar with images/s and ETA, from status.json."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import ProgressBar, Static

from fer_tui.format import duration, epoch_text


def progress_label(status: dict[str, Any], live: bool) -> str:
    parts = [f"epoch {epoch_text(status, None if live else 'ended')}"]
    steps = status.get("steps") or 0
    if steps:
        parts.append(f"step {status.get('step') or 0}/{steps}")
    if live:
        ips = status.get("images_per_second")
        if isinstance(ips, (int, float)) and ips > 0:
            parts.append(f"{ips:,.0f} img/s")
        parts.append(f"ETA {duration(status.get('eta_seconds'))}")
    return " · ".join(parts)


class RunProgress(Horizontal):
    def compose(self) -> ComposeResult:
        yield ProgressBar(total=1, show_eta=False, show_percentage=False, id="step-bar")
        yield Static("", id="progress-label")

    def show(self, status: dict[str, Any], live: bool) -> None:
        steps = status.get("steps") or 0
        bar = self.query_one(ProgressBar)
        total, done = (steps, status.get("step") or 0) if steps else (1, 0)
        if live or not steps:
            if (bar.total, bar.progress) != (total, done):
                bar.update(total=total, progress=done)
        elif (bar.total, bar.progress) != (1, 1):  # an ended run shows a full bar
            bar.update(total=1, progress=1)
        label = progress_label(status, live)
        static = self.query_one("#progress-label", Static)
        if str(static.content) != label:
            static.update(label)
