"""The typed run records read every run directory there is: the shipped ones, the ones the
tests make, and older or stranger files; the reporter writes what they read."""

import json
import os
from pathlib import Path
from typing import get_args

import pytest

from fer_core import config, locations
from fer_core.errors import RunError
from fer_core.records import EpochRow, RunStatus, State, TrainProgress
from fer_core.runs import rundir
from fer_core.train.reporter import Reporter
from tests.helpers import make_run


def assert_reads_exactly(run_dir: Path) -> None:
    """status.json and every metrics line read into the models and dump back to the same JSON:
    no key unknown to the models (a misspelt field would be dropped), none lost."""
    on_disk = json.loads((run_dir / rundir.STATUS).read_text())
    assert rundir.read_status(run_dir).model_dump() == on_disk
    lines = (run_dir / rundir.METRICS).read_text().splitlines()
    assert lines, run_dir
    for line in lines:
        assert EpochRow.from_line(line).model_dump() == json.loads(line)
    assert [row.epoch for row in rundir.read_metrics(run_dir)] == list(range(1, len(lines) + 1))


def test_shipped_run_directories_read_exactly(monkeypatch):
    monkeypatch.delenv("FER_TUI_SHIPPED")  # the autouse fixture points it at an empty folder
    shipped = sorted(p.parent for p in locations.shipped_dir().glob(f"*/{rundir.STATUS}"))
    assert len(shipped) >= 2, locations.shipped_dir()
    for run_dir in shipped:
        assert_reads_exactly(run_dir)
        status, rows = rundir.read_status(run_dir), rundir.read_metrics(run_dir)
        assert status.state == "finished" and status.best_val_acc == max(r.val_acc for r in rows)
        # json.dumps in the models' field order: a line the trainer writes today is the same bytes
        for line in (run_dir / rundir.METRICS).read_text().splitlines():
            assert EpochRow.from_line(line).to_line() == line


def test_the_run_directories_the_tests_make_read_exactly(tmp_path):
    for n, state in enumerate(("finished", "running", "failed")):
        assert_reads_exactly(make_run(tmp_path, f"20250101-00000{n}-{state}", state=state, pid=os.getpid()))
    made = rundir.create_run(config.TrainConfig(epochs=4), "demo", root=tmp_path)
    assert json.loads((made / rundir.STATUS).read_text()) == rundir.read_status(made).model_dump()
    assert rundir.read_status(made).epochs == 4 and rundir.read_metrics(made) == []


def test_an_old_status_reads_with_defaults_and_extra_keys_are_ignored(tmp_path):
    # the first trainers wrote neither eta_seconds nor patience_left; a newer one may add keys
    (tmp_path / rundir.STATUS).write_text(
        json.dumps(
            {
                "run_id": "r",
                "preset": "demo",
                "state": "finished",
                "pid": 7,
                "started": 1.0,
                "epoch": 3,
                "epochs": 3,
                "step": 9,
                "steps": 9,
                "images_per_second": 10.0,
                "best_val_acc": 0.5,
                "best_epoch": 2,
                "message": "",
                "updated": 2.0,
                "gpu_memory": "4 GB",
            }
        )
    )
    status = rundir.read_status(tmp_path)
    assert (status.patience_left, status.eta_seconds, status.best_epoch) == (None, None, 2)
    assert "gpu_memory" not in status.model_dump()
    assert [r.state for r in rundir.find_runs(tmp_path)] == ["finished"]


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", '{"state": "exploded"}', '{"pid": "twelve"}', ""])
def test_a_status_that_is_not_one_reads_as_none_and_is_listed_as_unreadable(tmp_path, text):
    (tmp_path / rundir.STATUS).write_text(text)
    assert rundir.read_status(tmp_path) is None
    with pytest.raises(RunError) as refused:
        rundir.load_status(tmp_path)
    assert str(refused.value).startswith(f"{tmp_path / rundir.STATUS}: ") and "\n" not in str(refused.value)
    # listed, never passed over: a lookup that skipped it once answered with another run
    (found,) = rundir.find_runs(tmp_path)
    assert (found.path, found.state, found.problem) == (tmp_path, "unreadable", str(refused.value))


def test_an_old_metrics_line_reads_with_defaults_and_nan_survives():
    row = EpochRow.from_line('{"epoch": 2, "val_acc": 0.5, "train_loss": NaN, "note": "x"}')
    assert (row.epoch, row.val_acc, row.is_best, row.patience_left) == (2, 0.5, False, None)
    assert row.train_loss != row.train_loss  # NaN, as a diverged run writes it
    assert '"train_loss": NaN' in row.to_line()
    with pytest.raises(ValueError):
        EpochRow.from_line('{"val_acc": 0.5}')  # no epoch: not a row


def test_evolve_validates_and_refuses_unknown_fields():
    status = RunStatus(state="running")
    assert status.evolve(epoch=3).epoch == 3 and status.epoch == 0  # a copy
    with pytest.raises(TypeError, match="no field stat"):
        status.evolve(stat="failed")
    with pytest.raises(ValueError):
        status.evolve(state="exploded")


def test_one_literal_holds_every_state_a_person_sees():
    assert set(get_args(State)) == set(rundir.LIVE_STATES) | set(rundir.END_STATES) | set(rundir.JUDGED_STATES)
    assert rundir.effective_state(None) == "unknown"
    assert rundir.effective_state(RunStatus(state="running", pid=None, updated=0.0)) == "lost"
    from fer_tui.format import STATE_STYLES

    assert set(STATE_STYLES) == set(get_args(State))  # the dashboard colours every one


def test_progress_judges_best_and_patience_and_reads_an_old_last_state():
    progress = TrainProgress(patience_left=2)
    marks = [
        progress.end_epoch(EpochRow(epoch=e, val_acc=acc), patience=2) for e, acc in enumerate((0.3, 0.5, 0.4, 0.5), 1)
    ]
    assert [(r.is_best, r.patience_left) for r in marks] == [(True, 2), (True, 2), (False, 1), (False, 0)]
    assert (progress.epoch, progress.best_val_acc, progress.best_epoch) == (4, 0.5, 2)
    # last_state.ckpt's meta as trainers before the typed records wrote it
    meta = {
        "epoch": 1,
        "best_val_acc": 0.3,
        "best_epoch": 1,
        "patience_left": 2,
        "rng_state": {"bit_generator": "PCG64", "state": {"state": 2**100, "inc": 3}},
        "history": [marks[0].model_dump()],
    }
    again = TrainProgress.model_validate(json.loads(json.dumps(meta)))
    dumped = again.model_dump()
    assert {name: dumped[name] for name in meta} == meta and again.history == marks[:1]
    # a file from before mid-epoch resume: at an epoch's end, its data seed the config's
    assert (again.step, again.data_seed, again.where()) == (0, None, "epoch 2")


def test_the_reporter_writes_what_the_readers_read(tmp_path, capsys):
    run_dir = rundir.create_run(config.TrainConfig(epochs=3, patience=2), "demo", root=tmp_path)
    report = Reporter(run_dir, epochs=3)
    progress = TrainProgress(patience_left=2)
    report.running(progress, steps=10)
    assert rundir.read_status(run_dir).best_val_acc is None  # nothing judged yet
    report.step(epoch=1, step=4, steps=10, seen=40, started=0.0)  # within the heartbeat: not written
    assert rundir.read_status(run_dir).step == 0
    report.last_heartbeat = 0.0
    report.step(epoch=1, step=4, steps=10, seen=40, started=0.0)
    assert rundir.read_status(run_dir).step == 4
    row = progress.end_epoch(
        EpochRow(
            epoch=1,
            train_loss=1.5,
            train_acc=0.2,
            val_loss=1.6,
            val_acc=0.3,
            lr=1e-3,
            seconds=2.0,
            images_per_second=50.0,
        ),
        patience=2,
    )
    report.epoch_end(row, progress)
    report.finished("finished", progress)
    status = rundir.read_status(run_dir)
    assert (status.state, status.epoch, status.step, status.best_val_acc, status.best_epoch) == (
        "finished",
        1,
        0,  # no step of a next epoch: `step=steps` says the epoch's steps are done, validating
        0.3,
        1,
    )
    assert rundir.read_metrics(run_dir) == [row]
    assert_reads_exactly(run_dir)
    out = capsys.readouterr().out
    assert "Validation Accuracy: 0.3000" in out and "New best accuracy: 0.3000 at epoch 1" in out
    report.resumed(None)  # a resume without last_state.ckpt starts over: no metrics
    assert rundir.read_metrics(run_dir) == []
    report.resumed(progress)
    assert rundir.read_metrics(run_dir) == [row]
