"""`fer-tui samples --csv CSV --ckpt P --num_samples 3 --output DIR`: the sample folder."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

from fer_core import locations
from fer_core.cli.commands import add_model_arguments
from fer_core.config import SPLITS
from fer_core.errors import DataError
from fer_core.mindspore_setup import quiet_logging
from fer_core.text import shown

if TYPE_CHECKING:
    from fer_core.data.samples import SampleSet


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--csv",
        "--data_csv",
        dest="csv",
        default="demo",
        help="FER2013 CSV (.csv/.csv.gz), image folder, or 'demo' (default)",
    )
    parser.add_argument(
        "--ckpt",
        "--ckpt_path",
        dest="ckpt",
        help="keep only faces this checkpoint classifies correctly (without: faces by true class)",
    )
    parser.add_argument("--num_samples", type=int, default=3, help="faces per class (default 3)")
    parser.add_argument(
        "--output",
        type=Path,
        help="folder to fill (default: $FER_TUI_SAMPLES, the sample "
        "folder the TUI then uses, else ./samples: the shipped one is never written)",
    )
    parser.add_argument("--split", choices=SPLITS, help="split to take faces from (default PublicTest)")
    add_model_arguments(parser)
    parser.add_argument("--force", action="store_true", help="replace samples already in --output")


def make(args: argparse.Namespace) -> SampleSet:
    """The sample folder as the flags say (the verb and the `samples` job alike)."""
    quiet_logging()
    from fer_core.data.samples import make_samples

    # the shipped sample folder is package data: a wheel's copy lives in site-packages
    output = args.output or (locations.samples_dir() if os.environ.get("FER_TUI_SAMPLES") else Path("samples"))
    if output.resolve() == locations.shipped_data("samples"):  # e.g. ./samples in a checkout
        raise DataError(
            f"{output}: that is fer-tui's shipped sample folder, which is never written; choose another --output"
        )
    return make_samples(
        args.ckpt,
        args.csv,
        args.num_samples,
        output,
        split=args.split,
        force=args.force,
        device_target=args.device_target,
        arch=args.arch,
    )


def run(args: argparse.Namespace) -> int:
    from fer_core.data.samples import summary_lines

    result = make(args)
    print("\n".join(map(shown, summary_lines(result, args.csv))))
    return 0
