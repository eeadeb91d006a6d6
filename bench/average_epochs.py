"""Does averaging the weights of a run's last epochs beat its best epoch? (SWA-style, post hoc)

    .venv/bin/python bench/average_epochs.py CKPT [CKPT ...] --data_csv ../shared/data/fer2013-dev.csv.gz \\
        --out /tmp/averaged [--calibrate_batches 100]

Averages the weights of the given epoch checkpoints (same architecture), re-estimates the
BatchNorm statistics on training batches (averaged weights need their own), writes
OUT/averaged.ckpt with a sidecar, and prints PublicTest accuracy flip-averaged for each input
checkpoint and for the average, as `fer-tui eval` computes it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fer_core.ckpt.io import save_weights
from fer_core.ckpt.sidecar import read_sidecar
from fer_core.data import augment
from fer_core.data.dataset import load_dataset
from fer_core.infer.evaluate import evaluate


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ckpts", nargs="+", type=Path)
    parser.add_argument("--data_csv", required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--calibrate_batches", type=int, default=100)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--only_average", action="store_true", help="evaluate the average alone, not each input")
    args = parser.parse_args()

    import mindspore as ms

    from fer_core.mindspore_setup import configure
    from fer_core.models import build_model

    configure("CPU")
    sidecars = [read_sidecar(path) for path in args.ckpts]
    first = sidecars[0]
    assert first is not None and first.arch, f"{args.ckpts[0]}: no sidecar naming its architecture"
    arch = first.arch
    tensors = [ms.load_checkpoint(str(path)) for path in args.ckpts]
    net = build_model(arch)
    names = [p.name for p in net.get_parameters()]
    averaged = {name: np.mean([t[name].asnumpy() for t in tensors], axis=0) for name in names}
    ms.load_param_into_net(net, {name: ms.Parameter(ms.Tensor(v), name=name) for name, v in averaged.items()})

    # BatchNorm statistics of the averaged weights: forward passes in train mode, no update
    images = load_dataset(args.data_csv).split("Training").images
    rng = np.random.default_rng(0)
    net.set_train(True)
    for _ in range(args.calibrate_batches):
        index = rng.choice(len(images), args.batch, replace=False)
        net(ms.Tensor(np.ascontiguousarray(augment.normalise(images[index]), np.float32)))
    net.set_train(False)

    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / "averaged.ckpt"
    epochs = [side.epoch if side else None for side in sidecars]
    save_weights(net, out, first.evolve(epoch=max(e or 0 for e in epochs), val_acc=None))
    inputs = [] if args.only_average else args.ckpts
    rows = {str(path): evaluate(path, args.data_csv, "PublicTest", tta="flip").accuracy for path in inputs}
    rows[f"average of epochs {epochs}"] = evaluate(out, args.data_csv, "PublicTest", tta="flip").accuracy
    print(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
