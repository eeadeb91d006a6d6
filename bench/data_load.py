"""Load time of a FER2013 CSV: first decode (cache cold) and cached load.

    .venv/bin/python bench/data_load.py [CSV] [--repeat N]

Prints the median of N runs of each. Uses a temporary cache folder so nothing is reused.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

DEFAULT = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "fer2013-dev.csv.gz"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("csv", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as cache:
        os.environ["FER_TUI_CACHE"] = cache
        from fer_core import data

        cold, warm = [], []
        for _ in range(args.repeat):
            for f in Path(cache).glob("*"):
                f.unlink()
            start = time.perf_counter()
            dataset = data.load_dataset(args.csv)
            cold.append(time.perf_counter() - start)
            start = time.perf_counter()
            data.load_dataset(args.csv)
            warm.append(time.perf_counter() - start)
    rows = {name: len(split) for name, split in dataset.splits.items()}
    print(f"file: {args.csv} ({args.csv.stat().st_size / 1e6:.1f} MB) rows: {rows}")
    print(f"first load (decode + write cache): median {statistics.median(cold):.2f} s  (runs: "
          + ", ".join(f"{t:.2f}" for t in cold) + ")")
    print(f"cached load:                       median {statistics.median(warm):.3f} s  (runs: "
          + ", ".join(f"{t:.3f}" for t in warm) + ")")


if __name__ == "__main__":
    main()
