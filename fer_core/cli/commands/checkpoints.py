"""`fer-tui checkpoints [DIR]`: the triage table; exit 1 if any checkpoint is broken."""

from __future__ import annotations

import argparse
from pathlib import Path

from fer_core import locations
from fer_core import table as table_format
from fer_core.ckpt import listing
from fer_core.ckpt.index import find_checkpoints
from fer_core.ckpt.listing import CheckpointRow
from fer_core.ckpt.verdict import exit_status, human_bytes
from fer_core.cli.commands import add_model_arguments, check_named_root
from fer_core.errors import CheckpointError
from fer_core.mindspore_setup import quiet_logging
from fer_core.runs.columns import accuracy_text
from fer_core.table import Column
from fer_core.text import shown


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("root", nargs="?", help="folder (or one .ckpt) to check (default: the checkpoints root)")
    parser.add_argument(
        "--samples", help="sample folder for the behaviour check (default: the sample folder if it exists, else 'demo')"
    )
    parser.add_argument("--quick", action="store_true", help="sidecars and sizes only: no MindSpore, no inference")
    parser.add_argument(
        "--json",
        action="store_true",
        help="one JSON object per checkpoint; its verdict is a level (ok, unknown, warning, broken) and a text",
    )
    add_model_arguments(parser, arch=False)


def default_samples() -> str:
    folder = locations.samples_dir()
    return str(folder) if folder.is_dir() and any(folder.iterdir()) else "demo"


def run(args: argparse.Namespace) -> int:
    if not args.root:
        check_named_root(args)
    root = Path(args.root).expanduser() if args.root else locations.checkpoints_root()
    if args.root and not root.exists():
        raise CheckpointError(f"{root}: no such file or folder")
    roots = [root] if root.exists() else []
    if not args.root:  # the default listing is the dashboard's: the shipped models too
        shipped = locations.shipped_dir()
        if shipped.is_dir() and not (root.exists() and shipped.resolve().is_relative_to(root.resolve())):
            roots.append(shipped)
    if not roots:  # nothing trained yet: an empty root, not an error
        print(f"no checkpoints under {shown(root)} (none trained yet)")
        return 0
    if args.quick:
        rows = [info.to_row() for folder in roots for info in listing.scan(folder)]
    else:
        quiet_logging()
        from fer_core.job.check import check_all

        found = {path: folder for folder in roots for path in find_checkpoints(folder)}
        reports = check_all(list(found), args.samples or default_samples(), device_target=args.device_target)
        rows = [report.to_row(found.get(report.path, root)) for report in reports]
    if not rows:
        print(f"no checkpoints under {shown(root)}")
        return 0
    if args.json:
        for row in rows:
            print(row.to_line())
    else:
        print_table(rows)
        if root.is_file():  # one checkpoint named: every check's line under its row
            print_checks(rows[0])
    return exit_status(row.verdict.level for row in rows)


def print_checks(row: CheckpointRow) -> None:
    """Each check of a deep row as `name  level  why` (a quick row has none)."""
    checks = row.checks or []
    width = max((len(check.name) for check in checks), default=0)
    for check in checks:
        print(f"  {check.name.ljust(width)}  {check.level:<7}  {shown(check.text)}".rstrip())


def print_table(rows: list[CheckpointRow], width: int | None = None) -> None:
    """The triage table, fitted to `width` (default: the terminal's; not a terminal: whole
    rows). A verdict too long for its column is repeated whole under its row."""
    width = width or table_format.terminal_width()
    date = table_format.common_date([r.run for r in rows if r.run]) if width else ""
    columns = [
        Column(table_format.date_header("run", date), keep=True, min_width=14, cut="run"),
        Column("file", keep=True, min_width=15, cut="middle"),  # best_model.ckpt whole
        Column("size", right=True, drop=3),
        Column("expected", right=True, drop=5),
        Column("kind", drop=4),
        Column("arch", drop=2, min_width=8),
        Column("epoch", right=True, drop=1),
        Column("val acc", right=True, keep=True),
        Column("verdict", keep=True, min_width=16),
    ]
    cells = [
        [
            shown(table_format.without_date(r.run, date) if r.run else ""),
            shown(r.file),
            human_bytes(r.size),
            human_bytes(r.expected),
            r.kind or "-",
            shown(r.arch or "-"),  # a sidecar's word, which a hand-written one may make anything
            "-" if r.epoch is None else str(r.epoch),
            accuracy_text(r.val_acc),
            shown(r.verdict),
        ]
        for r in rows
    ]
    verdict_width = table_format.layout(columns, cells, width).get(len(columns) - 1)
    header, *lines = table_format.fit(columns, cells, width)
    print(header)
    for line, row in zip(lines, cells):
        print(line)
        if verdict_width is not None and len(row[-1]) > verdict_width:
            print("\n".join(table_format.note(row[-1], width)))
