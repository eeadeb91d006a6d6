"""What steps.jsonl costs a training run (issue 23 asks ≤ 1 %): the same run trained with the
step records at their cadence (reporter.STEP_RECORD_SECONDS, 5 s) and with them off (a cadence
longer than the run: one line per epoch end only), alternating, on one machine.

    .venv/bin/python bench/step_records.py --data_csv ../shared/data/fer2013-dev.csv.gz \\
        [--arch fer_vgg] [--batch_size 64] [--epochs 2] [--pairs 3] [--root step-bench]

Each side is a real `fer-tui train` in the foreground, one after another (two cores: side by
side they would halve each other), ABAB… so a drift in the machine's load touches both. The
figure is each run's training images/s (metrics.jsonl: images over training time, validation
excluded), the median over the pairs, and the cost = 1 - on / off. A second figure needs no
training: the reporter's own time per step (`Reporter.sample` + `Reporter.step`, in µs), which
is the whole of the cost the loop adds, to compare with a step's time.

Run it on a quiet machine: anything else running moves img/s by more than 1 %.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fer_core import config
from fer_core.runs import rundir
from fer_core.train.reporter import STEP_SECONDS_ENV, Reporter

FER_TUI = str(Path(sys.executable).with_name("fer-tui"))
SIDES = {"on": None, "off": "1e9"}  # None: the default cadence


def train(root: Path, side: str, args) -> float:
    """One foreground run; its median epoch's training images/s."""
    env = dict(os.environ)
    env.pop(STEP_SECONDS_ENV, None)
    if SIDES[side] is not None:
        env[STEP_SECONDS_ENV] = SIDES[side]
    save = root / side
    command = [FER_TUI, "--root", str(save), "train", "--data_csv", args.data_csv, "--arch", args.arch]
    command += ["--batch_size", str(args.batch_size), "--epochs", str(args.epochs), "--patience", "0"]
    command += ["--keep_checkpoints", "0"]
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    run_dir = max((p.parent for p in save.rglob("config.toml")), key=lambda p: p.stat().st_mtime)
    speeds = [row.images_per_second for row in rundir.read_metrics(run_dir) if row.images_per_second]
    lines = len(rundir.read_steps(run_dir))
    print(f"  {side:>3}: {statistics.median(speeds):8.1f} img/s, {lines} steps.jsonl lines ({run_dir.name})")
    return statistics.median(speeds)


def reporter_cost(steps: int = 20000) -> float:
    """µs per step of Reporter.sample + Reporter.step at the default cadence (no terminal)."""
    with tempfile.TemporaryDirectory() as folder:
        run_dir = rundir.create_run(config.TrainConfig(epochs=1), "bench", root=Path(folder))
        report = Reporter(run_dir, 1)
        report.interactive = False
        started = time.time()
        t0 = time.perf_counter()
        for step in range(1, steps + 1):
            report.sample(1.0, 30, 64, 1e-3)
            report.step(1, step, steps + 1, 64 * step, started)
        return (time.perf_counter() - t0) / steps * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data_csv", required=True)
    parser.add_argument("--arch", default="fer_vgg")
    parser.add_argument("--batch_size", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--pairs", type=int, default=3, help="ABAB pairs of runs; 0: the reporter's cost alone")
    parser.add_argument("--root", type=Path, default=Path("step-bench"))
    args = parser.parse_args()
    print(f"reporter per step: {reporter_cost():.1f} µs")
    if args.pairs == 0:  # --pairs 0: the reporter's cost alone, no training
        return
    speeds: dict[str, list[float]] = {side: [] for side in SIDES}
    for pair in range(args.pairs):
        print(f"pair {pair + 1}/{args.pairs}")
        for side in SIDES if pair % 2 == 0 else reversed(list(SIDES)):
            speeds[side].append(train(args.root / f"pair-{pair + 1}", side, args))
    on, off = statistics.median(speeds["on"]), statistics.median(speeds["off"])
    print(f"median img/s: on {on:.1f}, off {off:.1f}; cost {100 * (1 - on / off):+.2f} %")


if __name__ == "__main__":
    main()
