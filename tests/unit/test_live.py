"""The pieces of issue 23 that need no trainer: steps.jsonl's reader, the run registry, the
columns `fer-tui runs` and the dashboard share, what a stop keeps, and the end notifications."""

from __future__ import annotations

import json
import os
import threading
import time

import numpy as np
import pytest

from fer_core import config, fileio
from fer_core.records import RunStatus, StepRow
from fer_core.runs import columns, registry, rundir
from fer_core.train.loop import Prefetcher, epoch_order, step_rng
from fer_tui.notify import EndWatch, desktop_enabled, desktop_sequence


def _row(x: float) -> str:
    return StepRow(x=x, epoch=int(x) + 1, step=1, loss=1.0, acc=0.5, lr=1e-3).to_line() + "\n"


class TestStepsTail:
    def test_whole_lines_only_and_a_replaced_file_is_read_again(self, tmp_path):
        path = tmp_path / rundir.STEPS
        tail = rundir.StepsTail(path)
        assert tail.poll() == []  # no file yet
        path.write_text(_row(0.1) + _row(0.2) + '{"x": 0.3, "epo')
        assert [r.x for r in tail.poll()] == [0.1, 0.2]
        with open(path, "a") as handle:
            handle.write('ch": 1, "step": 3}\nnot json\n')
        assert [r.x for r in tail.poll()] == [0.1, 0.2, 0.3]  # the damaged line is skipped
        fileio.write_text(path, _row(0.1) + _row(0.15) + _row(0.16) + _row(0.17))  # a resume rewrote it
        assert [r.x for r in tail.poll()] == [0.1, 0.15, 0.16, 0.17]


class TestRegistry:
    def make(self, root):
        run_dir = rundir.create_run(config.TrainConfig(epochs=2), "demo", root=root)
        assert registry.register(run_dir)  # as launching it or its trainer starting does
        return run_dir

    def test_a_run_is_listed_from_any_folder_and_a_deleted_one_drops_out(self, tmp_path):
        first, second = self.make(tmp_path / "a"), self.make(tmp_path / "b")
        listed = {run.path for run in registry.registered_runs()}
        assert listed == {first.resolve(), second.resolve()}
        assert {run.path for run in registry.all_runs(tmp_path / "a")} == listed  # each once
        for path in second.iterdir():
            path.unlink()
        second.rmdir()
        assert [run.path for run in registry.registered_runs()] == [first.resolve()]
        assert len(list(registry.entries_dir().iterdir())) == 1  # its entry was removed

    def test_a_damaged_registry_is_ignored_never_fatal(self, tmp_path):
        run_dir = self.make(tmp_path / "a")
        folder = registry.entries_dir()
        (folder / "0123.json").write_text("{not json")
        (folder / "0124.json").write_text(json.dumps({"path": "relative/path"}))
        (folder / "0125.json").write_text(json.dumps({"path": str(tmp_path)}))  # not a run directory
        assert [run.path for run in registry.registered_runs()] == [run_dir.resolve()]
        assert sorted(p.name for p in folder.iterdir()) == [registry._entry(run_dir.resolve()).name]

    def test_an_unwritable_state_folder_never_stops_a_run(self, tmp_path, monkeypatch):
        (tmp_path / "state-file").write_text("a file where the folder should be")
        monkeypatch.setenv("FER_TUI_STATE", str(tmp_path / "state-file"))
        run_dir = rundir.create_run(config.TrainConfig(epochs=2), "demo", root=tmp_path / "a")
        assert registry.register(run_dir) is False  # fails quietly
        assert rundir.read_status(run_dir) is not None
        assert registry.registered_runs() == []

    def test_never_written_through_a_symlink(self, tmp_path):
        run_dir = self.make(tmp_path / "a")
        entry = registry._entry(run_dir.resolve())
        entry.unlink()
        target = tmp_path / "victim.txt"
        target.write_text("keep me")
        os.symlink(target, entry)
        assert registry.register(run_dir) is False
        assert target.read_text() == "keep me"

    def test_a_registered_run_whose_status_breaks_stays_listed_as_unreadable(self, tmp_path):
        run_dir = self.make(tmp_path / "a")
        (run_dir / rundir.STATUS).write_text("{bad")
        (listed,) = registry.registered_runs()
        assert (listed.path, listed.state) == (run_dir.resolve(), "unreadable")
        assert str(run_dir.resolve() / rundir.STATUS) in listed.problem
        (run_dir / rundir.STATUS).unlink()  # no status.json at all: no longer a run, dropped
        assert registry.registered_runs() == [] and list(registry.entries_dir().iterdir()) == []

    def test_two_writers_at_once_lose_no_entry(self, tmp_path):
        runs = [tmp_path / f"r{i}" for i in range(16)]
        for path in runs:
            path.mkdir()
            rundir.write_status(path, RunStatus(run_id=path.name, state="finished"))
        threads = [threading.Thread(target=lambda p=p: registry.register(p)) for p in runs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert {run.path for run in registry.registered_runs()} == {p.resolve() for p in runs}


class TestColumns:
    def test_step_and_eta_for_a_live_run_only(self):
        status = RunStatus(state="running", epoch=2, step=120, steps=448, eta_seconds=3725)
        assert columns.step_text(status) == "120/448" and columns.eta_text(status) == "1h02m"
        assert columns.step_text(status, "lost") == "-" and columns.eta_text(status, "lost") == "-"
        assert columns.step_text(RunStatus(state="running")) == "-"

    def test_the_epoch_column_names_the_epoch_a_run_is_in_and_never_steps_back(self):
        """status.json counts finished epochs: a run that has not ended is in the next one while
        it trains, validates or starts it, and a stopped, failed or lost run resumes in it."""
        run = RunStatus(state="running", epochs=2, steps=32)
        trained = [(0, 0), (0, 13), (0, 32), (1, 0), (1, 13), (1, 32)]  # as the trainer writes them
        shown = [columns.epoch_text(run.evolve(epoch=e, step=s)) for e, s in trained]
        assert shown == ["1/2", "1/2", "1/2", "2/2", "2/2", "2/2"]
        for state in ("stopped", "failed", "lost"):  # "resumes at epoch 2 after step 25"
            assert columns.epoch_text(run.evolve(epoch=1, step=25), state) == "2/2"
        assert columns.epoch_text(run.evolve(state="finished", epoch=2, step=0)) == "2/2"
        assert columns.epoch_text(RunStatus(state="running", epoch=4, step=3, steps=9)) == "5/?"

    def test_what_a_stop_keeps(self):
        status = RunStatus(state="running", epoch=2, step=120, steps=448)
        assert "now step 120 of epoch 3" in columns.stop_keeps(status)
        validating = status.evolve(step=448)  # between epochs
        assert "the start of epoch 4" in columns.stop_keeps(validating)
        assert "last_state.ckpt" in columns.stop_keeps(None)

    def test_a_stop_resumes_where_the_status_says_at_every_epoch_boundary(self):
        """(epoch, step) as the trainer writes them around the end of epoch 1 of 2 (32 steps):
        the stop message names where the run resumes, never an epoch it does not have."""
        run = RunStatus(state="running", epochs=2, steps=32)
        cases = {
            (0, 13): (1, 13),  # inside epoch 1
            (0, 32): (2, 0),  # epoch 1's last step done: validating it
            (1, 0): (2, 0),  # epoch 1 ended (what the trainer writes then)
            (1, 1): (2, 1),  # epoch 2's first step
            (1, 31): (2, 31),
            (1, 32): None,  # the last epoch's last step: it finishes, nothing to resume
            (2, 0): None,  # every epoch ended: finishing
        }
        for (epoch, step), expected in cases.items():
            status = run.evolve(epoch=epoch, step=step)
            assert columns.resume_point(status) == expected, (epoch, step)
            said = columns.stop_keeps(status)
            if expected is None:
                assert "finishes rather than stops" in said and "epoch" in said and "epoch 3" not in said, said
            else:
                where = (
                    f"step {expected[1]} of epoch {expected[0]}" if expected[1] else f"the start of epoch {expected[0]}"
                )
                assert f"(now {where})" in said, (epoch, step, said)
        # epochs unknown (a status from before it was written): never capped
        assert columns.resume_point(RunStatus(epoch=5, step=32, steps=32)) == (7, 0)

    def test_the_status_a_trainer_writes_at_epoch_boundaries_says_where_a_stop_resumes(self, tmp_path):
        """A Reporter's real status.json around an epoch's end, read back as the stop dialog and
        `fer-tui stop` read it (the trainer once wrote step=steps at an epoch's end, which read
        as validating the next epoch: "the start of epoch 3" for a run of 2 epochs)."""
        from fer_core.records import EpochRow, TrainProgress
        from fer_core.train.reporter import Reporter

        rundir.write_status(tmp_path, RunStatus(run_id="r", state="starting", epochs=2))
        report, progress, started = Reporter(tmp_path, 2), TrainProgress(patience_left=3), time.time()
        report.running(progress, 4)
        for step in range(1, 5):
            report.step(1, step, 4, 16 * step, started)
        assert "(now the start of epoch 2)" in columns.stop_keeps(rundir.read_status(tmp_path))  # validating
        row = dict(train_loss=1.0, train_acc=0.5, val_loss=1.0, val_acc=0.5, lr=1e-3, seconds=1.0, images_per_second=64)
        progress.end_epoch(EpochRow(epoch=1, **row), patience=3)
        report.epoch_end(progress.history[-1], progress)
        status = rundir.read_status(tmp_path)
        assert (status.epoch, status.step) == (1, 0)
        assert "(now the start of epoch 2)" in columns.stop_keeps(status), columns.stop_keeps(status)
        report.step(2, 1, 4, 16, time.time())
        for step in range(2, 5):
            report.step(2, step, 4, 16 * step, started)
        assert "finishes rather than stops" in columns.stop_keeps(rundir.read_status(tmp_path))


class TestResumeStreams:
    def test_a_prefetcher_started_mid_epoch_makes_the_batches_of_a_full_pass(self):
        order = epoch_order(7, 3, 40)
        assert sorted(order.tolist()) == list(range(40)) and order.tolist() == epoch_order(7, 3, 40).tolist()
        assert order.tolist() != epoch_order(7, 4, 40).tolist()

        def make(step):
            return order[step * 4 : (step + 1) * 4], step_rng(7, 3, step).random(3)

        full = list(Prefetcher(make, 10))
        resumed = list(Prefetcher(make, 10, start=6))
        assert len(resumed) == 4
        for (index_a, noise_a), (index_b, noise_b) in zip(full[6:], resumed):
            assert index_a.tolist() == index_b.tolist() and np.array_equal(noise_a, noise_b)


class TestNotifications:
    def test_the_setting_switches_desktop_notifications_off(self):
        assert desktop_enabled({}) and desktop_enabled({"FER_TUI_NOTIFY": "1"})
        assert not any(desktop_enabled({"FER_TUI_NOTIFY": v}) for v in ("0", "off", "false", "No"))

    def test_a_run_name_cannot_inject_escape_sequences(self):
        sequence = desktop_sequence("fer-tui: run finished", "evil\x1b]52;c;aGk=\x07;name done")
        assert sequence.count("\x1b") == 2 and sequence.count("\x07") == 2  # only our two OSCs
        assert sequence.startswith("\x1b]9;fer-tui: run finished: evil")
        assert "\x1b]777;notify;fer-tui: run finished;evil" in sequence

    def test_a_run_seen_live_is_told_once_when_it_ends(self, tmp_path):
        run_dir = tmp_path / "r"
        run_dir.mkdir()
        rundir.write_status(run_dir, RunStatus(run_id="r", state="running", pid=os.getpid(), best_val_acc=0.5))
        watch = EndWatch()
        watch.track([run_dir])
        assert watch.check() == []
        rundir.update_status(run_dir, state="failed", message="RuntimeError: boom")
        (ended,) = watch.check()
        assert (ended.state, ended.severity) == ("failed", "error")
        assert "r failed: RuntimeError: boom; best val acc 50.00%" == ended.text()
        assert watch.check() == []


def test_a_run_id_resolves_from_another_folder(tmp_path, monkeypatch):
    run_dir = rundir.create_run(config.TrainConfig(epochs=2), "demo", root=tmp_path / "project")
    registry.register(run_dir)
    monkeypatch.setenv("FER_TUI_CHECKPOINTS", str(tmp_path / "elsewhere"))
    assert registry.resolve_run(run_dir.name) == run_dir.resolve()
    short = run_dir.name.split("-")[1]  # a unique part of the id, as `stop 205208`
    assert registry.resolve_run(short) == run_dir.resolve()


def test_a_lookup_that_is_ambiguous_under_the_root_never_falls_back_on_the_registry(tmp_path, monkeypatch):
    """Two runs under the root match: refused, not answered with the one registered run of
    another folder that matches too."""
    from fer_core.errors import RunError

    elsewhere = rundir.create_run(config.TrainConfig(epochs=2), "demo", root=tmp_path / "project")
    registry.register(elsewhere)
    root = tmp_path / "here"
    for name in ("20260101-100000-demo", "20260101-110000-demo"):
        (root / name).mkdir(parents=True)
        rundir.write_status(root / name, RunStatus(run_id=name, state="stopped"))
    monkeypatch.setenv("FER_TUI_CHECKPOINTS", str(root))
    with pytest.raises(RunError, match="demo: 2 runs match"):
        registry.resolve_run("demo")
    assert registry.resolve_run("100000") == root / "20260101-100000-demo"
    assert registry.resolve_run(elsewhere.name.split("-")[1]) == elsewhere.resolve()  # none here: the registry's


def test_resume_and_diagnose_find_a_run_started_from_another_folder(tmp_path, monkeypatch, capsys):
    from fer_core.cli import main as cli

    run_dir = rundir.create_run(config.TrainConfig(epochs=2), "demo", root=tmp_path / "project")
    rundir.update_status(run_dir, state="finished")
    registry.register(run_dir)
    monkeypatch.setenv("FER_TUI_CHECKPOINTS", str(tmp_path / "elsewhere"))
    short = run_dir.name.split("-")[1]
    assert cli.main(["train", "--resume", short]) == 2
    assert (
        capsys.readouterr().err.strip()
        == f"fer-tui train: error: {run_dir}: the run already finished; nothing to resume"
    )
    cli.main(["diagnose", short])
    assert run_dir.name in capsys.readouterr().out
