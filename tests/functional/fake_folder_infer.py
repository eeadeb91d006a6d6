"""A stand-in for `python -m fer_core.folder_infer` with fixed outputs (snapshots, error paths).

    python tests/functional/fake_folder_infer.py --ckpt P --folder DIR [--arch A]

Speaks the same JSON lines; never imports mindspore or numpy. Every third face is predicted
as the next class; the top probability depends only on the true class. FAKE_INFER_FAIL=1
prints an error event and exits 2; FAKE_INFER_DELAY (seconds per image) slows it down.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

CLASSES = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")


def emit(event: str, **fields) -> None:
    print(json.dumps({"event": event, **fields}), flush=True)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ckpt", required=True)
    parser.add_argument("--folder", type=Path, required=True)
    parser.add_argument("--arch")
    args = parser.parse_args(argv)
    if os.environ.get("FAKE_INFER_FAIL"):
        print("a MindSpore-like complaint on stderr", file=sys.stderr)
        emit("error", message=f"{args.ckpt}: not a MindSpore checkpoint (fake)")
        return 2
    delay = float(os.environ.get("FAKE_INFER_DELAY", "0"))
    files = [(f, CLASSES.index(d.name)) for d in sorted(args.folder.iterdir())
             if d.is_dir() and d.name in CLASSES for f in sorted(d.iterdir()) if f.suffix == ".png"]
    emit("start", total=len(files), ckpt=args.ckpt, arch="tiny_cnn", folder=str(args.folder))
    correct = 0
    for index, (file, label) in enumerate(files):
        time.sleep(delay)
        pred = (label + 1) % 7 if index % 3 == 2 else label
        top = round(0.45 + 0.07 * label, 6)
        rest = round((1 - top) / 6, 6)
        probs = [top if c == pred else rest for c in range(7)]
        correct += pred == label
        emit("image", index=index, path=str(file), true=label, pred=pred, probs=probs,
             correct=pred == label)
    emit("done", total=len(files), correct=correct, accuracy=correct / len(files) if files else None,
         verdict={"level": "ok", "text": ""}, seconds=1.5)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
