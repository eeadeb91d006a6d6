"""How a run's epoch and age are worded, the same in `fer-tui runs` and the dashboard's Runs
table, so both say the same thing about a run at the same moment."""

from __future__ import annotations

from fer_core.records import RunStatus

# the column headers and what they mean (the README quotes them)
EPOCH_HEADER = "epoch"  # the epoch in progress while running, else the last one completed
UPDATED_HEADER = "updated"  # time since the trainer last wrote status.json (its heartbeat)
BEST_HEADER = "best"  # the best validation accuracy so far


def accuracy_text(value: float | None) -> str:
    """An accuracy in 0..1 as `68.21%`; `-` when missing."""
    if not isinstance(value, (int, float)):
        return "-"
    return f"{100 * value:.2f}%"


def epoch_text(status: RunStatus, state: str | None = None) -> str:
    """`7/10`: while a run is inside an epoch, the epoch in progress (status.json counts the
    finished ones, so a running run would otherwise look one epoch behind its log). `state` is
    the judged one (a `running` status whose trainer died is lost: its epoch never ended)."""
    epoch = status.epoch
    if (state or status.state) == "running" and 0 < status.step < status.steps:
        epoch += 1
    return f"{epoch}/{status.epochs or '?'}"


def age(seconds: float) -> str:
    """A coarse age (`45s`, `12m`, `3h`, `2d`): coarse so a table redraws rarely."""
    seconds = max(0.0, float(seconds))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


def updated_text(status: RunStatus, now: float) -> str:
    """`5s ago`: since the trainer last wrote its status (its heartbeat; an ended run's end)."""
    return age(now - (status.updated or status.started or now)) + " ago"
