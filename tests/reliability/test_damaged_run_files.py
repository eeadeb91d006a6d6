"""A run folder whose files are damaged is one bad run, said and named; never a run that vanishes
and never another run answering for it (a tester's report: a copied run with a broken
status.json dropped out of `runs`, and `--root c wait ID` then answered about the original in
another folder, found through the registry).

Real files and the real `fer-tui` console script; no trainer is needed (nothing is live).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fer_core.runs import registry, rundir
from tests.helpers import make_run
from tests.reliability.conftest import refused_in_one_line

FER_TUI = str(Path(sys.executable).with_name("fer-tui"))
A, B = "20260101-100000-demo", "20260101-110000-demo"


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([FER_TUI, *args], capture_output=True, text=True, timeout=120, cwd=cwd, env=dict(os.environ))


@pytest.fixture
def copied(tmp_path) -> tuple[Path, Path]:
    """checkpoints/demo/{A,B} (A registered, as its launch does), copied to c/ with c/A's
    status.json broken: (the original A, the folder c)."""
    demo = tmp_path / "checkpoints" / "demo"
    original = make_run(demo, A, state="stopped")
    make_run(demo, B)
    assert registry.register(original)
    copy = tmp_path / "c"
    copy.mkdir()
    for name in (A, B):
        shutil.copytree(demo / name, copy / name)
    (copy / A / rundir.STATUS).write_text("{bad\n")
    return original, copy


def test_runs_lists_a_run_whose_status_does_not_read(copied, tmp_path):
    _, copy = copied
    listing = _cli("runs", str(copy), cwd=tmp_path)
    assert listing.returncode == 0 and "Traceback" not in listing.stderr, listing.stderr
    rows = listing.stdout.splitlines()
    (row,) = [line for line in rows if line.startswith(A)]
    assert row.split()[:2] == [A, "unreadable"], listing.stdout
    note = rows[rows.index(row) + 1]  # under its row: the file and why
    assert str(copy / A / rundir.STATUS) in note and "unreadable (Expecting property name" in note, listing.stdout
    assert any(line.startswith(B) and "finished" in line for line in rows), listing.stdout


def test_a_lookup_under_an_explicit_root_never_answers_with_a_run_elsewhere(copied, tmp_path):
    """wait, stop and resume by a part of the id under `--root c` find c/A and refuse it in one
    line naming its status.json: never the registered original A in checkpoints/demo."""
    original, copy = copied
    part = A.split("-")[1]
    damaged = str(copy.resolve() / A / rundir.STATUS)
    for verb in (["wait", part], ["stop", part], ["train", "--resume", part, "--detach"]):
        line = refused_in_one_line(_cli("--root", str(copy), *verb, cwd=tmp_path), damaged)
        assert str(original) not in line, line
    # the same by its folder, and the original is still there to be found from elsewhere
    refused_in_one_line(_cli("wait", str(copy / A), cwd=tmp_path), damaged)
    found = _cli("--root", str(tmp_path / "elsewhere"), "wait", part, cwd=tmp_path)
    assert (found.returncode, found.stdout.strip()) == (3, f"{A}: stopped"), found.stderr


def test_diagnose_says_how_many_metrics_lines_do_not_read(tmp_path):
    root = tmp_path / "checkpoints"
    run_dir = make_run(root, A, accs=())
    metrics = run_dir / rundir.METRICS
    metrics.write_text('{"epoch":1,"val_acc":"x"}\nnot json\n')
    line = refused_in_one_line(_cli("diagnose", A, cwd=tmp_path), str(metrics), "2 unreadable lines", "line 1")
    assert "val_acc" in line, line

    # readable epochs with a damaged line among them: the findings, and a warning naming it
    metrics.write_text(
        "".join(rundir.EpochRow(epoch=e, val_acc=0.3 + e / 100).to_line() + "\n" for e in (1, 2))
        + "not json\n"
        + rundir.EpochRow(epoch=3, val_acc=0.4).to_line()
        + "\n"
    )
    result = _cli("diagnose", A, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{A}: 3 epochs"), result.stdout
    (warning,) = result.stderr.strip().splitlines()
    assert warning.startswith("warning: ") and str(metrics) in warning and "1 unreadable line (line 3" in warning


def test_the_leaderboard_counts_a_run_whose_config_does_not_read(tmp_path):
    root = tmp_path / "checkpoints"
    make_run(root, A)
    make_run(root, B, accs=(0.4, 0.45))
    broken = make_run(root, "20260101-120000-demo", accs=(0.6,))
    (broken / rundir.CONFIG).write_text("x = = \n")
    table = _cli("runs", "--table", cwd=tmp_path)
    assert table.returncode == 0 and "Traceback" not in table.stderr, table.stderr
    caption = table.stdout.splitlines()[0]
    assert caption.startswith("1 setting from 2 runs"), caption
    assert "1 unreadable run left out" in caption and str(broken / rundir.CONFIG) in caption, caption
    # a run whose status.json does not read is counted the same way
    (root / A / rundir.STATUS).write_text("{bad\n")
    caption = _cli("runs", "--table", cwd=tmp_path).stdout.splitlines()[0]
    assert caption.startswith("1 setting from 1 run;") and "2 unreadable runs left out" in caption, caption
