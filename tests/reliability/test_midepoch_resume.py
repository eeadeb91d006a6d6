"""A stop inside an epoch keeps the epoch's place (issue 23): a real trainer (tiny_cnn on a
tiny generated CSV) is stopped mid-epoch, resumed, and the interrupted epoch has trained each
training image exactly once, in the order an uninterrupted epoch would have, with the
augmentation of each step unchanged; its metrics line counts all of its steps.

The trainer's test hook FER_TUI_TRACE_BATCHES (fer_core.train.loop.TRACE_ENV) appends
`epoch step index…` for every step it trains.
"""

from __future__ import annotations

import signal
from pathlib import Path

import numpy as np
import pytest

from fer_core.data.dataset import load_dataset
from fer_core.runs import launcher, rundir
from fer_core.train.loop import TRACE_ENV, epoch_order
from tests.helpers import status_of
from tests.reliability.conftest import reap, tiny_config, wait_until

pytestmark = pytest.mark.slow
BATCH = 4  # 70 steps an epoch: a stop at step 10 lands well inside it


def _trace(path: Path) -> list[tuple[int, int, list[int]]]:
    if not path.exists():
        return []
    lines = [line.split() for line in path.read_text().splitlines() if line.strip()]
    return [(int(e), int(s), [int(i) for i in rest]) for e, s, *rest in lines]


def test_a_stop_mid_epoch_resumes_at_that_step(tiny_csv, tmp_path, procs, monkeypatch):
    trace = tmp_path / "batches.txt"
    monkeypatch.setenv(TRACE_ENV, str(trace))
    config = tiny_config(tiny_csv, epochs=3, batch_size=BATCH, augment=True, augment_policy="crop_flip")
    run_dir = procs.watch(rundir.create_run(config, "midepoch"))
    n_train = len(load_dataset(str(tiny_csv)).split("Training").labels)
    steps = n_train // BATCH

    pid = procs.add(launcher.launch_detached(run_dir))
    # inside epoch 2: a step of it trained, most of it still to come
    wait_until(lambda: any(e == 2 and s >= 10 for e, s, _ in _trace(trace)), 240, 0.02, "epoch 2, step 10")
    launcher.stop_run(run_dir, signal.SIGTERM)
    reap(pid, timeout=120)
    status = status_of(run_dir)
    assert status.state == "stopped", (run_dir / rundir.LOG).read_text()[-2000:]
    stopped_at = max(s for e, s, _ in _trace(trace) if e == 2)
    assert stopped_at < steps, "the stop landed at the epoch's end: nothing mid-epoch was tested"
    assert f"epoch 2 after step {stopped_at}" in status.message, status.message
    assert (status.epoch, status.step) == (1, stopped_at), "status.json says where it resumes, not a stale step"
    assert [row.epoch for row in rundir.read_metrics(run_dir)] == [1]

    pid = procs.add(launcher.launch_detached(run_dir, resume=True))
    reap(pid, timeout=300)
    assert status_of(run_dir).state == "finished", (run_dir / rundir.LOG).read_text()[-2000:]
    log = (run_dir / rundir.LOG).read_text()
    assert f"Resuming at epoch 2/3 after step {stopped_at}" in log

    epoch2 = [(s, index) for e, s, index in _trace(trace) if e == 2]
    assert [s for s, _ in epoch2] == list(range(1, steps + 1)), "each step of the epoch trained once"
    seen = np.concatenate([index for _, index in epoch2])
    assert steps * BATCH == n_train  # the tiny set divides: every image is in some step
    assert sorted(seen.tolist()) == list(range(n_train)), "each training image exactly once"
    # the order an uninterrupted epoch has: the resume did not reshuffle
    assert seen.tolist() == epoch_order(config.seed, 2, n_train)[: steps * BATCH].tolist()
    rows = rundir.read_metrics(run_dir)
    assert [row.epoch for row in rows] == [1, 2, 3]
    # steps.jsonl kept its lines up to the stop and went on from there: x never goes back
    xs = [row.x for row in rundir.read_steps(run_dir)]
    assert xs == sorted(xs) and xs[-1] == 3.0
