"""`fer-tui runs`: every run, live first. The dashboard's Runs table shows the same two
columns through the helpers below, so both say the same thing about a run at the same moment."""

import time
from pathlib import Path

from fer_core import locations
from fer_core.errors import DataError
from fer_core.records import RunStatus
from fer_core.runs import find_runs

# the column headers and what they mean (the README quotes them)
EPOCH_HEADER = "epoch"  # the epoch in progress while running, else the last one completed
UPDATED_HEADER = "updated"  # time since the trainer last wrote status.json (its heartbeat)


def add_arguments(parser):
    parser.add_argument("root", nargs="?", help="folder to scan (default: the checkpoints root)")


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


def run(args) -> int:
    if args.root:  # a folder named on the command line must be one: a typo is not an empty root
        root = Path(args.root).expanduser()
        if not root.is_dir():
            raise DataError(f"{root}: {'not a folder' if root.exists() else 'no such folder'}")
    else:
        root = locations.checkpoints_root()  # none yet: no runs (said below)
    runs = find_runs(root) if root.is_dir() else []
    if not runs:
        print(f"no runs under {root}")
        return 0
    now = time.time()
    print(f"{'run':<40} {'preset':<16} {'state':<13} {EPOCH_HEADER:>7} {'best val':>9}  "
          f"{UPDATED_HEADER}")
    for info in runs:
        s = info.status
        best = f"{s.best_val_acc:.4f}" if s.best_val_acc is not None else "-"
        print(f"{info.run_id:<40} {s.preset or '':<16} {info.state:<13} "
              f"{epoch_text(s, info.state):>7} {best:>9}  {updated_text(s, now)}")
        if info.state in ("failed", "lost") and s.message:
            print(f"  └ {s.message}")
    return 0

