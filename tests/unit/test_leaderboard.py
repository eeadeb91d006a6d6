"""The leaderboard from fixed run folders: grouping by setting, mean ± std over seeds, the
columns that set rows apart, the base row, and the three renderings."""

from __future__ import annotations

import csv
import io
import statistics
from pathlib import Path

import pytest

from fer_core.cli import main as cli
from fer_core.runs import leaderboard, rundir
from tests.helpers import make_run

ABLATION = Path(__file__).resolve().parents[2] / "bench" / "runs" / "ablation"


@pytest.fixture
def sweep(tmp_path) -> Path:
    """lr 1e-3 and 3e-3 with seeds 1 and 2, one lr 1e-2 run, and one run that has no epoch yet
    (each saving its state at another interval, which says nothing of the setting)."""
    folder = tmp_path / "sweep"
    folder.mkdir()
    (folder / "sweep.toml").write_text('base = "demo"\n')
    runs = [(1e-3, 1, (0.40, 0.50)), (1e-3, 2, (0.45, 0.54)), (3e-3, 1, (0.5, 0.60)), (3e-3, 2, (0.55, 0.62))]
    runs.append((1e-2, 1, (0.2, 0.3)))
    for n, (lr, seed, accs) in enumerate(runs):
        make_run(
            folder,
            f"run-{n}",
            accs=accs,
            config={"lr": lr, "seed": seed, "save_dir": f"elsewhere-{n}", "state_every_minutes": 1 + n},
        )
    make_run(folder, "run-empty", state="failed", accs=(), config={"lr": 5e-3})
    return folder


def test_rows_group_seeds_and_rank_by_mean(sweep):
    board = leaderboard.build(rundir.find_runs(sweep))
    assert [row.setting["lr"] for row in board.rows] == [3e-3, 1e-3, 1e-2]
    top = board.rows[0]
    assert top.seeds == [1, 2] and top.mean("best_val_acc") == pytest.approx(0.61)
    assert top.std("best_val_acc") == pytest.approx(statistics.stdev([0.60, 0.62]))
    assert board.rows[2].std("best_val_acc") is None, "one seed: no spread to show"
    assert [f.path.name for f in board.left_out] == ["run-empty"]
    assert board.base_name == "demo" and board.columns == ["lr"]
    assert "epochs" in board.common and board.common["epochs"][1] == 8
    assert board.base_row is board.rows[0], "lr 3e-3 is the demo preset's own"
    assert board.delta(board.rows[1]) == pytest.approx(-9.0)


def test_renderings_agree(sweep):
    board = leaderboard.build(rundir.find_runs(sweep))
    text = leaderboard.render_text(board).splitlines()
    assert text[1].split()[:4] == ["lr", "val", "acc", "%"] and "61.00 ± 1.41" in text[2]
    markdown = leaderboard.render_markdown(board).splitlines()
    assert markdown[2].startswith("| lr | val acc % | runs") and markdown[4].startswith("| 0.003 | 61.00 ± 1.41 | 2 |")
    rows = list(csv.DictReader(io.StringIO(leaderboard.render_csv(board))))
    assert [r["lr"] for r in rows] == ["0.003", "0.001", "0.01"]
    assert float(rows[0]["val_acc_mean"]) == pytest.approx(0.61) and rows[0]["seeds"] == "1 2"
    assert rows[2]["val_acc_std"] == "" and float(rows[1]["vs_base_points"]) == pytest.approx(-9.0)


def test_a_preset_that_no_longer_exists_leaves_no_base_column(tmp_path):
    for n, lr in enumerate((1e-3, 2e-3)):
        make_run(tmp_path, f"r{n}", preset="gone", config={"lr": lr})
    board = leaderboard.build(rundir.find_runs(tmp_path))
    assert board.base_name is None and board.base_row is None and board.columns == ["lr"]
    assert "vs base" not in leaderboard.headers(board)


def test_runs_table_verb(sweep, capsys):
    assert cli.main(["runs", "--table", "--markdown", str(sweep)]) == 0
    out = capsys.readouterr().out
    assert "| 0.01 | 30.00 | 1 |" in out and "1 run(s) without a val accuracy left out" in out
    assert cli.main(["runs", "--table", str(sweep / "run-0")]) == 0, "one run folder is a table of one"
    assert "1 setting from 1 run" in capsys.readouterr().out


def test_the_ablation_records_regenerate_the_readme_table():
    board = leaderboard.build(rundir.find_runs(ABLATION))
    assert board.base_name == "cpu-fast" and len(board.rows) == 7
    assert board.base_row is not None and board.base_row.mean("best_val_acc") == pytest.approx(0.6244, abs=1e-4)
    assert board.rows[-1].setting["arch"] == "fer_cnn"
    assert board.delta(board.rows[-1]) == pytest.approx(-6.46, abs=0.01)


def test_a_table_of_one_setting_names_it(tmp_path, capsys):
    """Base runs only (seeds of the preset itself): no field sets rows apart, yet the row says what it is."""
    for seed in (1, 2):
        make_run(tmp_path, f"r{seed}", preset="demo", config={"lr": 3e-3, "seed": seed})
    board = leaderboard.build(rundir.find_runs(tmp_path))
    assert len(board.rows) == 1 and board.columns == ["preset"]
    assert cli.main(["runs", "--table", str(tmp_path)]) == 0
    header, row = capsys.readouterr().out.splitlines()[1:3]
    assert header.split()[0] == "preset" and row.split()[0] == "demo" and row.split()[-1] == "base"
    assert list(csv.DictReader(io.StringIO(leaderboard.render_csv(board))))[0]["preset"] == "demo"
    assert leaderboard.render_markdown(board).splitlines()[4].startswith("| demo | ")
