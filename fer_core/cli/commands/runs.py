"""`fer-tui runs`: every run, live first, in the columns the dashboard's Runs table shows too
(fer_core.runs.columns); `--all`: every run of this user, wherever it was started."""

import argparse
import time
from pathlib import Path

from fer_core import locations
from fer_core.cli.commands import check_named_root
from fer_core.errors import DataError
from fer_core.runs import registry
from fer_core.runs.columns import (
    BEST_HEADER,
    EPOCH_HEADER,
    ETA_HEADER,
    STEP_HEADER,
    UPDATED_HEADER,
    accuracy_text,
    epoch_text,
    eta_text,
    step_text,
    updated_text,
)
from fer_core.runs.rundir import RunInfo, find_runs
from fer_core.text import shown


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("root", nargs="?", help="folder to scan (default: the checkpoints root)")
    parser.add_argument(
        "--all",
        action="store_true",
        help="also every run of this user started from any other folder (the registry in the state folder)",
    )
    board = parser.add_argument_group("the leaderboard (one row per setting, mean ± std over seeds)")
    board.add_argument("--table", action="store_true", help="rank the runs' settings instead of listing runs")
    form = board.add_mutually_exclusive_group()
    form.add_argument("--csv", action="store_true", help="the table as CSV (numbers unformatted)")
    form.add_argument("--markdown", action="store_true", help="the table as Markdown")
    board.add_argument(
        "--base", metavar="PRESET", help="the preset to diff against (default: the sweep's or most runs')"
    )


def run(args: argparse.Namespace) -> int:
    if args.root:  # a folder named on the command line must be one: a typo is not an empty root
        root = Path(args.root).expanduser()
        if not root.is_dir():
            raise DataError(f"{root}: {'not a folder' if root.exists() else 'no such folder'}")
    else:
        check_named_root(args)
        root = locations.checkpoints_root()  # none yet: no runs yet (said below)
    if args.all:
        runs = registry.all_runs(root if root.is_dir() else None)
    else:
        runs = find_runs(root) if root.is_dir() else []
    if args.table or args.csv or args.markdown:
        return table(runs, root, args)
    if not runs:
        where = f"no runs {'under' if root.is_dir() else 'yet under'} {shown(root)}"
        print(where + ("" if args.all else " (--all: this user's runs anywhere)"))
        return 0
    now = time.time()
    print(
        f"{'run':<40} {'preset':<16} {'state':<13} {EPOCH_HEADER:>7} {STEP_HEADER:>9} {ETA_HEADER:>7} "
        f"{BEST_HEADER:>7}  {UPDATED_HEADER}"
    )
    for info in runs:
        s = info.status
        best = accuracy_text(s.best_val_acc)  # as the dashboard's Runs table prints it
        print(
            shown(
                f"{info.run_id:<40} {s.preset or '':<16} {info.state:<13} "
                f"{epoch_text(s, info.state):>7} {step_text(s, info.state):>9} {eta_text(s, info.state):>7} "
                f"{best:>7}  {updated_text(s, now)}"
            )
        )
        if args.all:
            print(f"  in {info.path}")
        if info.state in ("failed", "lost") and s.message:
            print(f"  └ {shown(s.message)}")
    return 0


def table(runs: list[RunInfo], root: Path, args: argparse.Namespace) -> int:
    from fer_core.runs import leaderboard

    board = leaderboard.build(runs, base=args.base)
    if not board.rows:
        print(f"no runs with a val accuracy under {root}")
        return 0
    render = (
        leaderboard.render_csv
        if args.csv
        else leaderboard.render_markdown
        if args.markdown
        else leaderboard.render_text
    )
    print(render(board))
    return 0
