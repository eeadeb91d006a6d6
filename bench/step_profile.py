"""Where a training step's milliseconds go, by MindSpore operator type: the trainer's jit step
(AdamW, one synthetic batch) under MindSpore's profiler, read back as the trainer does.

    PYTHONPATH=. .venv/bin/python bench/step_profile.py --arch fer_cnn [--kernels fast] [--steps 10]

Our kernels show as `Custom` (forward and gradient apart). The wall time of the profiled steps is
printed too: what the operators do not account for is MindSpore's own launch work.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="fer_cnn")
    parser.add_argument("--kernels", default="fast", choices=["stock", "fast"])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=10)
    args = parser.parse_args()

    from fer_core import mindspore_setup

    mindspore_setup.configure("CPU")
    import mindspore as ms
    import mindspore.nn as nn

    from fer_core.kernels.swap import use_fast_kernels
    from fer_core.models import build_model
    from fer_core.train.loop import compile_steps
    from fer_core.train.readback import Waiter

    rng = np.random.default_rng(1)
    x = ms.Tensor(rng.standard_normal((args.batch, 1, 48, 48)).astype(np.float32))
    targets = ms.Tensor(np.eye(7, dtype=np.float32)[rng.integers(0, 7, args.batch)])
    net = build_model(args.arch)
    if args.kernels == "fast":
        print(use_fast_kernels(net))
    step, _ = compile_steps(net, nn.AdamWeightDecay(net.trainable_params(), 1e-3, weight_decay=1e-4))
    waiter = Waiter()
    for _ in range(3):
        waiter.numpy(step(x, targets)[0])
    with tempfile.TemporaryDirectory() as out:
        profiler = ms.Profiler(output_path=out)
        started = time.perf_counter()
        for _ in range(args.steps):
            waiter.numpy(step(x, targets)[0])
        wall = (time.perf_counter() - started) * 1000 / args.steps
        profiler.analyse()
        detail = next(Path(out).rglob("cpu_op_detail_info_*.csv"))
        per_type: dict[str, float] = defaultdict(float)
        with detail.open() as rows:
            for row in csv.DictReader(rows):
                kind = row["op_type"]
                if kind == "Custom":
                    kind += " (gradient)" if row["full_op_name"].startswith("Gradients/") else " (forward)"
                per_type[kind] += float(row["op_total_time(ms)"]) / args.steps
    print(f"{args.arch}, kernels {args.kernels}, batch {args.batch}: {wall:.1f} ms a step (wall, profiled)")
    for kind, ms_ in sorted(per_type.items(), key=lambda item: -item[1]):
        if ms_ >= 0.05:
            print(f"  {kind:28} {ms_:7.2f} ms")
    print(f"  {'all operators':28} {sum(per_type.values()):7.2f} ms")


if __name__ == "__main__":
    main()
