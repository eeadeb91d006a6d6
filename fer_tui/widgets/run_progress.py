"""The in-epoch progress bar with images/s and ETA, from status.json."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import ProgressBar, Static

from fer_core.records import RunStatus
from fer_core.runs.columns import epoch_text
from fer_tui.format import duration


def judged_state(status: RunStatus, live: bool) -> str | None:
    """The state to show: a live-looking status whose trainer is gone is lost."""
    return "lost" if not live and status.state in ("running", "starting") else status.state


def progress_label(status: RunStatus, live: bool) -> str:
    parts = [f"epoch {epoch_text(status, judged_state(status, live))}"]
    if status.steps and (live or status.step):  # an ended run at an epoch's end: no step to show
        parts.append(f"step {status.step}/{status.steps}")
    if live:
        if status.images_per_second > 0:  # all workers together
            workers = f" on {status.workers} workers" if status.workers > 1 else ""
            parts.append(f"{status.images_per_second:,.0f} img/s{workers}")
        parts.append(f"ETA {duration(status.eta_seconds)}")
    return " · ".join(parts)


class RunProgress(Horizontal):
    def compose(self) -> ComposeResult:
        yield ProgressBar(total=1, show_eta=False, show_percentage=False, id="step-bar")
        yield Static("", id="progress-label")

    def show(self, status: RunStatus, live: bool) -> None:
        steps = status.steps
        bar = self.query_one(ProgressBar)
        total, done = (steps, status.step) if steps else (1, 0)
        if live or not steps or (done and judged_state(status, live) != "finished"):
            if (bar.total, bar.progress) != (total, done):  # a stop mid-epoch: where it resumes
                bar.update(total=total, progress=done)
        elif (bar.total, bar.progress) != (1, 1):  # a run ended at an epoch's end: a full bar
            bar.update(total=1, progress=1)
        label = progress_label(status, live)
        static = self.query_one("#progress-label", Static)
        if str(static.content) != label:
            static.update(label)
