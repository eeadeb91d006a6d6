"""Inference speed: ONNX Runtime against MindSpore (and PyTorch) on the same weights, alternating in one run.

    .venv/bin/python bench/infer_speed.py [--ckpt checkpoints/shipped/<model>/best_model.ckpt]
                                          [--csv ../shared/data/fer2013-dev.csv.gz] [--rounds 3]

Prints, for batch 64 and batch 1, faces/s of each backend on PublicTest faces (median of
`--rounds` alternations, after a warm-up that pays for compilation and the cached export),
their ratios, and whether each gave ONNX Runtime's class on every face. Where torch imports
(`pip install torch==2.13.0`, the `bench` extra), a PyTorch twin of the net (bench/train_speed.py)
gets the checkpoint's weights and runs under `torch.inference_mode()` as a third side. Then the dashboard's
one-key inference end to end: `python -m fer_core.job infer` on the sample folder, from
start to its `done` event, with the export already cached (median of `--rounds`).
Run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_CSV = ROOT.parent / "shared" / "data" / "fer2013-dev.csv.gz"


def default_ckpt() -> Path:
    shipped = sorted((ROOT / "checkpoints" / "shipped").glob("fer_*/best_model.ckpt"))
    return shipped[0]


def faces_per_second(predictor, faces: np.ndarray, batch: int) -> tuple[float, np.ndarray]:
    started = time.perf_counter()
    probs = predictor.predict(faces, tta=None, batch_size=batch)
    return len(faces) / (time.perf_counter() - started), probs


class TorchPredictor:
    """The checkpoint's weights in bench/train_speed.py's PyTorch twin, eval mode, same normalisation."""

    def __init__(self, ckpt: Path, arch: str):
        import torch
        from train_speed import torch_net, with_checkpoint_weights

        self.torch = torch
        torch.set_num_threads(len(os.sched_getaffinity(0)))
        self.net = with_checkpoint_weights(torch_net(arch), ckpt).eval()

    def predict(self, images: np.ndarray, tta=None, batch_size: int = 64) -> np.ndarray:
        from fer_core.data.augment import normalise

        out = []
        with self.torch.inference_mode():
            for start in range(0, len(images), batch_size):
                x = self.torch.from_numpy(np.ascontiguousarray(normalise(images[start : start + batch_size])))
                out.append(self.torch.softmax(self.net(x), -1).numpy())
        return np.concatenate(out)


def torch_side(ckpt: Path, arch: str):
    try:
        return TorchPredictor(ckpt, arch)
    except ImportError:
        print("no PyTorch side (torch not installed)")
        return None


def folder_seconds(ckpt: Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "fer_core.job", "infer", "--ckpt", str(ckpt), "--folder", str(ROOT / "samples")],
        check=True,
        capture_output=True,
        cwd=ROOT,
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ckpt", type=Path, default=None)
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--faces", type=int, default=3584, help="PublicTest faces at batch 64")
    parser.add_argument("--single", type=int, default=256, help="faces one at a time at batch 1")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("GLOG_v", "3")
    from fer_core.data.dataset import load_dataset
    from fer_core.infer.predictor import Predictor

    ckpt = args.ckpt or default_ckpt()
    faces = load_dataset(str(args.csv)).split("PublicTest").images
    for batch, count in ((64, args.faces), (1, args.single)):
        subset = faces[:count]
        predictors = {name: Predictor(ckpt, batch_size=batch, backend=name) for name in ("onnx", "mindspore")}
        twin = torch_side(ckpt, predictors["onnx"].arch)
        if twin is not None:
            predictors["pytorch"] = twin
        speeds: dict[str, list[float]] = {name: [] for name in predictors}
        classes = {}
        for name, predictor in predictors.items():  # warm-up: compile, export, first session run
            classes[name] = faces_per_second(predictor, subset[: batch * 2], batch)[1].argmax(1)
        for _ in range(args.rounds):
            for name, predictor in predictors.items():
                speed, probs = faces_per_second(predictor, subset, batch)
                speeds[name].append(speed)
                classes[name] = probs.argmax(1)
        median = {name: statistics.median(values) for name, values in speeds.items()}
        report = {"ckpt": str(ckpt), "batch": batch, "faces": len(subset)}
        for name in predictors:
            report[f"{name}_faces_s"] = round(median[name], 1)
            if name != "onnx":
                report[f"onnx_over_{name}"] = round(median["onnx"] / median[name], 2)
                report[f"{name}_same_class_share"] = float(np.mean(classes["onnx"] == classes[name]))
        print(json.dumps({**report, "load_average": round(os.getloadavg()[0], 2)}), flush=True)
    folder_seconds(ckpt)  # the export for the worker's batch is cached now
    seconds = statistics.median(folder_seconds(ckpt) for _ in range(args.rounds))
    print(
        json.dumps(
            {
                "ckpt": str(ckpt),
                "folder_inference_seconds": round(seconds, 2),
                "faces": 21,
                "what": "python -m fer_core.job infer, start to done, export cached",
            }
        )
    )


if __name__ == "__main__":
    from fer_core.errors import FerError

    try:
        main()
    except FerError as error:  # e.g. no data set at the default ../shared/data path: one line
        sys.exit(f"error: {error}")
