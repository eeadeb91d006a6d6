"""How the engine waits for a step: three ways side by side, alternating in one process.

    .venv/bin/python bench/readback_speed.py [--arch fer_vgg fer_cnn tiny_cnn] [--batch 128]
                                             [--load N --load-nice 19]

For each architecture: the trainer's compiled step (AdamWeightDecay, soft-target loss) on one
random batch, `--steps` steps a round, rounds alternating
  direct   asnumpy in the training thread (MindSpore's busy-wait competes with its kernels),
  thread   the nice-19 waiting thread, spinning for the whole step,
  waiter   what the trainer does: sleep through most of the learned step time, then the thread.
Prints the median images/s of each and the ratios to `direct`. Run it on a quiet machine;
`--load N` adds N busy-looping processes at `--load-nice` to see how each way copes with
other work on the cores.
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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def step_function(arch: str):
    import mindspore.nn as nn

    from fer_core.models import build_model
    from fer_core.train.loop import compile_steps

    net = build_model(arch)
    train_step, _ = compile_steps(net, nn.AdamWeightDecay(net.trainable_params(), learning_rate=1e-3))
    return train_step


MODES = ("direct", "thread", "waiter")


def images_per_second(train_step, x, targets, steps: int, mode: str) -> float:
    from fer_core.train import readback

    os.environ["FER_TUI_READBACK"] = mode
    waiter = readback.Waiter()
    started = time.perf_counter()
    for _ in range(steps):
        waiter.numpy(*train_step(x, targets))
    return steps * x.shape[0] / (time.perf_counter() - started)


def start_load(count: int, nice: int) -> list[subprocess.Popen]:
    spin = f"import os; os.nice({nice}); exec('while True: pass')"
    return [subprocess.Popen([sys.executable, "-c", spin]) for _ in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--arch", nargs="+", default=["fer_vgg", "fer_cnn", "tiny_cnn"])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--load", type=int, default=0, help="busy-looping processes beside the bench")
    parser.add_argument("--load-nice", type=int, default=19)
    args = parser.parse_args()
    burners = start_load(args.load, args.load_nice)
    try:
        run(args)
    finally:
        for burner in burners:
            burner.kill()


def run(args) -> None:
    import mindspore as ms

    from fer_core.mindspore_setup import configure

    configure("CPU")
    rng = np.random.default_rng(0)
    x = ms.Tensor(rng.standard_normal((args.batch, 1, 48, 48)).astype(np.float32))
    targets = ms.Tensor(np.eye(7, dtype=np.float32)[rng.integers(0, 7, args.batch)])
    for arch in args.arch:
        train_step = step_function(arch)
        images_per_second(train_step, x, targets, 3, "thread")  # compile and warm up
        speeds: dict[str, list[float]] = {mode: [] for mode in MODES}
        for _ in range(args.rounds):
            for mode in MODES:
                speeds[mode].append(images_per_second(train_step, x, targets, args.steps, mode))
        median = {mode: statistics.median(speeds[mode]) for mode in MODES}
        print(
            json.dumps(
                {
                    "arch": arch,
                    "batch": args.batch,
                    "load": f"{args.load} at nice {args.load_nice}",
                    **{f"{mode}_img_s": round(median[mode], 1) for mode in MODES},
                    **{f"{mode}_ratio": round(median[mode] / median["direct"], 2) for mode in MODES[1:]},
                    "rounds": args.rounds,
                    "load_average": round(os.getloadavg()[0], 2),
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
