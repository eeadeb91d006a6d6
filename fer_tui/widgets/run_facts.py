"""The run's key facts in two lines: id, preset, device, state, best, patience."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Static

from fer_tui.format import STATE_STYLES, percent


def facts_text(status: dict[str, Any], state: str, device: str, arch: str,
               metrics_best: tuple[int, float] | None = None) -> Text:
    """`metrics_best` (epoch, acc) stands in when status.json has no best yet."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(state.replace("_", " "), style=STATE_STYLES.get(state, ""))
    text.append(f"  {status.get('run_id', '')}", style="bold")
    text.append(f"\npreset {status.get('preset', '-')} · {device} · {arch}")
    best, epoch = status.get("best_val_acc"), status.get("best_epoch")
    if best is None and metrics_best is not None:
        epoch, best = metrics_best
    text.append(" · best ")
    text.append(percent(best), style="bold green" if best is not None else "")
    if epoch:
        text.append(f" @{epoch}")
    patience = status.get("patience_left")
    if patience is not None:
        text.append(f" · patience {patience}")
    if status.get("message") and state in ("failed", "lost", "stopped"):
        text.append(f"\n{status['message']}", style="red" if state == "failed" else "yellow")
    return text


class RunFacts(Static):
    """Redraws only when the text changes (status.json is rewritten every step)."""

    def show(self, status: dict[str, Any], state: str, device: str, arch: str,
             metrics_best: tuple[int, float] | None = None) -> None:
        text = facts_text(status, state, device, arch, metrics_best)
        if text.plain != getattr(self, "_plain", None):
            self._plain = text.plain
            self.update(text)
