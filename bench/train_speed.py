"""Training speed: fer-tui's MindSpore engine vs a plain PyTorch loop, same network, same data.

    .venv/bin/pip install torch==2.13.0        # optional extra: pip install -e ".[bench]"
    .venv/bin/python bench/train_speed.py [--csv ../shared/data/fer2013-dev.csv.gz] [--rows 6400]

Both sides train `--epochs` epochs on the same first `--rows` Training rows with the same
batch size and the same numpy augmentation (fer_core.data.augment); the figure is images/s of the
last epoch (data + augmentation + step; the first epoch pays for graph compilation). The
engine runs exactly as `fer-tui train` does (python -m fer_core.train on a run directory).
`--rounds` alternations (engine, [engine with `--fast` kernels,] then PyTorch); the medians and
their ratios to PyTorch are printed; with `--fast` also each round's own fast ÷ PyTorch, whose
spread shows how much this machine's speed moves from minute to minute.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_CSV = ROOT.parent / "shared" / "data" / "fer2013-dev.csv.gz"


def subset_csv(source: Path, rows: int, out: Path) -> Path:
    from fer_core.data.dataset import load_dataset

    split = load_dataset(source).split("Training")
    val = load_dataset(source).split("PublicTest")
    lines = ["emotion,pixels,Usage"]
    for images, labels, usage, n in (
        (split.images, split.labels, "Training", rows),
        (val.images, val.labels, "PublicTest", 256),
    ):
        lines += [
            f"{label},{' '.join(map(str, image.ravel()))},{usage}" for image, label in zip(images[:n], labels[:n])
        ]
    out.write_text("\n".join(lines) + "\n")
    return out


def engine(csv: Path, arch: str, batch: int, epochs: int, augment: bool, kernels: str = "stock") -> float:
    from fer_core import config
    from fer_core.runs import rundir

    with tempfile.TemporaryDirectory() as root:
        cfg = config.make_config(
            {
                "data_csv": str(csv),
                "arch": arch,
                "batch_size": batch,
                "epochs": epochs,
                "augment": augment,
                "keep_checkpoints": 0,
                "patience": 0,
                "kernels": kernels,
            }
        )
        run_dir = rundir.create_run(cfg, "bench", root=Path(root))
        subprocess.run(
            [sys.executable, "-m", "fer_core.train", str(run_dir)],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        rows = rundir.read_metrics(run_dir)
        return rows[-1].images_per_second


def torch_net(arch: str):
    import torch.nn as nn

    specs = {
        "fer_cnn": "d c32s2 c64 c64 c128s2 c128 c256s2 c256",
        "tiny_cnn": "c16s2 c32s2 c64s2 c64",
        "fer_vgg": "c32 c32 p c64 c64 p c128 c128 p c256 c256 p",
    }
    layers, c_in = [], 1
    for token in specs[arch].split():
        if token == "d":
            layers.append(nn.PixelUnshuffle(2))
            c_in *= 4
            continue
        if token == "p":
            layers.append(nn.MaxPool2d(2))
            continue
        width, _, stride = token[1:].partition("s")
        layers += [
            nn.Conv2d(c_in, int(width), 3, stride=int(stride or 1), padding=1, bias=False),
            nn.BatchNorm2d(int(width)),
            nn.ReLU(),
        ]
        c_in = int(width)
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.4), nn.Linear(c_in, 7))


def with_checkpoint_weights(net, ckpt: Path):
    """Load a fer-tui checkpoint into torch_net's twin of the same arch (for inference benches)."""
    import mindspore as ms
    import torch

    # Same layouts (OIHW, out×in); put the checkpoint's names in the net's order (the file's is
    # alphabetical: features.10 before features.2, beta before gamma). PyTorch adds a BN step
    # counter.
    rank = {"weight": 0, "gamma": 0, "beta": 1, "bias": 1, "moving_mean": 2, "moving_variance": 3}
    params = {k: v for k, v in ms.load_checkpoint(str(ckpt)).items() if k.startswith(("features.", "classifier."))}
    order = sorted(params, key=lambda k: (k.split(".")[0] == "classifier", int(k.split(".")[1]), rank[k.split(".")[2]]))
    ours = [params[k].asnumpy() for k in order]
    state = net.state_dict()
    names = [k for k in state if not k.endswith("num_batches_tracked")]
    assert [state[k].shape for k in names] == [torch.Size(a.shape) for a in ours], "layouts differ"
    net.load_state_dict({**state, **{k: torch.from_numpy(a) for k, a in zip(names, ours)}})
    return net


def pytorch(csv: Path, arch: str, batch: int, epochs: int, augment: bool) -> float:
    import torch

    from fer_core.data import augment as aug
    from fer_core.data.dataset import load_dataset

    torch.set_num_threads(len(os.sched_getaffinity(0)))
    split = load_dataset(csv).split("Training")
    net = torch_net(arch)
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=0.0)
    rng = np.random.default_rng(0)
    steps = len(split) // batch
    speed = 0.0
    for _ in range(epochs):
        net.train()
        order = rng.permutation(len(split))
        start = time.perf_counter()
        for step in range(steps):
            index = order[step * batch : (step + 1) * batch]
            x = aug.augment_batch(split.images[index], rng) if augment else aug.normalise(split.images[index])
            targets = torch.from_numpy(aug.soft_targets(split.labels[index], 7, 0.1))
            loss = -(targets * torch.log_softmax(net(torch.from_numpy(x)), -1)).sum(-1).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        speed = steps * batch / (time.perf_counter() - start)
    return speed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--rows", type=int, default=6400)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--arch", default="fer_cnn", choices=["fer_vgg", "fer_cnn", "tiny_cnn", "resnet18_attn"])
    parser.add_argument("--no-torch", action="store_true", help="engine only (resnet18_attn has no torch twin here)")
    parser.add_argument("--no-augment", action="store_true")
    parser.add_argument("--rounds", type=int, default=3, help="alternations; medians are printed")
    parser.add_argument("--fast", action="store_true", help="a third side: the engine with kernels = fast")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        csv = subset_csv(args.csv, args.rows, Path(tmp) / "subset.csv")
        ms_runs, fast_runs, torch_runs = [], [], []
        for _ in range(args.rounds):
            ms_runs.append(engine(csv, args.arch, args.batch, args.epochs, not args.no_augment))
            if args.fast:
                fast_runs.append(engine(csv, args.arch, args.batch, args.epochs, not args.no_augment, "fast"))
            try:
                if args.no_torch or args.arch == "resnet18_attn":
                    raise ImportError
                torch_runs.append(pytorch(csv, args.arch, args.batch, args.epochs, not args.no_augment))
            except ImportError:
                torch_runs.append(float("nan"))
        ms_speed, torch_speed = statistics.median(ms_runs), statistics.median(torch_runs)
        if torch_speed != torch_speed:
            print("no PyTorch side (torch not installed, --no-torch, or resnet18_attn)")
    load = os.getloadavg()[0]
    print(
        json.dumps(
            {
                "arch": args.arch,
                "rows": args.rows,
                "batch": args.batch,
                "augment": not args.no_augment,
                "rounds": args.rounds,
                "mindspore_img_s": round(ms_speed, 1),
                "pytorch_img_s": round(torch_speed, 1),
                "ratio": round(ms_speed / torch_speed, 2) if torch_speed == torch_speed else None,
                **(
                    {
                        "fast_kernels_img_s": round(statistics.median(fast_runs), 1),
                        "fast_ratio": round(statistics.median(fast_runs) / torch_speed, 2)
                        if torch_speed == torch_speed
                        else None,
                    }
                    if fast_runs
                    else {}
                ),
                **(
                    {"fast_ratio_per_round": [round(f / t, 2) for f, t in zip(fast_runs, torch_runs)]}
                    if fast_runs and torch_speed == torch_speed
                    else {}
                ),
                "full_epoch_seconds_at_this_speed": round(28709 / ms_speed, 1),
                "load_average": round(load, 2),
                "cores": os.cpu_count(),
            }
        )
    )


if __name__ == "__main__":
    from fer_core.errors import FerError

    try:
        main()
    except FerError as error:  # e.g. no data set at the default ../shared/data path: one line
        sys.exit(f"error: {error}")
