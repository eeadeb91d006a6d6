"""Hang-ups: a run outlives the terminal it was started from, and `fer-tui` reattaches to it.

* `fer-tui train --detach` typed into an interactive bash that is the session leader of a
  pseudo-terminal (as under sshd); then the terminal goes away: SIGHUP to the shell and the
  master side closed (an SSH drop), or SIGKILL to the shell. The real trainer keeps
  heartbeating, is listed live, and finishes every epoch.
* The dashboard (`fer-tui`, session leader of its own pty) starts a run with ctrl+s, then is
  hung up on, killed (a crash) or quit with q. The trainer (tests/fake_trainer.py via
  FER_TUI_TRAINER, held running) keeps going; `fer-tui` started again in a new terminal says
  it reattached, and the app opens that run.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fer_core import fileio
from fer_core.runs import rundir
from fer_tui.app import FerApp
from tests.helpers import small_csv, status_of
from tests.reliability.conftest import FIGURES, tiny_config, wait_until
from tests.reliability.ptys import PtySession

FAKE_TRAINER = Path(__file__).resolve().parent.parent / "fake_trainer.py"
FER_TUI = str(Path(sys.executable).with_name("fer-tui"))


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "FER_TUI_TRAINER", "FAKE_"))}
    return {
        **env,
        "TERM": "xterm-256color",
        "PATH": f"{Path(sys.executable).parent}:{env.get('PATH', '')}",
        "PS1": "$ ",
        **extra,
    }


def _heartbeats(run_dir: Path, seconds: float) -> None:
    """The trainer is alive and still writing status.json after the hang-up."""
    first = rundir.read_status(run_dir).updated
    wait_until(lambda: (status_of(run_dir).updated or 0) > first, seconds, 0.1, "a heartbeat after the hang-up")
    assert rundir.effective_state(rundir.read_status(run_dir)) in rundir.LIVE_STATES


@pytest.mark.slow
@pytest.mark.parametrize("how", ["sighup", "sigkill"])
def test_detached_cli_run_survives_its_terminal(how, tiny_csv, tmp_path, procs):
    root = Path(os.environ["FER_TUI_CHECKPOINTS"])
    cfg_file = tmp_path / "tiny.toml"
    fileio.write_toml(cfg_file, tiny_config(tiny_csv, epochs=5).model_dump())
    shell = PtySession(["bash", "--norc", "--noprofile", "-i"], _env(), str(tmp_path))
    try:
        shell.write(f"{FER_TUI} train --detach --config {cfg_file}\n")
        match = shell.expect(r"started (\S+) \(pid (\d+)\)", 60)
        run_dir, pid = procs.watch(Path(match.group(1))), procs.add(int(match.group(2)))
        assert os.getsid(pid) != shell.pid, "the trainer must not be in the terminal's session"
        wait_until(lambda: status_of(run_dir).state == "running", 90, 0.1, "running")
        shell.hang_up(signal.SIGHUP if how == "sighup" else signal.SIGKILL)
        assert shell.wait(10) is not None, "the shell outlived its terminal"
    finally:
        shell.kill()
    _heartbeats(run_dir, 10)
    live = [r for r in rundir.find_runs(root) if r.live]
    assert [r.path for r in live] == [run_dir], "a new fer-tui lists the run as live"
    wait_until(lambda: rundir.read_status(run_dir).state in rundir.END_STATES, 180, 0.2, "the end of the run")
    status = rundir.read_status(run_dir)
    assert status.state == "finished", (run_dir / rundir.LOG).read_text()[-2000:]
    assert [r.epoch for r in rundir.read_metrics(run_dir)] == list(range(1, 6))
    FIGURES["hangup"].append(f"hang-up ({how} to the shell, pty closed): detached CLI run finished 5/5 epochs")


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/autogroup").exists(), reason="no autogroup scheduler here")
def test_a_niced_detached_run_keeps_its_niceness_in_its_own_session(tiny_csv, tmp_path, procs):
    """The trainer leads a session of its own, which the autogroup scheduler weighs against the
    user's shell before niceness counts: the session takes the niceness the run was started with."""
    cfg_file = tmp_path / "tiny.toml"
    fileio.write_toml(cfg_file, tiny_config(tiny_csv, epochs=3).model_dump())
    started = subprocess.run(
        [FER_TUI, "train", "--detach", "--config", str(cfg_file)],
        env=_env(),
        preexec_fn=lambda: os.nice(7),
        capture_output=True,
        text=True,
        timeout=120,
    )
    match = re.search(r"started (\S+) \(pid (\d+)\)", started.stdout)
    assert match, started.stdout + started.stderr
    run_dir, pid = procs.watch(Path(match.group(1))), procs.add(int(match.group(2)))
    wait_until(lambda: status_of(run_dir).state in ("running", *rundir.END_STATES), 90, 0.1, "running")
    assert os.getsid(pid) == pid, "the trainer leads its own session"
    niceness = min(19, os.nice(0) + 7)  # nice adds to the test's own niceness
    assert Path(f"/proc/{pid}/autogroup").read_text().split()[-1] == str(niceness)


@pytest.mark.parametrize("how", ["sighup", "sigkill", "quit"])
async def test_run_started_from_the_tui_survives_the_tui(how, tmp_path, procs):
    root = Path(os.environ["FER_TUI_CHECKPOINTS"])
    root.mkdir(parents=True, exist_ok=True)
    small_csv(tmp_path / "fer2013.csv")  # the form's default data_csv, found in the cwd
    env = _env(
        FER_TUI_TRAINER=f"{sys.executable} {FAKE_TRAINER}", FAKE_TRAINER_HOLD="1", FAKE_TRAINER_EPOCH_SECONDS="0.3"
    )
    tui = PtySession([FER_TUI], env, str(tmp_path))
    try:
        tui.expect(r"Presets", 60)
        tui.drain(0.5)
        tui.write("\x13")  # ctrl+s: Start
        found = wait_until(lambda: (tui.drain(0.05), rundir.find_runs(root))[1], 30, 0.05, "a run directory")
        run_dir = procs.watch(found[0].path)
        wait_until(lambda: (tui.drain(0.05), status_of(run_dir).state == "running")[1], 30, 0.05, "the trainer running")
        pid = procs.add(rundir.read_status(run_dir).pid)
        assert os.getsid(pid) != tui.pid
        if how == "quit":
            tui.write("q")
            assert tui.wait(15) is not None, "q did not quit"
            assert "still training" in tui.text
        else:
            tui.hang_up(signal.SIGHUP if how == "sighup" else signal.SIGKILL)
            assert tui.wait(15) is not None, f"the TUI outlived {how}"
    finally:
        tui.kill()
    _heartbeats(run_dir, 10)
    assert rundir.pid_alive(pid)

    again = PtySession([FER_TUI], env, str(tmp_path))
    try:
        again.expect(r"reattached", 60)
    finally:
        again.write("\x11")  # ctrl+q
        again.wait(5)
        again.kill()
    assert rundir.pid_alive(pid), "quitting the second dashboard left the run alone"
    app = FerApp(root=root)
    async with app.run_test(size=(80, 24)) as pilot:
        from fer_tui.screens.run import RunScreen

        deadline = time.monotonic() + 10
        while not (isinstance(app.screen, RunScreen) and app.screen.run_dir == run_dir):
            assert time.monotonic() < deadline, f"the app did not open the live run: {app.screen}"
            await pilot.pause(0.05)
    FIGURES["hangup"].append(f"hang-up: TUI {how} -> its run kept heartbeating; fer-tui again reattached")
