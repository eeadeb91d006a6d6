"""`fer-tui runs`: every run, live first, in the columns the dashboard's Runs table shows too
(fer_core.runs.columns); `--all`: every run of this user, wherever it was started."""

import argparse
import time
from pathlib import Path

from fer_core import locations
from fer_core import table as table_format
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
from fer_core.table import Column
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
    print("\n".join(listing(runs, time.time(), table_format.terminal_width(), args.all)))
    return 0


def listing(runs: list[RunInfo], now: float, width: int | None, paths: bool = False) -> list[str]:
    """The runs table, fitted to `width` (None: every column whole). In a terminal, the run ids'
    date moves to the header when every run shares it."""
    date = table_format.common_date([info.run_id for info in runs]) if width else ""
    columns = [
        Column(table_format.date_header("run", date), keep=True, min_width=16, cut="run"),
        Column("preset", drop=3, min_width=8),
        Column("state", keep=True),
        Column(EPOCH_HEADER, right=True, drop=1),
        Column(STEP_HEADER, right=True, drop=5),
        Column(ETA_HEADER, right=True, drop=2),
        Column(BEST_HEADER, right=True, keep=True),
        Column(UPDATED_HEADER, drop=4),
    ]
    rows, notes = [], []
    for info in runs:
        s = info.status
        rows.append(
            [
                shown(table_format.without_date(info.run_id, date)),
                shown(s.preset or ""),
                info.state,
                epoch_text(s, info.state),
                step_text(s, info.state),
                eta_text(s, info.state),
                accuracy_text(s.best_val_acc),  # as the dashboard's Runs table prints it
                updated_text(s, now),
            ]
        )
        below = [f"  in {shown(info.path)}"] if paths else []
        if info.state in ("failed", "lost") and s.message:
            below += table_format.note(shown(s.message), width)
        if info.problem:  # `unreadable`: its status.json, and why
            below += table_format.note(shown(info.problem), width)
        notes.append(below)
    header, *lines = table_format.fit(columns, rows, width)
    return [header, *(text for line, below in zip(lines, notes) for text in (line, *below))]


def table(runs: list[RunInfo], root: Path, args: argparse.Namespace) -> int:
    from fer_core.runs import leaderboard

    board = leaderboard.build(runs, base=args.base)
    if not board.rows:
        print("; ".join([f"no runs with a val accuracy under {shown(root)}", *leaderboard.left_out_notes(board)]))
        return 0
    render = (
        leaderboard.render_csv
        if args.csv
        else leaderboard.render_markdown
        if args.markdown
        else leaderboard.render_text
    )
    print(render(board))  # its cells and caption escape what the runs' files hold
    return 0
