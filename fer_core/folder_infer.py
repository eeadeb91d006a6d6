"""Test inference on a sample folder, as a worker the TUI runs in a subprocess.

    python -m fer_core.folder_infer --ckpt P --folder DIR [--arch A] [--device_target CPU]
                                    [--tta auto|none|flip|ten_crop]

DIR is ROOT/<class>/*.png (class names or 0..6; the true class comes from the sub-folder) or
a flat folder of images (true class unknown). Prints one JSON object per line on stdout,
flushed as it goes:

    {"event": "start", "total": N, "ckpt": P, "arch": A, "folder": DIR}
    {"event": "skipped", "path": ..., "reason": ...}          # non-image or unreadable files
    {"event": "image", "index": i, "path": ..., "true": 3 | null, "pred": 3,
     "probs": [7 floats], "correct": true | null}
    {"event": "done", "total": N, "correct": k | null, "accuracy": float | null,
     "verdict": {"level": "ok" | "warning" | …, "text": why}, "seconds": s}

or, on any failure, `{"event": "error", "message": one line}` and exit status 2.
MindSpore's own log lines go to stderr, never into the JSON stream.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from fer_core.errors import FerError
from fer_core.infer import TTA_CHOICES

BATCH = 32  # images per forward pass: progress events arrive in steps of this size


def emit(event: str, **fields) -> None:
    print(json.dumps({"event": event, **fields}), flush=True)


def run(ckpt: Path, folder: Path, arch: str | None = None, device_target: str = "CPU",
        tta: str | None = "auto") -> int:
    from fer_core.ckpt import verdict
    from fer_core.data import read_face, sample_files
    from fer_core.infer import Predictor

    started = time.time()
    files, skipped = sample_files(folder)
    predictor = Predictor(ckpt, arch=arch, device_target=device_target, batch_size=BATCH)
    emit("start", total=len(files), ckpt=str(ckpt), arch=predictor.arch, folder=str(folder))
    for entry in skipped:
        path, _, reason = entry.partition(": ")
        emit("skipped", path=path, reason=reason)
    all_probs, all_true, index = [], [], 0
    for start in range(0, len(files), BATCH):
        faces, kept = [], []
        for file, label in files[start:start + BATCH]:
            try:
                faces.append(read_face(file))
                kept.append((file, label))
            except FerError:
                emit("skipped", path=str(file), reason="not a readable image")
        if not faces:
            continue
        probs = predictor.predict(np.stack(faces), tta=tta)
        for (file, label), p in zip(kept, probs):
            pred = int(p.argmax())
            emit("image", index=index, path=str(file), true=label, pred=pred,
                 probs=[round(float(v), 6) for v in p], correct=None if label is None else pred == label)
            all_probs.append(p)
            all_true.append(label)
            index += 1
    if not all_probs:
        raise FerError(f"{folder}: no readable images")
    probs = np.stack(all_probs)
    labelled = all(t is not None for t in all_true)
    labels = np.array(all_true, np.int64) if labelled else None
    judged, _ = verdict.behaviour(probs, labels)
    correct = int((probs.argmax(1) == labels).sum()) if labelled else None
    emit("done", total=index, correct=correct, accuracy=correct / index if labelled else None,
         verdict=(verdict.OK if judged.level == "ok" else judged).to_dict(),
         seconds=round(time.time() - started, 3))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fer_core.folder_infer", description=__doc__.split("\n")[0])
    parser.add_argument("--ckpt", type=Path, required=True)
    parser.add_argument("--folder", type=Path, required=True)
    parser.add_argument("--arch")
    parser.add_argument("--device_target", default="CPU", choices=("CPU", "GPU", "Ascend"))
    parser.add_argument("--tta", default="auto", choices=TTA_CHOICES)
    args = parser.parse_args(argv)
    os.environ.setdefault("GLOG_v", "3")
    try:
        return run(args.ckpt, args.folder, args.arch, args.device_target, args.tta)
    except FerError as error:
        emit("error", message=str(error))
        return 2
    except Exception as error:  # the JSON stream must end with an event the UI understands
        emit("error", message=" ".join(f"{type(error).__name__}: {error}".split())[:300])
        return 1


if __name__ == "__main__":
    sys.exit(main())
