"""How long the leaderboard of many runs takes: find the runs, read them, group, render.

    .venv/bin/python bench/leaderboard_speed.py [--runs 1000] [--epochs 30] [--settings 50]

Writes that many run folders (config.toml, status.json, metrics.jsonl of --epochs lines) into
a temporary folder, then times `fer-tui runs --table`'s work once cold-ish (the page cache is
warm: the files were just written) and takes the best of 3.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fer_core import fileio
from fer_core.config import TrainConfig
from fer_core.runs import leaderboard, rundir


def make_runs(root: Path, runs: int, epochs: int, settings: int) -> None:
    rng = random.Random(0)
    lrs = [1e-4 * (1 + n) for n in range(settings)]
    for n in range(runs):
        run_dir = root / f"run-{n:05d}"
        run_dir.mkdir()
        config = TrainConfig(data_csv="demo", arch="tiny_cnn", lr=lrs[n % settings], seed=n // settings, epochs=epochs)
        fileio.write_toml(run_dir / rundir.CONFIG, config.model_dump())
        accs = [min(0.9, 0.2 + 0.02 * e + rng.random() * 0.05) for e in range(1, epochs + 1)]
        lines = [
            json.dumps({"epoch": e, "val_acc": a, "seconds": 10 + rng.random(), "images_per_second": 900.0})
            for e, a in enumerate(accs, 1)
        ]
        (run_dir / rundir.METRICS).write_text("\n".join(lines) + "\n")
        best = max(accs)
        status = {"run_id": run_dir.name, "preset": "demo", "state": "finished", "epoch": epochs, "epochs": epochs}
        fileio.write_json(run_dir / rundir.STATUS, {**status, "best_val_acc": best, "best_epoch": accs.index(best) + 1})


def once(root: Path) -> tuple[float, int]:
    start = time.perf_counter()
    board = leaderboard.build(rundir.find_runs(root))
    text = leaderboard.render_text(board)
    return time.perf_counter() - start, len(text.splitlines()) - 2


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--settings", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_runs(root, args.runs, args.epochs, args.settings)
        times = []
        for _ in range(3):
            seconds, rows = once(root)
            times.append(seconds)
        print(
            f"{args.runs} runs × {args.epochs} epochs, {rows} rows: first {times[0]:.3f} s, best of 3 {min(times):.3f} s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
