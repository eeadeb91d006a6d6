"""Run by msrun for tests/unit/test_distributed.py: data-parallel steps against one-process steps.

    msrun --worker_num 2 ... python tests/distributed_step.py OUT_DIR

Each rank trains a net without BatchNorm or dropout for a few steps on its shard of each global
batch, with the trainer's own hooks (Cluster.shard, Cluster.grad_reducer, compile_steps), and the
same net in one process on the whole global batch. It writes OUT_DIR/rank<k>.json: the largest
weight difference between the two, before and after, and a checksum of its data-parallel weights.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

STEPS, BATCH = 5, 16


def build(ms, nn):
    ms.set_seed(0)  # the same seed before each build: the same initial weights
    net = nn.SequentialCell(
        [nn.Conv2d(1, 4, 3, stride=2, has_bias=True), nn.ReLU(), nn.Flatten(), nn.Dense(4 * 24 * 24, 7)]
    )
    return net, nn.AdamWeightDecay(net.trainable_params(), learning_rate=1e-3, weight_decay=0.01)


def largest_difference(a, b) -> float:
    return max(
        float(np.abs(p.asnumpy() - q.asnumpy()).max()) for p, q in zip(a.trainable_params(), b.trainable_params())
    )


def main(out: Path) -> int:
    from fer_core.train.parallel.cluster import join

    cluster = join("CPU")
    import mindspore as ms
    import mindspore.nn as nn

    from fer_core.train.loop import compile_steps

    parallel, parallel_opt = build(ms, nn)
    single, single_opt = build(ms, nn)
    before = largest_difference(parallel, single)
    parallel_step, _ = compile_steps(parallel, parallel_opt, cluster.grad_reducer(parallel_opt))
    single_step, _ = compile_steps(single, single_opt)
    rng = np.random.default_rng(0)  # every rank draws the same global batches
    for _ in range(STEPS):
        x = rng.standard_normal((BATCH, 1, 48, 48)).astype(np.float32)
        targets = np.eye(7, dtype=np.float32)[rng.integers(0, 7, BATCH)]
        _, x_part, t_part = cluster.shard((np.arange(BATCH), x, targets))
        parallel_step(ms.Tensor(x_part), ms.Tensor(t_part))[0].asnumpy()
        single_step(ms.Tensor(x), ms.Tensor(targets))[0].asnumpy()
    result = {
        "rank": cluster.rank,
        "size": cluster.size,
        "before": before,
        "after": largest_difference(parallel, single),
        "scale": max(float(np.abs(p.asnumpy()).max()) for p in single.trainable_params()),
        "checksum": sum(float(np.abs(p.asnumpy()).sum()) for p in parallel.trainable_params()),
    }
    (out / f"rank{cluster.rank}.json").write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
