"""The run's key facts in two lines (id, preset, device, state, best, patience), then why it
ended if it failed, was lost or stopped."""

from __future__ import annotations

from rich.console import Group
from rich.text import Text
from textual.widgets import Static

from fer_core.records import RunStatus, State
from fer_core.text import shown
from fer_tui.format import STATE_STYLES, percent


def facts_text(
    status: RunStatus, state: State, device: str, arch: str, metrics_best: tuple[int, float] | None = None
) -> Text:
    """`metrics_best` (epoch, acc) stands in when status.json has no best yet."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(state.replace("_", " "), style=STATE_STYLES.get(state, ""))
    text.append(f"  {status.run_id or ''}", style="bold")
    text.append(f"\npreset {status.preset or '-'} · {device} · {arch}")
    if status.workers > 1:  # a data-parallel run (msrun)
        text.append(f" · {status.workers} workers")
    best, epoch = status.best_val_acc, status.best_epoch
    if best is None and metrics_best is not None:
        epoch, best = metrics_best
    text.append(" · best ")
    text.append(percent(best), style="bold green" if best is not None else "")
    if epoch:
        text.append(f" @{epoch}")
    if status.patience_left is not None:
        text.append(f" · patience {status.patience_left}")
    return text


def message_text(status: RunStatus, state: str) -> Text | None:
    """Why a run ended badly, wrapped at words (cut at 80 columns it said nothing)."""
    if not (status.message and state in ("failed", "lost", "stopped")):
        return None
    return Text(shown(status.message), style="red" if state == "failed" else "yellow")


class RunFacts(Static):
    """Redraws only when the text changes (status.json is rewritten every step)."""

    def show(
        self, status: RunStatus, state: State, device: str, arch: str, metrics_best: tuple[int, float] | None = None
    ) -> None:
        text = facts_text(status, state, device, arch, metrics_best)
        message = message_text(status, state)
        plain = text.plain + (f"\n{message.plain}" if message else "")
        if plain != getattr(self, "_plain", None):
            self._plain = plain
            self.update(Group(text, message) if message else text)
