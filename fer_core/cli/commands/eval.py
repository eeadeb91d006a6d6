"""`fer-tui eval --ckpt PATH --data_csv CSV`: accuracy, per-class precision/recall, confusion matrix."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from fer_core.cli.commands import add_model_arguments
from fer_core.config import SPLITS
from fer_core.errors import DataError
from fer_core.infer.predictor import TTA_CHOICES
from fer_core.mindspore_setup import quiet_logging
from fer_core.text import shown


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ckpt", "--ckpt_path", dest="ckpt", required=True, help="checkpoint (.ckpt)")
    parser.add_argument("--data_csv", required=True, help="FER2013 CSV (.csv/.csv.gz), image folder, or 'demo'")
    parser.add_argument("--split", default="PublicTest", choices=SPLITS, help="split to score (default PublicTest)")
    parser.add_argument(
        "--tta",
        nargs="?",
        const="flip",
        default="auto",
        choices=TTA_CHOICES,
        help="test-time augmentation: auto (default: as the checkpoint's run validated), none, flip or ten_crop",
    )
    parser.add_argument("--batch_size", type=int, help="images per batch (default: the training batch size)")
    add_model_arguments(parser, backend=True)
    parser.add_argument("--json", action="store_true", help="one JSON object instead of text")
    parser.add_argument(
        "--report",
        type=Path,
        metavar="DIR",
        help="write confusion_matrix.png, per_class.csv, report.json and report.txt here",
    )
    parser.add_argument("--force", action="store_true", help="overwrite an earlier report in --report DIR")


def run(args: argparse.Namespace) -> int:
    from fer_core.infer.evaluate import check_report_dir, evaluate, write_report

    if args.batch_size is not None and args.batch_size < 1:
        raise DataError(f"--batch_size must be >= 1, got {args.batch_size}")
    if args.report:
        check_report_dir(args.report, args.force)  # before minutes of evaluation, not after
        _check_creatable(args.report)
    quiet_logging()
    result = evaluate(
        args.ckpt, args.data_csv, args.split, args.tta, args.batch_size, args.arch, args.device_target, args.backend
    )
    written = write_report(result, args.report, args.force) if args.report else []
    if args.json:
        print(json.dumps({**result.to_dict(), "report": [str(p) for p in written]}))
    else:
        print("\n".join(map(shown, result.lines())))
        if written:
            print(f"\nreport: {', '.join(shown(p) for p in written)}")
    return 0


def _check_creatable(folder: Path) -> None:
    """The report folder can be made: its nearest existing ancestor is a folder (checked
    without creating anything, so a refused command leaves the disk as it was)."""
    ancestor = folder.expanduser().absolute()
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise DataError(f"--report {folder}: {ancestor} is a file, not a folder")
