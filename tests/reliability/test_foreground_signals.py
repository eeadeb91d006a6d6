"""A foreground `fer-tui train` and its signals (issue 12, class 9): a stopped run exits
128 + the signal (130 for ctrl+c, so `train && next-step` stops) and names the signal it got;
a terminal that hangs up does not end the run, its output goes on in train.log.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from fer_core import fileio
from fer_core.runs import rundir
from tests.helpers import status_of
from tests.reliability.conftest import reap, tiny_config, wait_until
from tests.reliability.ptys import PtySession

pytestmark = pytest.mark.slow
FER_TUI = str(Path(sys.executable).with_name("fer-tui"))


def _only_run(root: Path) -> Path | None:
    found = rundir.find_runs(root)
    return found[0].path if found else None


def _running(root: Path) -> Path | None:
    run_dir = _only_run(root)
    status = rundir.read_status(run_dir) if run_dir else None
    return run_dir if status and status.state == "running" and status.step >= 1 else None


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_stopped_foreground_run_exits_128_plus_the_signal(sig, tiny_csv, tmp_path, procs):
    root = Path(os.environ["FER_TUI_CHECKPOINTS"])
    cfg_file = tmp_path / "tiny.toml"
    fileio.write_toml(cfg_file, tiny_config(tiny_csv, epochs=30).model_dump())
    process = subprocess.Popen(
        [FER_TUI, "train", "--config", str(cfg_file)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    procs.add(process.pid)
    run_dir = wait_until(lambda: _running(root), 180, 0.05, "the foreground run to train")
    process.send_signal(sig)
    out, _ = process.communicate(timeout=120)
    name = signal.Signals(sig).name
    assert process.returncode == 128 + sig, out[-2000:]
    assert f"Stopped by {name}" in out, out[-2000:]
    status = rundir.read_status(run_dir)
    assert status.state == "stopped" and status.message.startswith(f"stopped by {name}"), status
    assert (run_dir / rundir.LAST_STATE).exists()


def test_a_foreground_run_outlives_its_terminal(tiny_csv, tmp_path, procs):
    """`fer-tui train` in the foreground of a pseudo-terminal that hangs up after epoch 1: the
    run trains to the end; what it would have printed goes to train.log."""
    root = Path(os.environ["FER_TUI_CHECKPOINTS"])
    cfg_file = tmp_path / "tiny.toml"
    fileio.write_toml(cfg_file, tiny_config(tiny_csv, epochs=6).model_dump())
    env = {**os.environ, "TERM": "xterm-256color"}
    session = PtySession([FER_TUI, "train", "--config", str(cfg_file)], env, str(tmp_path))
    procs.add(session.pid)
    try:
        session.expect(r"Validation Accuracy", 180)  # epoch 1 printed to the terminal
        run_dir = _only_run(root)
        session.hang_up(signal.SIGHUP)
        wait_until(lambda: status_of(run_dir).state in rundir.END_STATES, 300, 0.2, "the run to end")
        status = rundir.read_status(run_dir)
        log = (run_dir / rundir.LOG).read_text() if (run_dir / rundir.LOG).exists() else ""
        assert status.state == "finished", (status, log[-2000:])
        assert "terminal hung up" in log and "Epoch 6/6" in log, log[-2000:]
    finally:
        reap(session.pid, timeout=30)
        session.kill()


def test_a_foreground_run_outlives_a_closed_pipe(tiny_csv, tmp_path, procs):
    """`fer-tui train … | head -1`: the reader leaves after one line; the run trains to the end
    (it used to die of EPIPE at its next print) and the rest of its output goes to train.log."""
    root = Path(os.environ["FER_TUI_CHECKPOINTS"])
    cfg_file = tmp_path / "tiny.toml"
    fileio.write_toml(cfg_file, tiny_config(tiny_csv, epochs=3).model_dump())
    process = subprocess.Popen(
        [FER_TUI, "train", "--config", str(cfg_file)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    procs.add(process.pid)
    assert process.stdout.readline().startswith(b"run directory: ")
    process.stdout.close()  # `head -1` exits
    assert process.wait(timeout=300) == 0
    run_dir = _only_run(root)
    log = (run_dir / rundir.LOG).read_text()
    assert rundir.read_status(run_dir).state == "finished", log[-2000:]
    assert "output gone" in log and "Epoch 3/3" in log, log[-2000:]
