"""Load time of a FER2013 CSV: first decode (cache cold) and cached load.

    .venv/bin/python bench/data_load.py [CSV] [--repeat N]

Prints the median of N runs of each. Uses a temporary cache folder so nothing is reused.
Where pandas imports, its best decode of the same file (read_csv, then one np.fromstring over
all pixel strings) is timed alternating with ours: the design issue asked whether pandas
would make data.py smaller without making it slower. It is slower here, and a bad row would
still need our row-by-row pass to be named, so data.py keeps its own parser.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
DEFAULT = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "fer2013-dev.csv.gz"


def pandas_decode(csv: Path) -> int:
    import numpy as np
    import pandas as pd

    frame = pd.read_csv(csv, dtype={"emotion": np.int64, "pixels": str, "Usage": str})
    pixels = np.fromstring(" ".join(frame["pixels"]), dtype=np.int64, sep=" ")
    return pixels.reshape(len(frame), 48, 48).astype(np.uint8).shape[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("csv", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as cache:
        os.environ["FER_TUI_CACHE"] = cache
        from fer_core.data import dataset as data

        cold, warm, other = [], [], []
        for _ in range(args.repeat):
            try:
                start = time.perf_counter()
                pandas_decode(args.csv)
                other.append(time.perf_counter() - start)
            except ImportError:
                pass
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
    print(
        f"first load (decode + write cache): median {statistics.median(cold):.2f} s  (runs: "
        + ", ".join(f"{t:.2f}" for t in cold)
        + ")"
    )
    if other:
        print(
            f"pandas decode (no checks, no cache): median {statistics.median(other):.2f} s  (runs: "
            + ", ".join(f"{t:.2f}" for t in other)
            + ")"
        )
    print(
        f"cached load:                       median {statistics.median(warm):.3f} s  (runs: "
        + ", ".join(f"{t:.3f}" for t in warm)
        + ")"
    )


if __name__ == "__main__":
    from fer_core.errors import FerError

    try:
        main()
    except FerError as error:  # e.g. no data set at the default ../shared/data path: one line
        sys.exit(f"error: {error}")
