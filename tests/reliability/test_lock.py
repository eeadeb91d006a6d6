"""One trainer per run directory: the run's lock (issue 12, classes 1, 4, 6 and 10).

Real processes throughout: `fer-tui` through its console script, the real trainer where the
race is about real training (two resumes after a kill -9), the fake trainer where only the
process matters (stop, reaping).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from fer_core.errors import RunError
from fer_core.runs import launcher, rundir, runlock
from tests.helpers import status_of
from tests.reliability.conftest import reap, tiny_config, wait_until

FER_TUI = str(Path(sys.executable).with_name("fer-tui"))
FAKE_TRAINER = Path(__file__).resolve().parent.parent / "fake_trainer.py"


def _cli(*args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [FER_TUI, *args], capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})}
    )


def _state(run_dir: Path) -> str | None:
    return status_of(run_dir).state


def _fake(monkeypatch, seconds: float = 0.3) -> None:
    monkeypatch.setenv("FER_TUI_TRAINER", f"{sys.executable} {FAKE_TRAINER}")
    monkeypatch.setenv("FAKE_TRAINER_EPOCH_SECONDS", str(seconds))


# ---------------------------------------------------------------- class 1: two resumes


@pytest.mark.slow
def test_two_resumes_at_once_start_one_trainer(tiny_csv, procs):
    """After a kill -9, two `fer-tui train --resume R --detach` at the same instant: one
    starts, the other is refused in one line (exit 2); the run ends with each epoch once."""
    run_dir = procs.watch(rundir.create_run(tiny_config(tiny_csv, epochs=5), "twice"))
    pid = procs.add(launcher.launch_detached(run_dir))
    wait_until(lambda: (run_dir / rundir.LAST_STATE).exists(), 180, 0.05, "epoch 1's last_state.ckpt")
    os.kill(pid, signal.SIGKILL)
    reap(pid)
    log_before = (run_dir / rundir.LOG).read_text()
    starters = [
        subprocess.Popen(
            [FER_TUI, "train", "--resume", str(run_dir), "--detach"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = [(p.wait(timeout=120), *p.communicate()) for p in starters]
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 2], results
    refused = next(err for code, _, err in results if code == 2)
    assert len(refused.strip().splitlines()) == 1 and "Traceback" not in refused, refused
    assert str(run_dir) in refused and ("in use" in refused or "still" in refused), refused
    wait_until(lambda: _state(run_dir) in rundir.END_STATES, 300, 0.2, "the resumed run to end")
    trainer = status_of(run_dir).pid
    procs.add(trainer)
    reap(trainer, timeout=30)
    assert _state(run_dir) == "finished", (run_dir / rundir.LOG).read_text()[-2000:]
    epochs = [json.loads(line)["epoch"] for line in (run_dir / rundir.METRICS).read_text().splitlines()]
    assert epochs == [1, 2, 3, 4, 5]
    assert (run_dir / rundir.LOG).read_text()[len(log_before) :].count("Resuming at epoch") == 1


def test_a_second_trainer_for_a_locked_run_touches_nothing(tmp_path):
    """`python -m fer_core.train RUN` while another process holds the lock: exit 2, one line,
    status.json and every file left as they were."""
    run_dir = rundir.create_run(tiny_config(tmp_path / "unused.csv"), "locked")
    lock = runlock.acquire(run_dir)
    lock.record_pid(os.getpid())
    try:
        before = {p.name: p.stat().st_mtime_ns for p in run_dir.iterdir()}
        result = subprocess.run(
            [sys.executable, "-m", "fer_core.train", str(run_dir)], capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 2, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert f"trainer pid {os.getpid()}" in result.stderr and "in use" in result.stderr
        assert {p.name: p.stat().st_mtime_ns for p in run_dir.iterdir()} == before
    finally:
        lock.release()


def test_dashboard_resume_goes_through_the_lock(tmp_path, monkeypatch, procs):
    """Two launches of one run from one process (the dashboard's Resume, twice, at once):
    exactly one trainer starts, the other launch raises RunError."""
    _fake(monkeypatch, seconds=5)
    run_dir = procs.watch(rundir.create_run(tiny_config(tmp_path / "unused.csv"), "dash"))
    rundir.update_status(run_dir, state="stopped")
    outcomes: list = []
    barrier = threading.Barrier(2)

    def resume() -> None:
        barrier.wait()
        try:
            outcomes.append(procs.add(launcher.launch_detached(run_dir, resume=True)))
        except RunError as error:
            outcomes.append(error)

    threads = [threading.Thread(target=resume) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    pids = [o for o in outcomes if isinstance(o, int)]
    assert len(pids) == 1 and len(outcomes) == 2, outcomes
    assert runlock.is_held(run_dir)
    assert runlock.process_has_lock_open(pids[0], run_dir)


# ---------------------------------------------------------------- class 4: temporaries


@pytest.mark.slow
def test_resume_deletes_every_temporary_however_fresh(tiny_csv, procs):
    """A kill -9 during a checkpoint write leaves MindSpore's `.best_model.ckpt.*.tmp`; an
    immediate resume (the file is seconds old) deletes it, and every other temporary."""
    run_dir = procs.watch(rundir.create_run(tiny_config(tiny_csv, epochs=2), "temps"))
    rundir.update_status(run_dir, state="stopped")
    leftovers = [  # the names fer-tui's temporaries have (fileio.TEMP_MARK), MindSpore's `.tmp` too
        run_dir / ".best_model.ckpt.fer-tmp-k2j3h4ab.tmp",
        run_dir / ".last_state.ckpt.fer-tmp-x9y8z7ab.ckpt",
        run_dir / ".metrics.jsonl.fer-tmp-q1w2e3ab.tmp",
        run_dir / ".fer-1_17.json.fer-tmp-a1b2c3ab.tmp",
    ]
    for path in leftovers:
        path.write_bytes(os.urandom(196_000 if "ckpt" in path.name else 100))
    procs.add(launcher.launch_detached(run_dir, resume=True))
    wait_until(lambda: _state(run_dir) in ("running", *rundir.END_STATES), 180, 0.05, "the trainer to start")
    left = [p.name for p in leftovers if p.exists()]
    assert left == [], f"temporaries survived the resume: {left}"
    assert (run_dir / runlock.LOCK_NAME).exists(), "the lock file is not a temporary"


# ---------------------------------------------------------------- class 6: stop


def test_stop_with_no_pid_yet_is_one_line(tmp_path):
    """Right after a foreground `fer-tui train` created its run, status.json has pid null."""
    run_dir = rundir.create_run(tiny_config(tmp_path / "unused.csv"), "nopid")
    result = _cli("stop", str(run_dir))
    assert result.returncode == 2, result
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr, result.stderr
    assert str(run_dir) in result.stderr and "not started yet" in result.stderr, result.stderr


def test_stop_does_not_signal_a_process_that_is_not_the_trainer(tmp_path, procs):
    """status.json names a live process that is not this run's trainer (a reused pid, an
    edited file): stop refuses in one line and the process lives on."""
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    procs.add(bystander.pid)
    run_dir = rundir.create_run(tiny_config(tmp_path / "unused.csv"), "reused")
    rundir.update_status(run_dir, state="running", pid=bystander.pid)
    for lock_file in (False, True):  # a run from before the lock, and one that has a lock file
        if lock_file:
            runlock.acquire(run_dir).release()
        result = _cli("stop", str(run_dir))
        assert result.returncode == 2, result
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "not signalled" in result.stderr or "nothing to stop" in result.stderr, result.stderr
        time.sleep(0.5)
        assert bystander.poll() is None, "stop killed a process that was not the trainer"


def test_stop_reaches_the_trainer_holding_the_lock(tmp_path, monkeypatch, procs):
    _fake(monkeypatch, seconds=2)
    run_dir = procs.watch(rundir.create_run(tiny_config(tmp_path / "unused.csv"), "stopme"))
    pid = procs.add(launcher.launch_detached(run_dir))
    wait_until(lambda: _state(run_dir) == "running", 60, 0.05, "running")
    assert launcher.trainer_pid(run_dir) == pid
    result = _cli("stop", run_dir.name)
    assert result.returncode == 0, result.stderr
    assert f"pid {pid}" in result.stdout
    wait_until(lambda: _state(run_dir) == "stopped", 60, 0.05, "stopped")


# ---------------------------------------------------------------- class 10: zombies


def test_trainers_launched_by_a_long_lived_process_are_reaped(tmp_path, monkeypatch, procs):
    """The dashboard stays up for days: a trainer it started and that ended must not stay
    <defunct> until the dashboard exits."""
    _fake(monkeypatch, seconds=0.05)
    run_dir = procs.watch(rundir.create_run(tiny_config(tmp_path / "unused.csv", epochs=2), "zombie"))
    pid = launcher.launch_detached(run_dir)
    wait_until(lambda: _state(run_dir) == "finished", 60, 0.05, "the fake run to finish")
    wait_until(lambda: not Path(f"/proc/{pid}").exists(), 30, 0.05, f"pid {pid} to be reaped")
