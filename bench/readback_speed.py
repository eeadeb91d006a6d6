"""The waiting thread's gain: training steps with and without it, alternating in one process.

    .venv/bin/python bench/readback_speed.py [--arch fer_vgg fer_cnn tiny_cnn] [--batch 128]

For each architecture: the trainer's own compiled step (AdamWeightDecay, soft-target loss) on
one random batch, timed over `--steps` steps per round, rounds alternating `direct` (asnumpy in
the training thread: MindSpore's busy-wait competes with its kernels) and `thread` (fer_core's
SCHED_IDLE waiting thread). Prints the median images/s of each and their ratio. Run it on a
quiet machine: anything else on the cores changes both sides.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def step_function(arch: str):
    import mindspore as ms
    import mindspore.nn as nn
    import mindspore.ops as ops

    from fer_core.models import build_model

    net = build_model(arch)
    optimizer = nn.AdamWeightDecay(net.trainable_params(), learning_rate=1e-3)

    def forward(x, targets):
        logits = net(x)
        return -(targets * ops.log_softmax(logits, -1)).sum(-1).mean(), logits

    grad_fn = ms.value_and_grad(forward, None, optimizer.parameters, has_aux=True)

    @ms.jit
    def train_step(x, targets):
        (loss, logits), grads = grad_fn(x, targets)
        optimizer(grads)
        return loss, logits

    net.set_train(True)
    return train_step


def images_per_second(train_step, x, targets, steps: int, mode: str) -> float:
    from fer_core import readback

    os.environ["FER_TUI_READBACK"] = mode
    started = time.perf_counter()
    for _ in range(steps):
        readback.to_numpy(*train_step(x, targets))
    return steps * x.shape[0] / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--arch", nargs="+", default=["fer_vgg", "fer_cnn", "tiny_cnn"])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    import mindspore as ms

    from fer_core.mindspore_setup import configure

    configure("CPU")
    rng = np.random.default_rng(0)
    x = ms.Tensor(rng.standard_normal((args.batch, 1, 48, 48)).astype(np.float32))
    targets = ms.Tensor(np.eye(7, dtype=np.float32)[rng.integers(0, 7, args.batch)])
    for arch in args.arch:
        train_step = step_function(arch)
        images_per_second(train_step, x, targets, 3, "thread")  # compile and warm up
        speeds: dict[str, list[float]] = {"direct": [], "thread": []}
        for _ in range(args.rounds):
            for mode in speeds:
                speeds[mode].append(images_per_second(train_step, x, targets, args.steps, mode))
        direct, thread = (statistics.median(speeds[m]) for m in ("direct", "thread"))
        print(json.dumps({"arch": arch, "batch": args.batch, "direct_img_s": round(direct, 1),
                          "thread_img_s": round(thread, 1), "ratio": round(thread / direct, 2),
                          "rounds": args.rounds, "load_average": round(os.getloadavg()[0], 2)}), flush=True)


if __name__ == "__main__":
    main()
