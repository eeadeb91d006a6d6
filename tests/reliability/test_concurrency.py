"""Concurrency: runs started in the same second by separate processes never share a directory;
the dashboard watching a run across a kill and a resume draws one continuous curve."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fer_core.runs import launcher, rundir
from fer_tui.app import FerApp
from tests.reliability.conftest import FIGURES, reap, tiny_config

FAKE_TRAINER = Path(__file__).resolve().parent.parent / "fake_trainer.py"
REPO = Path(__file__).resolve().parents[2]

CREATE = """
import sys, time
from fer_core import config
from fer_core.runs import rundir
gate = float(sys.argv[1])
cfg = config.make_config({"data_csv": "demo", "arch": "tiny_cnn", "epochs": 1})
while time.time() < gate:
    pass
print(rundir.create_run(cfg, "same"))
"""


def _same_second_gate() -> float:
    """The start of a second at least 1.5 s away: every process gets there before it."""
    return float(int(time.time()) + 2)


def test_processes_creating_runs_in_the_same_second_get_different_directories():
    n = 8
    gate = _same_second_gate()
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", CREATE, str(gate)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(n)
    ]
    outputs = [w.communicate(timeout=60) for w in workers]
    assert all(w.returncode == 0 for w in workers), [err for _, err in outputs]
    dirs = [Path(out.strip()) for out, _ in outputs]
    assert len(set(dirs)) == n, dirs
    stamps = [d.name.split("-same")[0] for d in dirs]
    same_second = max(stamps.count(s) for s in stamps)
    for d in dirs:  # each directory is whole and its own: config + status naming itself
        assert (d / rundir.CONFIG).is_file() and rundir.read_status(d).run_id == d.name
    assert same_second >= 2, f"the machine was too slow to start two in one second: {sorted(dirs)}"
    FIGURES["concurrency"].append(
        f"concurrency: {n} processes created runs, {same_second} in the same "
        f"second; {len(set(dirs))} distinct directories"
    )


def test_two_detached_cli_trains_in_the_same_second(tmp_path, procs):
    root = Path(os.environ["FER_TUI_CHECKPOINTS"])
    env = {**os.environ, "FER_TUI_TRAINER": f"{sys.executable} {FAKE_TRAINER}", "FAKE_TRAINER_HOLD": "1"}
    gate = _same_second_gate()
    script = (
        f"import time, sys\nwhile time.time() < {gate}: pass\n"
        "from fer_core.cli.main import main\nsys.exit(main(['train', '--detach', '--preset', 'demo']))"
    )
    # the CLI's imports take a moment: they happen before the gate, in parallel
    script = script.replace(
        "import time, sys\n", "import time, sys\nimport fer_core.cli.main, fer_core.cli.commands.train\n"
    )
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", script], cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [w.communicate(timeout=60) for w in workers]
    assert all(w.returncode == 0 for w in workers), outputs
    found = rundir.find_runs(root)
    for run in found:
        procs.watch(run.path)
    assert len(found) == 2 and found[0].path != found[1].path
    pids = {run.status.pid for run in found}
    assert len(pids) == 2, "each run has its own trainer"


@pytest.mark.slow
async def test_dashboard_shows_one_continuous_curve_across_kill_and_resume(tiny_csv, procs):
    from fer_tui.screens.run import RunScreen

    epochs = 8
    run_dir = procs.watch(rundir.create_run(tiny_config(tiny_csv, epochs=epochs), "watched"))
    pid = procs.add(launcher.launch_detached(run_dir))
    app = FerApp(root=Path(os.environ["FER_TUI_CHECKPOINTS"]))
    seen: list[list[int]] = []

    async def until(pilot, predicate, timeout, what):
        deadline = time.monotonic() + timeout
        while not predicate():
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            await pilot.pause(0.05)
            if isinstance(app.screen, RunScreen):
                epochs_now = [r.epoch for r in app.screen.rows]
                if not seen or seen[-1] != epochs_now:
                    seen.append(epochs_now)

    async with app.run_test(size=(100, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, RunScreen), 30, "the run screen (reattach)")
        screen = app.screen
        assert screen.run_dir == run_dir
        await until(pilot, lambda: len(screen.rows) >= 3, 120, "3 epochs on screen")
        os.kill(pid, signal.SIGKILL)  # the worst stop: no state saved beyond the last epoch
        reap(pid)
        await until(pilot, lambda: screen.state == "lost", 10, "the screen to say lost")
        await pilot.press("u")  # resume from the run screen
        await until(pilot, lambda: rundir.read_status(run_dir).pid != pid, 10, "a new trainer")
        procs.add(rundir.read_status(run_dir).pid)
        await until(pilot, lambda: screen.state == "finished", 180, "the resumed run to finish")
        await until(pilot, lambda: len(screen.rows) == epochs, 5, "every epoch on screen")
        for snapshot in seen:
            assert snapshot == list(range(1, len(snapshot) + 1)), f"gap or duplicate on screen: {snapshot}"
        lengths = [len(s) for s in seen]
        assert lengths == sorted(lengths), f"the curve went backwards: {seen}"
        chart = screen.query_one("#acc-chart")
        val = next(s for s in chart.series if s.label == "val")  # the train line is steps.jsonl's
        assert tuple(val.xs) == tuple(range(1, epochs + 1))
        on_disk = [json.loads(line) for line in (run_dir / rundir.METRICS).read_text().splitlines()]
        assert [r["epoch"] for r in on_disk] == list(range(1, epochs + 1))
        assert [r.val_acc for r in screen.rows] == [r["val_acc"] for r in on_disk]
    assert "Resuming at epoch" in (run_dir / rundir.LOG).read_text()
    FIGURES["concurrency"].append(
        f"concurrency: dashboard watched a kill -9 + resume: {len(seen)} screen "
        f"updates, epochs 1..{epochs} contiguous, never backwards"
    )
