"""A stand-in for `python -m fer_core.job` whose `infer` has fixed outputs (snapshots, error
paths); every other kind goes to the real job.

    python tests/functional/fake_job.py infer --ckpt P --folder DIR [--arch A]

Speaks the real events (fer_core.job.events); never imports mindspore or numpy. Every third
face is predicted as the next class; the top probability depends only on the true class.
FAKE_INFER_FAIL=1 prints an error event and exits 2; FAKE_INFER_DELAY (seconds per image)
slows it down. FAKE_SAMPLES_EMPTY=1 makes `samples` end well with no face written.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from fer_core import CLASS_NAMES
from fer_core.ckpt.verdict import OK
from fer_core.job.events import Error, InferSummary, Prediction, Progress, Result, Started, dump


def emit(event) -> None:
    print(dump(event), flush=True)


def infer(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ckpt", required=True)
    parser.add_argument("--folder", type=Path, required=True)
    parser.add_argument("--arch")
    args = parser.parse_args(argv)
    if os.environ.get("FAKE_INFER_FAIL"):
        print("a MindSpore-like complaint on stderr", file=sys.stderr)
        emit(Error(message=f"{args.ckpt}: not a MindSpore checkpoint (fake)"))
        return 2
    delay = float(os.environ.get("FAKE_INFER_DELAY", "0"))
    files = [
        (f, CLASS_NAMES.index(d.name))
        for d in sorted(args.folder.iterdir())
        if d.is_dir() and d.name in CLASS_NAMES
        for f in sorted(d.iterdir())
        if f.suffix == ".png"
    ]
    emit(Started(job="infer", total=len(files), arch="tiny_cnn"))
    correct = 0
    for index, (file, label) in enumerate(files):
        time.sleep(delay)
        pred = (label + 1) % 7 if index % 3 == 2 else label
        top = round(0.45 + 0.07 * label, 6)
        rest = round((1 - top) / 6, 6)
        correct += pred == label
        emit(
            Progress(
                done=index + 1,
                total=len(files),
                prediction=Prediction(
                    path=str(file),
                    true=label,
                    pred=pred,
                    probs=[top if c == pred else rest for c in range(7)],
                    correct=pred == label,
                ),
            )
        )
    emit(
        Result(
            verdict=OK,
            summary=InferSummary(
                total=len(files), correct=correct, accuracy=correct / len(files) if files else None, seconds=1.5
            ),
        )
    )
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["samples"] and os.environ.get("FAKE_SAMPLES_EMPTY"):
        # a samples job that ends well but writes no face: its summary is several lines
        emit(Result(text="samples of demo PublicTest\nwritten to nowhere"))
        sys.exit(0)
    if sys.argv[1:2] != ["infer"]:
        os.execv(sys.executable, [sys.executable, "-m", "fer_core.job", *sys.argv[1:]])
    sys.exit(infer(sys.argv[2:]))
