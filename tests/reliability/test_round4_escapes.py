"""Hostile text the verbs print, round 4: a run's status message and folder name (`wait`,
`diagnose`), a preset name in the leaderboard (`runs --table`, its Markdown and CSV), a
sidecar's arch (`checkpoints`), a root, a --config file, an --output or a checkpoint named with
escapes (`queue`, `sweep`, `train`, `export`, `infer`). Each is printed with its control
characters as visible escapes, through the real `fer-tui` process, never as bytes a terminal obeys.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

from fer_core.runs import rundir
from tests.helpers import make_run
from tests.reliability.test_round3_inputs import HOSTILE, SEEN, SHIPPED, assert_terminal_safe, fer_tui

RUN_ID = f"20260101-090000-de{HOSTILE}mo"  # a run folder anyone could have named


def test_wait_prints_a_failed_runs_message_and_name_escaped(area):
    run_dir = make_run(area / "checkpoints", RUN_ID, state="failed")
    rundir.update_status(run_dir, message=f"bad {HOSTILE}")
    result = fer_tui("wait", str(run_dir))
    assert result.returncode == 1, result.stderr
    assert_terminal_safe(result.stdout + result.stderr)
    assert result.stdout.decode() == f"20260101-090000-de{SEEN}mo: failed: bad {SEEN}\n"


def test_wait_that_times_out_names_the_live_run_escaped(area, procs):
    # live: a process of its own session stands in for its trainer, and its heartbeat is fresh
    trainer = procs.add(subprocess.Popen(["sleep", "60"], start_new_session=True).pid)
    run_dir = make_run(area / "checkpoints", RUN_ID, state="running", pid=trainer, started=time.time() - 600)
    result = fer_tui("wait", str(run_dir), "--timeout", "0")
    assert result.returncode == 124, result.stderr
    assert_terminal_safe(result.stdout + result.stderr)
    assert f"20260101-090000-de{SEEN}mo: still live after 0s" in result.stderr.decode()


def test_diagnose_names_the_run_escaped(area):
    result = fer_tui("diagnose", str(make_run(area / "checkpoints", RUN_ID)))
    assert result.returncode == 0, result.stderr
    assert_terminal_safe(result.stdout + result.stderr)
    assert result.stdout.decode().startswith(f"20260101-090000-de{SEEN}mo: 3 epochs\n")


def test_the_leaderboard_shows_a_hostile_preset_escaped_in_every_form(area):
    """Plain, Markdown and CSV: the preset (status.json's, anyone's to edit) escaped; the CSV
    stays one record per row that a CSV reader reads back."""
    root = area / "checkpoints"
    make_run(root, "20260101-090000-demo", preset=f"de{HOSTILE}mo")
    for form in ([], ["--markdown"], ["--csv"]):
        result = fer_tui("runs", "--table", *form, str(root))
        assert result.returncode == 0, result.stderr
        assert_terminal_safe(result.stdout + result.stderr)
        assert f"de{SEEN}mo" in result.stdout.decode(), form
    records = list(csv.reader(io.StringIO(result.stdout.decode())))
    assert [len(r) for r in records] == [len(records[0])] * 2
    assert records[1][records[0].index("preset")] == f"de{SEEN}mo"


def test_the_leaderboard_of_a_hostile_root_with_no_accuracy_names_it_escaped(area):
    root = area / f"root{HOSTILE}"
    make_run(root, "20260101-090000-demo", accs=())
    result = fer_tui("runs", "--table", str(root))
    assert result.returncode == 0, result.stderr
    assert_terminal_safe(result.stdout + result.stderr)
    assert f"root{SEEN}" in result.stdout.decode()


def test_checkpoints_shows_a_sidecars_arch_escaped(area):
    run_dir = area / "checkpoints" / "20260101-090000-demo"
    run_dir.mkdir(parents=True)
    (run_dir / "best_model.ckpt").write_bytes(os.urandom(1000))
    (run_dir / "best_model.json").write_text(json.dumps({"arch": f"tiny{HOSTILE}", "kind": "weights"}))
    result = fer_tui("checkpoints", "--quick", str(area / "checkpoints"))
    assert_terminal_safe(result.stdout + result.stderr)
    assert f"tiny{SEEN}" in result.stdout.decode()


def test_queue_and_sweep_name_a_hostile_root_and_config_file_escaped(area, monkeypatch):
    root = area / f"root{HOSTILE}"
    root.mkdir()
    monkeypatch.setenv("FER_TUI_CHECKPOINTS", str(root))
    config = area / "in" / f"mine{HOSTILE}.toml"
    config.write_text('epochs = 1\ndata_csv = "demo"\n')
    for argv, said in (
        (["queue"], f"the queue is empty ({area}/root{SEEN}/.queue)"),
        (["queue", "add", "--config", str(config)], f"queued #1: mine{SEEN}"),
        (["sweep", "--preset", "demo", "--seeds", "1,2", "--name", "s"], f"of sweep {area}/root{SEEN}/sweeps/s"),
    ):
        result = fer_tui(*argv)
        assert result.returncode == 0, result.stderr
        assert_terminal_safe(result.stdout + result.stderr)
        assert said in result.stdout.decode(), argv


def test_train_notes_a_hostile_config_files_name_escaped(area):
    config = area / "in" / f"fast{HOSTILE}.toml"
    config.write_text('kernels = "fast"\ndata_csv = "demo"\n')  # CPU-only kernels, asked for on a GPU
    result = fer_tui("train", "--config", str(config), "--device_target", "GPU", "--detach")
    assert_terminal_safe(result.stdout + result.stderr)
    assert f"note: fast{SEEN}'s kernels" in result.stdout.decode()


def test_export_names_a_hostile_output_escaped(area):
    output = area / f"out{HOSTILE}.onnx"
    result = fer_tui("export", "--ckpt", str(SHIPPED / "best_model.ckpt"), "--output", str(output))
    assert result.returncode == 0, result.stderr
    assert output.is_file()
    assert_terminal_safe(result.stdout + result.stderr)
    assert f"out{SEEN}.onnx" in result.stdout.decode()


def test_infer_warns_of_a_hostile_checkpoint_name_escaped(area):
    ckpt = area / "in" / f"first{HOSTILE}.ckpt"
    shutil.copy(SHIPPED / "best_model.ckpt", ckpt)
    sidecar = json.loads((SHIPPED / "best_model.json").read_text())
    ckpt.with_suffix(".json").write_text(json.dumps({**sidecar, "epoch": 0, "file": ckpt.name}))  # untrained
    face = Path(__file__).resolve().parents[2] / "samples" / "happy" / "correct_sample_1.png"
    result = fer_tui("infer", "--ckpt", str(ckpt), "--image", str(face))
    assert result.returncode == 0, result.stderr
    assert_terminal_safe(result.stdout + result.stderr)
    assert f"warning: first{SEEN}.ckpt: saved at epoch 0" in result.stderr.decode()
