"""Checkpoint load and inspect times per architecture (a benchmark, not a test).

    .venv/bin/python bench/load_times.py

For a freshly initialised network of each registered architecture, saved with
mindspore.save_checkpoint: the MindSpore-free record index (what the TUI's table uses),
mindspore.load_checkpoint, a Predictor ready to predict (build + load + first compiled batch),
and the full `inspect` (structure + size + behaviour on 140 demo faces).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("GLOG_v", "3")


def timed(fn, repeat: int = 1) -> tuple[float, object]:
    best, value = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - start)
    return best, value


def main() -> int:
    started = time.perf_counter()
    import mindspore as ms

    import_seconds = time.perf_counter() - started
    from fer_core.ckpt import index as ckpt_index
    from fer_core.ckpt.deep import inspect, load_samples
    from fer_core.ckpt.verdict import human_bytes
    from fer_core.infer.predictor import Predictor
    from fer_core.mindspore_setup import configure
    from fer_core.models import ARCHITECTURES, build_model

    configure("CPU")
    faces = load_samples("demo")
    print(f"import mindspore: {import_seconds:.2f} s; {os.cpu_count()} CPUs; mindspore {ms.__version__}")
    print(
        f"{'arch':<14} {'size':>9} {'index (no ms)':>14} {'ms.load_ckpt':>13} {'Predictor+1st':>14} "
        f"{'inspect':>8} {'B/tensor over':>14}"
    )
    with tempfile.TemporaryDirectory() as folder:
        for arch in ARCHITECTURES:
            path = Path(folder) / f"{arch}.ckpt"
            ms.save_checkpoint(build_model(arch), str(path))
            t_index, index = timed(lambda: ckpt_index.read_index(path), repeat=5)
            t_load, _ = timed(lambda: ms.load_checkpoint(str(path)), repeat=3)
            t_pred, _ = timed(lambda: Predictor(path, arch=arch).predict(faces.images[:1]))
            t_inspect, report = timed(lambda: inspect(path, faces))
            overhead = (index.size - sum(4 * e.nbytes // 4 + len(n) for n, e in index.entries.items())) / len(
                index.entries
            )
            print(
                f"{arch:<14} {human_bytes(index.size):>9} {t_index * 1000:>11.2f} ms "
                f"{t_load * 1000:>10.0f} ms {t_pred:>12.2f} s {t_inspect:>6.2f} s {overhead:>12.1f} B"
                f"   {str(report.verdict)[:40]}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
