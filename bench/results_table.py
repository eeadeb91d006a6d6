"""The README's results rows: fer-tui's leaderboard of the given runs (what each run was, its
best logged accuracy, epoch of best, time per epoch, img/s, checkpoint size: `fer-tui runs
--table --markdown`), then what each run's best checkpoint scores on a split with each
test-time view (`fer_core.infer.evaluate`, the same numbers `fer-tui eval` prints).

    .venv/bin/python bench/results_table.py RUN_DIR [RUN_DIR ...] \\
        --data_csv ../shared/data/fer2013-dev.csv.gz [--split PublicTest] [--tta none,flip,ten_crop]

A run directory without its checkpoint (the records kept in bench/runs/) has the leaderboard
row only: the accuracy it logged, in the view it validated with.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fer_core.runs import leaderboard, rundir


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--data_csv", required=True)
    parser.add_argument("--split", default="PublicTest")
    parser.add_argument("--tta", default="none,flip,ten_crop", help="comma-separated views")
    args = parser.parse_args()
    views = args.tta.split(",")
    print(leaderboard.render_markdown(leaderboard.build(leaderboard.runs_of(args.runs))))
    with_ckpt = [run for run in args.runs if (run / rundir.BEST).exists()]
    if not with_ckpt:
        return 0
    from fer_core.infer.evaluate import evaluate

    print()
    print("| run | " + " | ".join(f"{args.split} {view}" for view in views) + " |")
    print("|" + "---|" * (1 + len(views)))
    for run_dir in with_ckpt:
        scores = [f"{evaluate(run_dir / rundir.BEST, args.data_csv, args.split, tta=v).accuracy:.4f}" for v in views]
        print(f"| {run_dir.name} | " + " | ".join(scores) + " |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
