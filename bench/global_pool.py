"""The global average pool's share of a training step: ops.mean against the matmul form that
fer_core.models.cnn.global_average_pool uses, fer_cnn's and fer_vgg's last map (batch 128,
256 channels, 3×3) into the dense layer, forward and gradient, alternating in one process.

    PYTHONPATH=. .venv/bin/python bench/global_pool.py [--rounds 5] [--iters 50]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--iters", type=int, default=50)
    args = parser.parse_args()

    from fer_core import mindspore_setup

    mindspore_setup.configure("CPU")
    import mindspore as ms
    import mindspore.nn as nn
    import mindspore.ops as ops

    from fer_core.models.cnn import global_average_pool
    from fer_core.train.readback import Waiter

    x = ms.Tensor(np.random.default_rng(0).random((128, 256, 3, 3), dtype=np.float32))
    dense = nn.Dense(256, 7)

    def mean(t):
        return ops.mean(t, (2, 3))

    def step(pool):
        def loss(t):
            return dense(pool(t)).sum()

        return ms.jit(ms.value_and_grad(loss, 0))

    steps = {"ops.mean": step(mean), "global_average_pool": step(global_average_pool)}
    waiter, times = Waiter(), {name: [] for name in steps}
    for _ in range(args.rounds):
        for name, run in steps.items():
            for _ in range(3):
                waiter.numpy(run(x)[1])
            started = time.perf_counter()
            for _ in range(args.iters):
                waiter.numpy(run(x)[1])
            times[name].append((time.perf_counter() - started) * 1000 / args.iters)
    print(
        ", ".join(f"{name} {statistics.median(t):.2f} ms" for name, t in times.items())
        + " (pool + dense, forward and gradient, median of the rounds)"
    )


if __name__ == "__main__":
    main()
