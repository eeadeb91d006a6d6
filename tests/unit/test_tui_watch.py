"""Change detection and log tails: the idle-CPU story depends on these."""

from __future__ import annotations

import os

from fer_core import fileio
from fer_core.ckpt.index import find_checkpoints
from fer_core.runs import rundir
from fer_tui.watch import RunWatch, checkpoint_stamps, read_tail


def test_poll_reports_each_file_once_per_change(tmp_path):
    watch = RunWatch(tmp_path)
    assert watch.poll() == {rundir.STATUS, rundir.METRICS, rundir.STEPS, rundir.LOG}  # first look: everything
    assert watch.poll() == set()
    (tmp_path / rundir.METRICS).write_text('{"epoch": 1}\n')
    assert watch.poll() == {rundir.METRICS}
    assert watch.poll() == set()
    path = tmp_path / rundir.STATUS
    path.write_text("{}")
    os.utime(path, ns=(1, 1))
    assert watch.poll() == {rundir.STATUS}
    path.unlink()
    assert watch.poll() == {rundir.STATUS}


def test_read_tail_keeps_whole_lines(tmp_path):
    log = tmp_path / "train.log"
    assert read_tail(log) == ""
    log.write_text("".join(f"line {i}\n" for i in range(1000)))
    tail = read_tail(log, max_bytes=100)
    assert tail.endswith("line 999\n")
    assert tail.splitlines()[0].startswith("line ")  # never a cut line
    assert len(tail) <= 100


def test_checkpoint_stamps_follow_checkpoints_and_sidecars_not_status(tmp_path):
    run = tmp_path / "20260101-000000-demo"
    run.mkdir()
    (run / "status.json").write_text("{}")
    before = checkpoint_stamps(tmp_path)
    assert before == frozenset()
    (run / "best_model.ckpt").write_bytes(b"x")
    with_ckpt = checkpoint_stamps(tmp_path)
    assert len(with_ckpt) == 1
    (run / "status.json").write_text('{"step": 2}')  # every step: no rescan
    assert checkpoint_stamps(tmp_path) == with_ckpt
    (run / "best_model.json").write_text('{"epoch": 2}')  # its sidecar: rescan
    assert checkpoint_stamps(tmp_path) != with_ckpt
    assert checkpoint_stamps(tmp_path / "missing") == frozenset()


def test_a_checkpoint_being_written_under_a_temporary_name_triggers_no_rescan(tmp_path):
    """fileio writes `.best_model.ckpt.XXXX.ckpt` and renames it: only the rename is news."""
    run = tmp_path / "20260101-000000-demo"
    run.mkdir()
    (run / "best_model.ckpt").write_bytes(b"x")
    before = checkpoint_stamps(tmp_path)
    with fileio.atomic_path(run / "best_model.ckpt", suffix=".ckpt") as temporary:
        temporary.write_bytes(b"half")
        assert temporary.name.startswith(".best_model.ckpt.") and temporary.suffix == ".ckpt"
        assert checkpoint_stamps(tmp_path) == before
        temporary.write_bytes(b"half of it, and more")  # still growing: still nothing to rescan
        assert checkpoint_stamps(tmp_path) == before
    assert checkpoint_stamps(tmp_path) != before
    assert {path for path, *_ in checkpoint_stamps(tmp_path)} == {str(p) for p in find_checkpoints(tmp_path)}
