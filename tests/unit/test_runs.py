"""The run directory contract, read and written without mindspore."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fer_core import config
from fer_core.errors import RunError
from fer_core.records import RunStatus
from fer_core.runs import launcher, rundir


def test_create_run_writes_config_and_status():
    cfg = config.make_config({"data_csv": "demo", "epochs": 3})
    run_dir = rundir.create_run(cfg, "demo")
    assert run_dir.parent.name == "." or run_dir.parent.exists()
    assert rundir.read_config(run_dir) == cfg
    status = rundir.read_status(run_dir)
    assert status.state == "starting" and status.epochs == 3 and status.run_id == run_dir.name


def test_runs_started_in_the_same_second_get_different_directories():
    cfg = config.TrainConfig()
    made = {rundir.create_run(cfg, "same") for _ in range(5)}
    assert len(made) == 5


def test_unwritable_save_dir(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    if os.access(locked, os.W_OK):  # root ignores permissions; use a file in the way instead
        locked.chmod(0o700)
        blocker = tmp_path / "blocker"
        blocker.write_text("a file, not a folder")
        cfg = config.make_config({"save_dir": str(blocker / "runs")})
    else:
        cfg = config.make_config({"save_dir": str(locked)})
    with pytest.raises(RunError, match="save_dir"):
        rundir.create_run(cfg)


def test_metrics_tail_tolerates_partial_lines_and_resume_rewrites(tmp_path):
    path = tmp_path / rundir.METRICS
    tail = rundir.MetricsTail(path)
    assert tail.poll() == []
    path.write_text('{"epoch": 1, "val_acc": 0.5}\n{"epoch": 2, "val')
    assert [r.epoch for r in tail.poll()] == [1]
    with open(path, "a") as handle:
        handle.write('_acc": 0.6}\n')
    assert [r.val_acc for r in tail.poll()] == [0.5, 0.6]
    with open(path, "a") as handle:  # damaged lines are skipped, the tail goes on
        handle.write('[3]\n{"epoch": "three"}\n{"val_acc": 0.7}\n{"epoch": 3, "val_acc": 0.7}\n')
    assert [r.epoch for r in tail.poll()] == [1, 2, 3]
    path.write_text('{"epoch": 1, "val_acc": 0.4}\n')  # replaced by a resume: start over
    assert [r.val_acc for r in tail.poll()] == [0.4]


def test_effective_state_judges_pid_and_heartbeat():
    now = time.time()
    me = RunStatus(state="running", pid=os.getpid(), updated=now)
    assert rundir.effective_state(me) == "running"
    assert rundir.effective_state(me.evolve(updated=now - 3600)) == "lost"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    assert rundir.effective_state(me.evolve(pid=dead.pid)) == "lost"
    assert rundir.effective_state(RunStatus(state="finished")) == "finished"
    assert rundir.effective_state(RunStatus()) == "unknown"  # a status.json that names no state
    assert rundir.effective_state(None) == "unknown"


def test_a_trainer_that_ended_after_its_status_was_read_is_not_lost(tmp_path):
    """The queue runner read `running`, then the trainer wrote `finished` and exited: the run
    folder's last word counts (this race once failed a finished queue entry as lost)."""
    run_dir = rundir.create_run(config.TrainConfig(), "x", root=tmp_path)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    seen = RunStatus(state="running", pid=dead.pid, updated=time.time())
    rundir.update_status(run_dir, state="finished", pid=dead.pid)
    assert rundir.effective_state(seen, run_dir=run_dir) == "finished"
    rundir.update_status(run_dir, state="running")  # still says running: the trainer is lost
    assert rundir.effective_state(seen, run_dir=run_dir) == "lost"
    assert rundir.effective_state(seen) == "lost"  # without the folder there is no last word


def test_find_runs_lists_live_first(tmp_path):
    cfg = config.TrainConfig()
    old = rundir.create_run(cfg, "old", root=tmp_path)
    rundir.update_status(old, state="finished", started=1)
    live = rundir.create_run(cfg, "live", root=tmp_path / "nested")
    rundir.update_status(live, state="running", pid=os.getpid())
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / rundir.STATUS).write_text("{not json")
    found = rundir.find_runs(tmp_path)
    assert [r.path for r in found] == [live, old, tmp_path / "junk"]  # the damaged one listed, last
    assert found[0].live and not found[1].live and found[2].state == "unreadable"


def test_stop_and_resume_guards():
    cfg = config.TrainConfig()
    run_dir = rundir.create_run(cfg, "x")
    rundir.update_status(run_dir, state="finished")
    with pytest.raises(RunError, match="not live"):
        launcher.stop_run(run_dir)
    with pytest.raises(RunError, match="already finished"):
        launcher.check_resumable(run_dir)
    rundir.update_status(run_dir, state="stopped")
    launcher.check_resumable(run_dir)  # no last_state.ckpt yet: resuming starts at epoch 1
    with pytest.raises(RunError, match="not a run directory"):
        launcher.check_resumable(run_dir.parent)


def test_status_is_written_atomically(tmp_path):
    run_dir = tmp_path / "r"
    run_dir.mkdir()
    for n in range(50):
        rundir.write_status(run_dir, RunStatus(state="running", epoch=n, message="x" * 5000))
        assert json.loads((run_dir / rundir.STATUS).read_text())["epoch"] == n
    assert [p.name for p in run_dir.iterdir()] == [rundir.STATUS], "no temporary files left behind"


def test_truncated_checkpoint_with_a_sidecar_is_broken_in_the_cheap_listing(tmp_path):
    """The table the dashboard shows reads the file's record headers, not only its sidecar."""
    from fer_core.ckpt import listing, sidecar

    shipped = Path(__file__).resolve().parents[2] / "checkpoints" / "shipped" / "demo-tiny_cnn"
    ckpt = tmp_path / "best_model.ckpt"
    data = (shipped / "best_model.ckpt").read_bytes()
    ckpt.write_bytes(data[: len(data) - 100])  # 99.96 % of the size: the size rule alone says ok
    sidecar.sidecar_path(ckpt).write_text((shipped / "best_model.json").read_text())
    (row,) = listing.scan(tmp_path)
    assert row.verdict.level == "broken" and row.verdict.text.startswith("truncated"), row.verdict


def test_runs_verb_says_why_a_run_failed(capsys):
    from fer_core.cli.main import main

    run_dir = rundir.create_run(config.TrainConfig(), "broken")
    rundir.update_status(run_dir, state="failed", message="data_csv x.csv: no such file or folder")
    assert main(["runs"]) == 0
    out = capsys.readouterr().out
    assert "failed" in out and "└ data_csv x.csv: no such file or folder" in out


def test_run_lock_is_exclusive_and_dies_with_its_holder(tmp_path):
    """The lock a trainer holds: a second taker is refused naming the holder; a holder killed
    with -9 frees it (the kernel drops flock locks with the last descriptor)."""
    import signal

    from fer_core.runs import runlock

    run_dir = rundir.create_run(config.TrainConfig(), "lock")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                "import sys, time; from fer_core.runs import runlock; "
                f"lock = runlock.acquire({str(run_dir)!r}); lock.record_pid(__import__('os').getpid()); "
                "print('held', flush=True); time.sleep(120)"
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        assert runlock.is_held(run_dir) and runlock.holder_pid(run_dir) == holder.pid
        assert runlock.process_has_lock_open(holder.pid, run_dir)
        assert not runlock.process_has_lock_open(os.getpid(), run_dir)
        with pytest.raises(RunError, match=f"in use by trainer pid {holder.pid}"):
            runlock.acquire(run_dir, wait=0.2)
        holder.send_signal(signal.SIGKILL)
        holder.wait(30)
        lock = runlock.acquire(run_dir, wait=5)
        lock.release()
    finally:
        holder.kill()
        holder.wait(30)


def test_a_live_looking_status_whose_lock_is_free_is_lost():
    """After a kill -9 the trainer's pid may be reused at once: status.json still says running
    with a live pid and a fresh heartbeat, but nobody holds the run's lock."""
    from fer_core.runs import runlock

    run_dir = rundir.create_run(config.TrainConfig(), "reused")
    rundir.update_status(run_dir, state="running", pid=os.getpid())
    assert rundir.effective_state(rundir.read_status(run_dir), run_dir=run_dir) == "running"  # no lock file: as before
    runlock.acquire(run_dir).release()  # a trainer held it once, and is gone
    assert rundir.effective_state(rundir.read_status(run_dir), run_dir=run_dir) == "lost"
    assert [r.state for r in rundir.find_runs(run_dir.parent)] == ["lost"]
    lock = runlock.acquire(run_dir)
    try:
        assert rundir.effective_state(rundir.read_status(run_dir), run_dir=run_dir) == "running"
    finally:
        lock.release()


def test_the_run_column_names_a_run_folder_given_as_the_root(tmp_path):
    from fer_core.ckpt.listing import run_name

    run_dir, flat = tmp_path / "20261130-063303-demo", tmp_path / "downloads"
    run_dir.mkdir()
    flat.mkdir()
    (run_dir / "config.toml").write_text("epochs = 1\n")
    assert run_name(run_dir / "best_model.ckpt", tmp_path) == "20261130-063303-demo"
    assert run_name(run_dir / "best_model.ckpt", run_dir) == "20261130-063303-demo"
    assert run_name(flat / "model.ckpt", flat) == ""
