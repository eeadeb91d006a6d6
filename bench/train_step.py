"""Whole training steps side by side in one process: fer-tui's jit step (fer_core.train.loop's
compile_steps, AdamW) with MindSpore's stock kernels, with our convolutions alone, with all our
kernels (kernels = "fast"), and PyTorch's twin of the network when torch imports.

    .venv/bin/python bench/train_step.py --arch fer_cnn [--batch 128]   # torch installed: PyTorch too

One synthetic batch, no data pipeline: what differs between the sides is the step alone (the
augmentation both sides of bench/train_speed.py share is left out). The sides alternate
`--rounds` times, `--iters` steps each after a warm-up; results are read back as the trainer
does (fer_core.train.readback's waiting thread, so MindSpore's spin does not take a core); medians
are printed, with their ratios.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def mindspore_steps(arch: str, x: np.ndarray, targets: np.ndarray) -> dict:
    import mindspore as ms
    import mindspore.nn as nn

    from fer_core.kernels import fast_conv
    from fer_core.kernels.swap import use_fast_kernels
    from fer_core.models import build_model
    from fer_core.train.loop import compile_steps
    from fer_core.train.readback import Waiter

    tx, tt = ms.Tensor(x), ms.Tensor(targets)
    steps = {}
    for name in ("stock", "convs", "fast"):
        net = build_model(arch)
        if name == "fast":
            print(f"{arch}: {use_fast_kernels(net)}")
        if name == "convs":
            fast_conv.use_fast_convs(net)
        optimizer = nn.AdamWeightDecay(net.trainable_params(), 1e-3, weight_decay=1e-4)
        train_step, _ = compile_steps(net, optimizer)
        waiter = Waiter()
        steps[name] = lambda train_step=train_step, waiter=waiter: waiter.numpy(train_step(tx, tt)[0])
    return steps


def torch_step(arch: str, x: np.ndarray, targets: np.ndarray):
    try:
        import torch
    except ImportError:
        return None
    from train_speed import torch_net

    torch.set_num_threads(len(os.sched_getaffinity(0)))
    net = torch_net(arch)
    net.train()
    optimizer = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=1e-4)
    tx, tt = torch.from_numpy(x), torch.from_numpy(targets)

    def step():
        loss = -(tt * torch.log_softmax(net(tx), -1)).sum(-1).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="fer_cnn", choices=["fer_cnn", "fer_vgg", "tiny_cnn", "resnet18_attn"])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--iters", type=int, default=10)
    args = parser.parse_args()

    from fer_core import mindspore_setup

    mindspore_setup.configure("CPU")
    rng = np.random.default_rng(1)
    x = rng.standard_normal((args.batch, 1, 48, 48)).astype(np.float32)
    targets = np.eye(7, dtype=np.float32)[rng.integers(0, 7, args.batch)]
    steps = mindspore_steps(args.arch, x, targets)
    if args.arch != "resnet18_attn":  # no PyTorch twin of it here
        twin = torch_step(args.arch, x, targets)
        if twin is not None:
            steps["torch"] = twin
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(args.rounds):
        for name, step in steps.items():
            for _ in range(3):
                step()
            started = time.perf_counter()
            for _ in range(args.iters):
                step()
            times[name].append((time.perf_counter() - started) * 1000 / args.iters)
    med = {name: statistics.median(t) for name, t in times.items()}
    print(f"{args.arch} training step, batch {args.batch}, median of {args.rounds} rounds of {args.iters}:")
    for name, ms_ in med.items():
        ratios = f"  {med['stock'] / ms_:.2f}x stock" + (
            f", {med['torch'] / ms_:.2f}x PyTorch" if "torch" in med else ""
        )
        print(f"  {name:6} {ms_:7.1f} ms  {args.batch * 1000 / ms_:6.0f} img/s{ratios}")
    print(f"  load average {os.getloadavg()[0]:.2f}", flush=True)


if __name__ == "__main__":
    main()
