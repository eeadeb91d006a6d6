"""The README's results and ablation rows, from run directories: what each run was, how long
it took (its metrics.jsonl) and what its best checkpoint scores on a split with each test-time
view (`fer_core.infer.evaluate`, the same numbers `fer-tui eval` prints).

    .venv/bin/python bench/results_table.py RUN_DIR [RUN_DIR ...] \\
        --data_csv ../shared/data/fer2013-dev.csv.gz [--split PublicTest] [--tta none,flip,ten_crop]

A row per run: preset, arch, what differs from the first run's config, epochs run (best at),
wall time (the sum of the epochs' seconds), median img/s, checkpoint size, accuracy per view.
A run directory without its checkpoint (the records kept in bench/runs/) shows the accuracy it
logged at its best epoch, in the view it validated with (eval of the checkpoint reproduces it).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fer_core.infer.evaluate import evaluate
from fer_core.runs import rundir

SKIP = {"data_csv", "save_dir", "keep_checkpoints", "device_target"}  # where, not what


def differences(config: dict, base: dict) -> str:
    changed = [f"{key}={value}" for key, value in config.items() if key not in SKIP and base.get(key) != value]
    return ", ".join(changed) or "(the first run)"


def row(run_dir: Path, base: dict, data: str, split: str, views: list[str]) -> str:
    status = rundir.read_status(run_dir)
    config = rundir.read_config(run_dir).model_dump()
    metrics = rundir.read_metrics(run_dir)
    ckpt = run_dir / "best_model.ckpt"
    best = max(metrics, key=lambda m: m.val_acc)
    minutes = sum(m.seconds for m in metrics) / 60
    speed = statistics.median(m.images_per_second for m in metrics)
    if ckpt.exists():
        scores = [f"{evaluate(ckpt, data, split, tta=view).accuracy:.4f}" for view in views]
    else:  # a recorded run (bench/runs/): the validation it logged, in the view it validated with
        logged = "flip" if config["tta"] else "none"
        scores = [f"{best.val_acc:.4f} (logged)" if view == logged else "—" for view in views]
    return (
        f"| {status.preset if status else '?'} | {config['arch']} | {differences(config, base)} | "
        f"{len(metrics)} of {config['epochs']} (best at {best.epoch}) | {minutes:.1f} min | "
        f"{speed:.0f} | {f'{ckpt.stat().st_size / 1e6:.1f} MB' if ckpt.exists() else '—'} | "
        + " | ".join(scores)
        + " |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--data_csv", required=True)
    parser.add_argument("--split", default="PublicTest")
    parser.add_argument("--tta", default="none,flip,ten_crop", help="comma-separated views")
    args = parser.parse_args()
    views = args.tta.split(",")
    base = rundir.read_config(args.runs[0]).model_dump()
    print(
        "| preset | arch | differs from the first | epochs | wall time | img/s | checkpoint | "
        + " | ".join(f"{args.split} {view}" for view in views)
        + " |"
    )
    print("|" + "---|" * (7 + len(views)))
    for run_dir in args.runs:
        print(row(run_dir, base, args.data_csv, args.split, views), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
