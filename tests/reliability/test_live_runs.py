"""Issue 23 with real processes: a real trainer on the demo preset records its curves inside
the first epoch and `fer-tui runs` shows its step; `fer-tui wait` exits by how a run ended;
`fer-tui runs --all` from another folder lists a run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from fer_core import config as fer_config
from fer_core.runs import launcher, rundir
from fer_core.train.reporter import STEP_SECONDS_ENV
from tests.helpers import status_of
from tests.reliability.conftest import FAKE_TRAINER, reap, tiny_config, wait_until

pytestmark = pytest.mark.slow


def fer_tui(*args: str, cwd: Path | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "fer_core.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=cwd,
    )


def test_the_demo_preset_records_steps_inside_the_first_epoch(tmp_path, procs, monkeypatch):
    monkeypatch.setenv(STEP_SECONDS_ENV, "0.05")  # a step-level cadence: the demo's epochs are short
    demo = fer_config.load_preset("demo").config.model_copy(update={"epochs": 2, "save_dir": "."})
    run_dir = procs.watch(rundir.create_run(demo, "demo"))
    waiting = fer_tui("wait", str(run_dir))
    procs.add(waiting.pid)
    pid = procs.add(launcher.launch_detached(run_dir))

    def inside_epoch_1():
        status = status_of(run_dir)
        return status.state == "running" and status.epoch == 0 and 0 < status.step < status.steps

    wait_until(inside_epoch_1, 240, 0.02, "a heartbeat inside epoch 1")
    first = (run_dir / rundir.LOG).read_text().splitlines()
    assert "Training 2 epochs of " in "\n".join(first), first  # the log says something before epoch 1 ends
    listing = fer_tui("runs")
    out, _ = listing.communicate(timeout=60)
    row = next(line for line in out.splitlines() if run_dir.name in line)
    step, steps = row.split()[4].split("/")  # run preset state epoch step eta …
    assert 0 < int(step) <= int(steps), row
    # the curves before the first epoch's metrics line
    steps_before = [r for r in rundir.read_steps(run_dir) if r.x < 1]
    reap(pid, timeout=300)
    assert status_of(run_dir).state == "finished", (run_dir / rundir.LOG).read_text()[-2000:]
    rows = rundir.read_steps(run_dir)
    assert any(r.x < 1 and r.loss is not None and r.acc is not None for r in rows), rows[:3]
    assert [r.x for r in rows if r.x == int(r.x)] == [1.0, 2.0]  # and one at each epoch's end
    assert steps_before or any(r.x < 1 for r in rows)
    out, _ = waiting.communicate(timeout=60)
    assert waiting.returncode == 0 and "finished" in out, out


@pytest.fixture
def fake(monkeypatch):
    monkeypatch.setenv("FER_TUI_TRAINER", f"{sys.executable} {FAKE_TRAINER}")
    monkeypatch.setenv("FAKE_TRAINER_EPOCH_SECONDS", "0.2")
    return monkeypatch


@pytest.mark.parametrize(
    ("how", "code"),
    [("finished", 0), ("failed", 1), ("stopped", 3), ("lost", 4)],
)
def test_fer_tui_wait_exits_by_how_the_run_ended(how, code, tiny_csv, fake, procs):
    if how == "failed":
        fake.setenv("FAKE_TRAINER_FAIL", "1")
    if how in ("stopped", "lost"):
        fake.setenv("FAKE_TRAINER_HOLD", "1")
    run_dir = procs.watch(rundir.create_run(tiny_config(tiny_csv, epochs=3), "wait"))
    pid = procs.add(launcher.launch_detached(run_dir))
    wait_until(lambda: status_of(run_dir).state == "running", 60, 0.02, "running")
    waiting = fer_tui("wait", str(run_dir))
    procs.add(waiting.pid)
    if how == "stopped":
        launcher.stop_run(run_dir)
    elif how == "lost":
        os.kill(pid, signal.SIGKILL)
        reap(pid)
    out, _ = waiting.communicate(timeout=120)
    assert waiting.returncode == code, out
    assert how in out, out


def test_wait_gives_up_after_its_timeout(tiny_csv, fake, procs):
    fake.setenv("FAKE_TRAINER_HOLD", "1")
    run_dir = procs.watch(rundir.create_run(tiny_config(tiny_csv), "wait"))
    procs.add(launcher.launch_detached(run_dir))
    wait_until(lambda: status_of(run_dir).state == "running", 60, 0.02, "running")
    waiting = fer_tui("wait", str(run_dir), "--timeout", "0.5")
    out, _ = waiting.communicate(timeout=60)
    assert waiting.returncode == 124, out


def test_runs_all_from_another_folder_lists_the_run(tiny_csv, tmp_path, fake, procs):
    run_dir = rundir.create_run(tiny_config(tiny_csv), "anywhere", root=tmp_path / "project" / "checkpoints")
    reap(procs.add(launcher.launch_detached(run_dir)))  # launching it registers it
    elsewhere = tmp_path / "home"
    elsewhere.mkdir()
    env = {**os.environ, "FER_TUI_CHECKPOINTS": str(elsewhere / "checkpoints")}
    here = subprocess.run(
        [sys.executable, "-m", "fer_core.cli", "runs"], cwd=elsewhere, env=env, capture_output=True, text=True
    )
    assert run_dir.name not in here.stdout
    every = subprocess.run(
        [sys.executable, "-m", "fer_core.cli", "runs", "--all"], cwd=elsewhere, env=env, capture_output=True, text=True
    )
    assert every.returncode == 0 and run_dir.name in every.stdout and str(run_dir.resolve()) in every.stdout
