"""A disk that fills up under a running trainer (issue 12, class 3).

The run lives on a small tmpfs of its own (root only: skipped elsewhere). After epoch 2 a
careless admin fills it, leaving less than one checkpoint of room: the next checkpoint write
hits ENOSPC after MindSpore's temporary took the last bytes. The trainer must delete its
partial temporaries first, then end `failed: no space left on <dir>`; the earlier checkpoints
stay whole; once space is freed the run resumes to the end.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from fer_core.ckpt import index as ckpt_index
from fer_core.runs import launcher, rundir, runlock
from tests.reliability.conftest import reap, tiny_config, wait_until

pytestmark = pytest.mark.slow
SLACK = 100_000  # bytes left free: room for status.json heartbeats, not for a 246 KB checkpoint


@pytest.fixture
def small_fs(tmp_path):
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount)], capture_output=True, text=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def _metrics(run_dir) -> list[int]:
    path = run_dir / rundir.METRICS
    text = path.read_text() if path.exists() else ""
    return [json.loads(line)["epoch"] for line in text.splitlines() if line.strip()]


def _fill(mount, leave: int) -> int:
    """Write a filler file until only `leave` bytes are free; returns its size."""
    info = os.statvfs(mount)
    size = max(0, info.f_bavail * info.f_frsize - leave)
    with open(mount / "filler.bin", "wb") as handle:
        chunk = b"\0" * (1 << 20)
        written = 0
        while written < size:
            written += handle.write(chunk[: min(len(chunk), size - written)])
    return size


def test_enospc_ends_the_run_failed_with_the_reason_and_no_temporaries(tiny_csv, small_fs, procs):
    run_dir = procs.watch(rundir.create_run(tiny_config(tiny_csv, epochs=12), "full", root=small_fs))
    pid = procs.add(launcher.launch_detached(run_dir))
    wait_until(lambda: len(_metrics(run_dir)) >= 2, 300, 0.02, "epoch 2")
    _fill(small_fs, SLACK)
    wait_until(lambda: not rundir.pid_alive(pid), 300, 0.1, "the trainer to end")
    reap(pid)
    status = rundir.read_status(run_dir)
    log = (run_dir / rundir.LOG).read_text()
    assert status.state == "failed", (status, log[-2000:])
    assert status.message == f"no space left on {run_dir}", status
    hidden = [p.name for p in run_dir.iterdir() if p.name.startswith(".") and p.name != runlock.LOCK_NAME]
    assert hidden == [], f"partial temporaries left on a full disk: {hidden}"
    kept = [p for p in run_dir.glob("*.ckpt")]
    assert any(p.name == rundir.LAST_STATE for p in kept), kept
    for ckpt in kept:
        assert ckpt_index.read_index(ckpt).error is None, ckpt
    # space comes back: the run resumes from the last whole epoch and finishes
    (small_fs / "filler.bin").unlink()
    done = _metrics(run_dir)
    pid = procs.add(launcher.launch_detached(run_dir, resume=True))
    wait_until(
        lambda: rundir.read_status(run_dir).state in rundir.END_STATES and not rundir.pid_alive(pid),
        300,
        0.2,
        "the resumed run to end",
    )
    assert rundir.read_status(run_dir).state == "finished", (run_dir / rundir.LOG).read_text()[-2000:]
    assert _metrics(run_dir) == list(range(1, 13)) and len(done) >= 2


def test_no_space_while_creating_a_run_leaves_nothing_and_names_the_path(tiny_csv, small_fs, capfd):
    """The save_dir's file system is full when `fer-tui train` creates the run: one line with
    the run directory's path, exit 2, and no empty run directory left behind."""
    from fer_core.cli import main as cli

    _fill(small_fs, 0)
    before = sorted(p.name for p in small_fs.iterdir())
    capfd.readouterr()
    code = cli.main(["train", "--detach", "--preset", "demo", "--data_csv", str(tiny_csv), "--save_dir", str(small_fs)])
    _, err = capfd.readouterr()
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and str(small_fs) in lines[0] and "No space left" in lines[0], err
    assert sorted(p.name for p in small_fs.iterdir()) == before, "a half-made run directory was left"
