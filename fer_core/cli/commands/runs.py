"""`fer-tui runs`: every run, live first, in the columns the dashboard's Runs table shows too
(fer_core.runs.columns)."""

import time
from pathlib import Path

from fer_core import locations
from fer_core.errors import DataError
from fer_core.runs.columns import BEST_HEADER, EPOCH_HEADER, UPDATED_HEADER, accuracy_text, epoch_text, updated_text
from fer_core.runs.rundir import find_runs


def add_arguments(parser):
    parser.add_argument("root", nargs="?", help="folder to scan (default: the checkpoints root)")


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
    print(f"{'run':<40} {'preset':<16} {'state':<13} {EPOCH_HEADER:>7} {BEST_HEADER:>7}  {UPDATED_HEADER}")
    for info in runs:
        s = info.status
        best = accuracy_text(s.best_val_acc)  # as the dashboard's Runs table prints it
        print(
            f"{info.run_id:<40} {s.preset or '':<16} {info.state:<13} "
            f"{epoch_text(s, info.state):>7} {best:>7}  {updated_text(s, now)}"
        )
        if info.state in ("failed", "lost") and s.message:
            print(f"  └ {s.message}")
    return 0
