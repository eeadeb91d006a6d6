"""The run's key facts in two lines (id, preset, device, state, best, patience), then why it
ended if it failed, was lost or stopped (or why its status.json does not read)."""

from __future__ import annotations

from rich.console import Group
from rich.text import Text
from textual.widgets import Static

from fer_core.records import RunStatus, State
from fer_core.text import shown
from fer_tui.format import STATE_STYLES, percent


def patience_text(left: int | None, patience: int | None) -> str:
    """`patience 3/4 left`: status.json counts the epochs LEFT before early stopping, which read
    alone (`patience 3`) looked like the setting; '' for a run that never stops early."""
    if left is None or patience == 0:
        return ""
    return f"patience {left}/{patience} left" if patience is not None else f"patience {left} left"


def facts_text(
    status: RunStatus,
    state: State,
    device: str,
    arch: str,
    metrics_best: tuple[int, float] | None = None,
    patience: int | None = None,
) -> Text:
    """`metrics_best` (epoch, acc) stands in when status.json has no best yet; `patience` is the
    run's setting (None: its config is unreadable)."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(state.replace("_", " "), style=STATE_STYLES.get(state, ""))
    text.append(f"  {status.run_id or ''}", style="bold")
    # the preset unlabelled (the run id ends with it too): `patience 15/15 left` then fits 80
    # columns beside gpu-recommended's names
    text.append(f"\n{status.preset or 'custom'} · {device} · {arch}")
    if status.workers > 1:  # a data-parallel run (msrun)
        text.append(f" · {status.workers} workers")
    best, epoch = status.best_val_acc, status.best_epoch
    if best is None and metrics_best is not None:
        epoch, best = metrics_best
    text.append(" · best ")
    text.append(percent(best), style="bold green" if best is not None else "")
    if epoch:
        text.append(f" @{epoch}")
    if left := patience_text(status.patience_left, patience):
        text.append(f" · {left}")
    return text


def message_text(status: RunStatus, state: str) -> Text | None:
    """Why a run ended badly (or its status.json does not read), wrapped at words (cut at 80
    columns it said nothing)."""
    if not (status.message and state in ("failed", "lost", "stopped", "unreadable")):
        return None
    return Text(shown(status.message), style="red" if state in ("failed", "unreadable") else "yellow")


class RunFacts(Static):
    """Redraws only when the text changes (status.json is rewritten every step)."""

    def show(self, facts: Text, message: Text | None) -> None:
        """`facts_text` and `message_text` of the run's status."""
        plain = facts.plain + (f"\n{message.plain}" if message else "")
        if plain != getattr(self, "_plain", None):
            self._plain = plain
            self.update(Group(facts, message) if message else facts)
