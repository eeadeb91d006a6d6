"""Proxy runs for the README's ablation table: cpu-fast's recipe compressed to `--epochs` (the
same warm-up and cosine decay over fewer epochs), once as it is and once per change, then each
change's PublicTest difference.

    .venv/bin/python bench/ablation.py --data_csv ../shared/data/fer2013-dev.csv.gz \\
        [--epochs 6] [--root ablation-runs] [--only "no label smoothing" ...] [--table]

Every run is a real `fer-tui train` in the foreground, one after another (two cores: side by
side they would halve each other). Each change trains into its own folder under --root; a
finished run is reused and an interrupted one resumed, so the script can be stopped and started
again. `--table` prints the table from the runs there without training: it is fer-tui's
leaderboard (`fer-tui runs --table --markdown bench/runs/ablation`; docs/many-runs.md). Accuracy
is the best epoch's logged val_acc (flip-averaged, as cpu-fast validates; `fer-tui eval` of the
run's best_model.ckpt reproduces it); time is the median epoch's. One run per change: a
difference of about a point can be one run's luck (the base's included), so the table ranks
changes, it does not prove them.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fer_core.runs import rundir

FER_TUI = str(Path(sys.executable).with_name("fer-tui"))
CHANGES: dict[str, list[str]] = {
    "as cpu-fast": [],
    "heavy augmentation (full)": ["--augment_policy", "full"],
    "no augmentation": ["--no_augment"],
    "mixup, alpha 0.2": ["--mixup", "--mixup_alpha", "0.2"],
    "no label smoothing": ["--label_smoothing", "0"],
    "label smoothing 0.2": ["--label_smoothing", "0.2"],
    "weight decay 5e-4": ["--weight_decay", "5e-4"],
    "batch 64, lr 1e-3": ["--batch_size", "64", "--lr", "1e-3"],
    "fer_cnn (stride-4 stem)": ["--arch", "fer_cnn"],
}


def folder(root: Path, name: str) -> Path:
    return root / ("ablation-" + re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-"))


def the_run(root: Path, name: str) -> Path | None:
    found = sorted(p.parent for p in folder(root, name).glob("*/config.toml"))
    return found[-1] if found else None


def train(root: Path, name: str, data: str, epochs: int) -> None:
    run_dir = the_run(root, name)
    status = rundir.read_status(run_dir) if run_dir else None
    if status is not None and status.state == "finished":
        return
    if run_dir is not None:
        command = [FER_TUI, "--root", str(root), "train", "--resume", str(run_dir)]
    else:
        command = [
            FER_TUI,
            "--root",
            str(root),
            "train",
            "--preset",
            "cpu-fast",
            "--data_csv",
            data,
            "--epochs",
            str(epochs),
            "--save_dir",
            folder(root, name).name,
            *CHANGES[name],
        ]
    print("$", " ".join(command[1:]), flush=True)
    subprocess.run(command, check=True)


def table(root: Path) -> None:
    """The table is fer-tui's leaderboard of the runs under --root (one row per change, the
    difference from cpu-fast as columns and "vs base"): `fer-tui runs --table --markdown ROOT`."""
    from fer_core.runs import leaderboard

    print(leaderboard.render_markdown(leaderboard.build(rundir.find_runs(root), base="cpu-fast")))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data_csv", default=str(ROOT.parent / "shared" / "data" / "fer2013-dev.csv.gz"))
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--root", type=Path, default=Path("ablation-runs"))
    parser.add_argument("--only", action="append", choices=sorted(CHANGES), help="a change to run (repeatable)")
    parser.add_argument("--table", action="store_true", help="print the table from --root, train nothing")
    args = parser.parse_args()
    names = args.only or list(CHANGES)
    if not args.table:
        for name in (["as cpu-fast"] if "as cpu-fast" not in names else []) + names:
            train(args.root.resolve(), name, args.data_csv, args.epochs)
    table(args.root.resolve())
    return 0


if __name__ == "__main__":
    from fer_core.errors import FerError

    try:
        sys.exit(main())
    except FerError as error:  # e.g. no data set at the default ../shared/data path: one line
        sys.exit(f"error: {error}")
