"""Training speed with 1 and N data-parallel workers (msrun), the same preset and global batch.

    .venv/bin/python bench/workers_speed.py [--preset demo] [--workers 1 2] [--epochs 2] [-- FLAGS…]

Each count trains the preset as `fer-tui train --workers N` does, in a fresh checkpoints root,
one after the other; the figure is the last epoch's images/s from metrics.jsonl (all workers
together; the first epoch pays for start-up and compilation). Anything after `--` goes to
`fer-tui train` (`-- --data_csv ../shared/data/fer2013-dev.csv.gz --arch fer_vgg`).

On a 2-core machine expect no speed-up: two workers share the two cores one process already
uses, and add a gradient AllReduce per step. The point of workers is several GPUs or nodes.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def measure(preset: str, workers: int, epochs: int, extra: list[str]) -> tuple[float, float]:
    """(last epoch's images/s, wall seconds) of one run."""
    from fer_core.runs import rundir

    with tempfile.TemporaryDirectory() as root:
        env = {
            **os.environ,
            "FER_TUI_CHECKPOINTS": root,
            "GLOG_v": "3",
            "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p),
        }
        started = time.monotonic()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "fer_core.cli",
                "train",
                "--preset",
                preset,
                "--epochs",
                str(epochs),
                "--workers",
                str(workers),
                "--save_dir",
                "bench",
                "--keep_checkpoints",
                "0",
                *extra,
            ],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        seconds = time.monotonic() - started
        run_dir = next((Path(root) / "bench").iterdir())
        return rundir.read_metrics(run_dir)[-1].images_per_second, seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="demo")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--epochs", type=int, default=2)
    args, extra = parser.parse_known_args()
    extra = [a for a in extra if a != "--"]
    print(
        f"preset {args.preset}, {args.epochs} epochs, {len(os.sched_getaffinity(0))} cores, "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    print("| workers | images/s (last epoch, all workers) | wall time |")
    print("|---|---|---|")
    for workers in args.workers:
        speed, seconds = measure(args.preset, workers, args.epochs, extra)
        print(f"| {workers} | {speed:,.0f} | {seconds:.0f} s |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
