"""`fer-tui runs`, `queue` and `checkpoints` at 80 columns (an SSH terminal): no row wraps, and
every row still says which run it is, its state and how good it is. Piped, rows stay whole."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from fer_core import fileio
from fer_core.ckpt import listing
from fer_core.cli.commands import checkpoints, queue
from fer_core.cli.commands.runs import listing as runs_listing
from fer_core.queue.entries import Queue
from fer_core.runs.rundir import find_runs
from fer_core.table import Column, common_date, fit, shorten
from tests.helpers import NOW, make_run

SHIPPED = Path(__file__).resolve().parents[2] / "checkpoints" / "shipped" / "demo-tiny_cnn" / "best_model.ckpt"
NAMES = {  # run id: (state, preset, best accuracy)
    "20261128-001946-fer_vgg-cpu-best": ("finished", "fer_vgg-cpu-best", 0.6812),
    "20261128-093011-resnet18_attn-gpu-3": ("failed", "resnet18_attn-gpu", 0.2071),
    "20261128-120000-demo": ("stopped", "demo", 0.5),
}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    for run_id, (state, preset, best) in NAMES.items():
        run_dir = make_run(tmp_path / "checkpoints", run_id, state=state, preset=preset, accs=(0.1, best))
        if state == "failed":
            status = json.loads((run_dir / "status.json").read_text())
            fileio.write_json(run_dir / "status.json", {**status, "message": "out of memory " * 12})
    return tmp_path / "checkpoints"


def assert_fits(lines: list[str], width: int = 80) -> None:
    too_long = [line for line in lines if len(line) > width]
    assert not too_long, too_long


def test_runs_fit_80_columns_and_name_every_run(root):
    lines = runs_listing(find_runs(root), NOW, 80)
    assert_fits(lines)
    header = lines[0].split()
    assert header[:2] == ["run", "(2026-11-28)"] and {"state", "best"} <= set(header)
    for run_id, (state, _, best) in NAMES.items():
        row = next(line for line in lines if line.startswith(run_id.removeprefix("20261128-")[:8]))
        assert f" {state} " in row and f"{100 * best:.2f}%" in row, row
    assert any(line.startswith("  └ out of memory") for line in lines)  # the failure's reason, wrapped


def test_runs_piped_keep_whole_rows(root):
    lines = runs_listing(find_runs(root), NOW, None)
    assert lines[0].split()[:3] == ["run", "preset", "state"]
    assert {line.split()[0] for line in lines[1:] if not line.startswith(" ")} == set(NAMES)
    assert max(map(len, lines)) > 80  # nothing shortened


def test_queue_fits_80_columns_and_names_every_run(root, capsys):
    q = Queue(root / ".queue")
    runs = sorted(root.glob("2026*"))
    label = "lr 0.003→0.001, weight_decay 0.0005→0.001, mixup_alpha 0→0.2"
    entries = q.add([{"preset": "fer_vgg-cpu-best", "config": {}, "label": label} for _ in runs])
    for entry, run_dir in zip(entries, runs):
        q.update(entry.id, state="finished", run_dir=str(run_dir))
    q.add([{"preset": "demo", "config": {}, "label": "as the preset"}])
    assert queue.show(q, width=80) == 0
    lines = capsys.readouterr().out.splitlines()
    assert_fits(lines)
    header = lines[1].split()
    assert header[:2] == ["id", "state"] and "run" in header and header[-2:] == ["best", "val"]
    for run_dir in runs:
        row = next(line for line in lines if run_dir.name[9:15] in line)
        assert " finished " in row and row.endswith(f"{100 * NAMES[run_dir.name][2]:.2f}%"), row  # as `runs` says


def test_checkpoints_fit_80_columns_and_repeat_a_long_verdict_whole(root, capsys):
    for run_id in NAMES:
        shutil.copy(SHIPPED, root / run_id / "best_model.ckpt")
    shutil.copy(SHIPPED.with_suffix(".json"), root / "20261128-120000-demo" / "best_model.json")
    (root / next(iter(NAMES)) / "not_a_model.ckpt").write_bytes(b"\x09" * 2000)
    rows = [info.to_row() for info in listing.scan(root)]
    checkpoints.print_table(rows, width=80)
    lines = capsys.readouterr().out.splitlines()
    assert_fits(lines)
    assert {"run", "file", "val", "acc", "verdict"} <= set(lines[0].split())
    broken = next(row for row in rows if row.file == "not_a_model.ckpt")
    assert len(str(broken.verdict)) > 40 and any(str(broken.verdict) in line for line in lines)
    for run_id in NAMES:
        assert any(line.startswith(run_id[9:15]) and "best_model.ckpt" in line for line in lines)
    assert any(line.startswith("120000-demo") and " 98.10% " in line for line in lines)  # a percentage, as `runs`


def test_checkpoint_rows_of_several_days_and_the_shipped_models_stay_apart_at_80(root, capsys):
    """Two runs of one day beside the shipped models: the date still moves to the header. Runs
    of two days: each id loses its date, never its time of day, so no two rows read alike."""
    for run_id in NAMES:
        shutil.copy(SHIPPED, root / run_id / "best_model.ckpt")
    (root / next(iter(NAMES)) / "not_a_model.ckpt").write_bytes(b"\x09" * 2000)  # a long verdict
    rows = [info.to_row() for info in listing.scan(root)] + [info.to_row() for info in listing.scan(SHIPPED.parents[1])]
    checkpoints.print_table(rows, width=80)
    lines = capsys.readouterr().out.splitlines()
    assert_fits(lines)
    assert lines[0].split()[:2] == ["run", "(2026-11-28)"]
    assert any(line.startswith("demo-tiny_cnn ") for line in lines)
    other_day = root / "20261201-093011-resnet18_attn-gpu-3"
    (root / "20261128-093011-resnet18_attn-gpu-3").rename(other_day)
    rows = [info.to_row() for info in listing.scan(root)] + [info.to_row() for info in listing.scan(SHIPPED.parents[1])]
    checkpoints.print_table(rows, width=80)
    lines = capsys.readouterr().out.splitlines()
    assert_fits(lines)
    assert lines[0].split()[0] == "run" and "(2026" not in lines[0]
    for run_id in [*NAMES, other_day.name]:
        if run_id in NAMES and "093011" in run_id:
            continue
        assert any(line.startswith(run_id[9:15]) for line in lines), (run_id, lines)


def test_a_run_id_cut_keeps_its_time_of_day():
    assert shorten("20261207-110843-cpu-basic", 14, "run") == "110843-…-basic"
    assert shorten("fer_vgg-cpu-best-long-name", 14, "run") == shorten("fer_vgg-cpu-best-long-name", 14, "middle")
    assert common_date(["20261128-001946-demo", "fer_vgg-cpu-best"]) == "20261128"
    assert common_date(["20261128-001946-demo", "20261201-001946-demo"]) == ""


def test_fit_shortens_before_it_leaves_out_and_never_leaves_out_a_kept_column():
    columns = [Column("name", keep=True, min_width=6, cut="middle"), Column("note", drop=1), Column("n", right=True)]
    rows = [["abcdefghijkl", "x" * 10, "7"]]
    assert (
        fit(columns, rows, None) == fit(columns, rows, 25) == ["name         note       n", "abcdefghijkl xxxxxxxxxx 7"]
    )
    assert fit(columns, rows, 20) == ["name    note       n", "abc…jkl xxxxxxxxxx 7"]
    assert fit(columns, rows, 10) == ["name     n", "abcd…jkl 7"]
    assert fit(columns, [["abcdefghijkl", "-", "7"]], 15) == ["name         n", "abcdefghijkl 7"]  # blank first


def test_runs_in_an_80_column_terminal_fit_it(root, tmp_path):
    """The real command on a pseudo-terminal (as over SSH): stdout is a terminal, so rows fit."""
    import os
    import sys

    from tests.reliability.ptys import PtySession

    env = {**os.environ, "COLUMNS": "80", "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    session = PtySession([sys.executable, "-m", "fer_core.cli", "runs", str(root)], env, str(tmp_path))
    status = session.wait(120)
    if status is None:  # still running: ours to end
        session.kill()
    session.close()
    assert status == 0, session.text
    lines = [line for line in session.text.replace("\r", "").splitlines() if line]
    assert lines[0].startswith("run (2026-11-28)") and len(lines) >= 4, lines
    assert_fits(lines)
