"""Checkpoints screen: the verdict table, test inference on the sample folder, compare, errors.

The inference tests use a REAL tiny checkpoint (one epoch of tiny_cnn on the synthetic demo
set, trained once per session in a subprocess) and the real job
(`python -m fer_core.job infer`); the snapshot and the error paths use a fake job with
fixed outputs (tests/functional/fake_job.py).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from rich.text import Text

from fer_core import CLASS_NAMES, locations
from fer_core.config import make_config
from fer_core.runs import rundir
from fer_tui.app import FerApp
from fer_tui.screens.checkpoints import CheckpointsScreen
from fer_tui.screens.confirm import ConfirmScreen
from fer_tui.screens.help import HelpScreen
from fer_tui.widgets.ckpt_table import CkptTable
from fer_tui.widgets.face_image import FacePanel
from fer_tui.widgets.inference_table import InferenceTable

from .checkpoints_pilot import FIXED_RUN, fixed_ckpts, on_checkpoints, open_checkpoints, select
from .conftest import NOW, SIZE, screen_text, wait_for, wait_for_screen, write_faces

INFER_TIMEOUT = 60  # a real worker imports MindSpore (a few seconds; more on a busy machine)

# one worker runs this module: its autouse fixture starts training the real checkpoint, which
# every worker that ran one of its tests would otherwise do again
pytestmark = pytest.mark.xdist_group("real-tiny-checkpoint")


@dataclass
class Trained:
    run_dir: Path
    samples: Path


@pytest.fixture(scope="session")
def training(tmp_path_factory):
    """Start training the real tiny checkpoint (1 epoch of tiny_cnn on the demo set) at once."""
    base = tmp_path_factory.mktemp("trained")
    env = {
        **os.environ,
        "FER_TUI_CHECKPOINTS": str(base / "checkpoints"),
        "FER_TUI_CACHE": str(base / "cache"),
        "GLOG_v": "3",
    }
    config = make_config({"data_csv": "demo", "arch": "tiny_cnn", "epochs": 1, "batch_size": 64, "augment": False})
    run_dir = rundir.create_run(config, "t", root=base / "checkpoints")
    process = subprocess.Popen(
        [sys.executable, "-m", "fer_core.train", str(run_dir)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    yield base, run_dir, process
    if process.poll() is None:
        process.kill()
        process.wait()


@pytest.fixture(scope="module", autouse=True)
def start_training_early(training):
    """The tests that need no real checkpoint run first, while it trains (~15 s)."""


@pytest.fixture(scope="session")
def trained(training) -> Trained:
    """The real tiny checkpoint, trained, and a 7-face sample folder."""
    base, run_dir, process = training
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stderr[-2000:]
    assert (run_dir / "best_model.ckpt").is_file()
    samples = base / "samples"
    write_faces(samples)
    (samples / "happy" / "notes.txt").write_text("not a face")  # skipped and reported
    return Trained(run_dir, samples)


@pytest.fixture(autouse=True)
def halfcell_faces(monkeypatch):
    """Faces in coloured half blocks: the same picture on every terminal and in snapshots."""
    monkeypatch.setenv("FER_TUI_IMAGES", "halfcell")


@pytest.fixture
def ckpts(root, trained) -> Path:
    """The checkpoints root: a copy of the trained run and a truncated checkpoint beside it."""
    shutil.copytree(trained.run_dir, root / trained.run_dir.name)
    broken = root / "old-run" / "best_model.ckpt"
    broken.parent.mkdir()
    data = (trained.run_dir / "best_model.ckpt").read_bytes()
    broken.write_bytes(data[: len(data) // 2])  # no sidecar: the record headers tell
    return root


@pytest.fixture
def samples(trained) -> Path:
    """The default sample folder (FER_TUI_SAMPLES, set per test) filled with the faces."""
    folder = Path(os.environ["FER_TUI_SAMPLES"])
    shutil.copytree(trained.samples, folder)
    return folder


async def wait_until_done(pilot, screen, timeout: float = INFER_TIMEOUT) -> None:
    await pilot.pause(0.1)

    def finished():
        """the inference worker to finish"""
        return screen.job is not None and not screen.running

    await wait_for(pilot, finished, timeout=timeout)
    await pilot.pause()


def notes(app) -> list[str]:
    return [f"{n.title}: {n.message}" for n in app._notifications]


class TestWithoutMindSpore:
    """Fixed checkpoint files and the fake worker: these run while the real one trains."""

    def test_snapshot_after_an_inference(self, root, fixed_samples, fake_worker, snap_compare):
        best = fixed_ckpts(root)

        async def infer(pilot):
            screen = await open_checkpoints(pilot.app, pilot)
            await select(pilot, screen, best)
            await pilot.press("i")
            await wait_until_done(pilot, screen, timeout=10)

        app = FerApp(root=root, reattach=False, clock=lambda: NOW)
        assert snap_compare(app, terminal_size=SIZE, run_before=infer)

    async def test_a_samples_job_that_writes_no_face_is_said_in_lines(self, root, fake_worker, monkeypatch):
        """The job's summary is several lines: the toast keeps them as lines (it showed \\x0a)."""
        monkeypatch.setenv("FAKE_SAMPLES_EMPTY", "1")
        best = fixed_ckpts(root)
        title = "Could not make the sample folder"
        app = FerApp(root=root, reattach=False, clock=lambda: NOW)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_checkpoints(app, pilot)
            await select(pilot, screen, best)
            await pilot.press("m")
            await wait_for(pilot, lambda: any(n.title == title for n in app._notifications), timeout=30)
        (message,) = [n.message for n in app._notifications if n.title == title]
        assert message.splitlines() == ["samples of demo PublicTest", "written to nowhere", "(but no faces in it)"]

    async def test_m_with_only_the_shipped_faces_makes_the_users_folder(self, root, monkeypatch):
        """No sample folder of one's own: `m` writes the demo set where real faces would go,
        never into the shipped folder (it was refused there, naming a CLI flag)."""
        monkeypatch.delenv("FER_TUI_SAMPLES")
        best = fixed_ckpts(root)
        app = FerApp(root=root, reattach=False, clock=lambda: NOW)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_checkpoints(app, pilot)
            assert locations.in_shipped_data(screen.samples)
            await select(pilot, screen, best)
            await pilot.press("m")
            made = "Sample folder made"
            await wait_for(pilot, lambda: any(n.title == made for n in app._notifications), timeout=90)
            await wait_until_done(pilot, screen, timeout=60)  # then it tests the checkpoint on them
        assert screen.samples == locations.user_samples_dir() and screen.faces

    async def test_a_foreign_file_is_broken_and_a_short_one_a_warning(self, root):
        async with on_checkpoints(root, select_best=False) as (app, pilot, screen, best):
            table = screen.query_one(CkptTable)
            assert table.row_count == 5
            foreign = table.get_cell(str(root / "20251224-120000-cpu-basic" / "model.ckpt"), "verdict")
            assert "broken" in foreign.plain and any("red" in str(s.style) for s in foreign.spans)
            short = table.get_cell(str(root / "20251224-120000-cpu-basic" / "best_model.ckpt"), "verdict")
            assert "warning" in short.plain and any("yellow" in str(s.style) for s in short.spans)

    async def test_the_newest_run_comes_first_with_the_cursor_on_its_best_model(self, root):
        """As in Runs: `k` then `i` tests the model just trained, not the oldest run's."""
        async with on_checkpoints(root, select_best=False) as (app, pilot, screen, best):
            table = screen.query_one(CkptTable)
            rows = [Path(str(table.coordinate_to_cell_key((r, 0)).row_key.value)) for r in range(table.row_count)]
            assert [(p.parent.name, p.name) for p in rows] == [
                (FIXED_RUN, "best_model.ckpt"),
                (FIXED_RUN, "final_model.ckpt"),
                (FIXED_RUN, "last_state.ckpt"),
                ("20251224-120000-cpu-basic", "best_model.ckpt"),
                ("20251224-120000-cpu-basic", "model.ckpt"),
            ]
            assert table.current_key() == str(best)
            assert f"{FIXED_RUN}/best_model.ckpt" in screen_text(app)  # the detail line

    async def test_the_shipped_models_are_listed_whatever_the_root(self, root, monkeypatch):
        shipped = Path(__file__).resolve().parents[2] / "checkpoints" / "shipped"
        monkeypatch.setenv("FER_TUI_SHIPPED", str(shipped))
        async with on_checkpoints(root, select_best=False) as (app, pilot, screen, best):
            table = screen.query_one(CkptTable)
            listed = 5 + len(list(shipped.rglob("*.ckpt")))
            await wait_for(pilot, lambda: table.row_count == listed)
            cell = table.get_cell(str(shipped / "demo-tiny_cnn" / "best_model.ckpt"), "verdict")
            assert "ok" in cell.plain

    async def test_k_and_the_palette_and_help_reach_the_screen(self, root):
        app = FerApp(root=root, reattach=False, clock=lambda: NOW)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            titles = [c.title for c in app.get_system_commands(app.screen)]
            assert "Checkpoints" in titles
            await pilot.press("k")
            screen = await wait_for_screen(pilot, CheckpointsScreen)
            await pilot.pause(0.2)
            assert "no checkpoints under checkpoints" in screen_text(app)
            here = [c.title for c in app.get_system_commands(screen)]
            assert "Test inference" in here and "Compare two checkpoints" in here
            await pilot.press("question_mark")
            await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
            # opened at this screen's keys
            await wait_for(pilot, lambda: "test inference on the sample folder" in screen_text(app))

    async def test_a_missing_sample_folder_is_a_notification_not_a_traceback(self, root):
        async with on_checkpoints(root) as (app, pilot, screen, best):
            await pilot.press("i")
            await pilot.pause(0.2)
            assert isinstance(app.screen, CheckpointsScreen) and screen.job is None
            found = [n for n in app._notifications if n.title == "No sample folder"]
            assert found and found[0].severity == "warning"
            assert "fer-tui samples --csv demo --ckpt" in found[0].message
            assert "no faces in samples: m makes them" in screen_text(app)

    async def test_a_failing_worker_is_reported_and_escape_cancels_a_slow_one(self, root, fixed_samples, fake_worker):
        best = fixed_ckpts(root)
        fake_worker.setenv("FAKE_INFER_FAIL", "1")
        app = FerApp(root=root, reattach=False, clock=lambda: NOW)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_checkpoints(app, pilot)
            await select(pilot, screen, best)
            await pilot.press("i")
            await wait_until_done(pilot, screen, timeout=10)
            failed = [n for n in app._notifications if n.title.startswith("Inference failed")]
            assert failed and "not a MindSpore checkpoint (fake)" in failed[0].message
            assert "failed" in screen_text(app)

            fake_worker.delenv("FAKE_INFER_FAIL")
            fake_worker.setenv("FAKE_INFER_DELAY", "5")
            await pilot.press("i")
            await wait_for(pilot, lambda: screen.running)
            await pilot.press("escape")
            await wait_until_done(pilot, screen, timeout=5)
            assert "cancelled" in screen_text(app)


class TestWithARealCheckpoint:
    async def test_every_checkpoint_is_listed_and_a_truncated_one_is_broken_in_red(self, ckpts, trained):
        app = FerApp(root=ckpts, reattach=False, clock=lambda: NOW)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_checkpoints(app, pilot)
            table = screen.query_one(CkptTable)
            names = {(Path(k).parent.name, Path(k).name) for k in table.infos}
            run = trained.run_dir.name
            assert {
                (run, "best_model.ckpt"),
                (run, "final_model.ckpt"),
                (run, "last_state.ckpt"),
                ("old-run", "best_model.ckpt"),
            } <= names
            broken = str(ckpts / "old-run" / "best_model.ckpt")
            cell = table.get_cell(broken, "verdict")
            assert isinstance(cell, Text) and "broken" in cell.plain
            assert any("red" in str(span.style) for span in cell.spans)
            ok = table.get_cell(str(ckpts / run / "best_model.ckpt"), "verdict")
            assert "ok" in ok.plain and any("green" in str(s.style) for s in ok.spans)
            assert "state" in str(table.get_cell(str(ckpts / run / "last_state.ckpt"), "kind"))
            await select(pilot, screen, Path(broken))
            text = screen_text(app)
            assert "broken: truncated" in text  # the full verdict under the table

    async def test_inference_fills_the_per_image_table_and_shows_the_accuracy(self, ckpts, samples, trained):
        app = FerApp(root=ckpts, reattach=False, clock=lambda: NOW)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_checkpoints(app, pilot)
            best = ckpts / trained.run_dir.name / "best_model.ckpt"
            await select(pilot, screen, best)
            await pilot.press("i")
            await wait_until_done(pilot, screen)
            table = screen.query_one(InferenceTable)
            assert table.row_count == 7, notes(app)
            trues = sorted(str(table.get_row_at(r)[1]) for r in range(7))
            assert trues == sorted(CLASS_NAMES)
            for row in range(7):
                pred = table.get_row_at(row)[2]
                assert pred.plain[0] in "✓✗" and pred.plain[2:] in CLASS_NAMES
                assert str(table.get_row_at(row)[3]).endswith("%")
            tally = table.tallies[0]
            assert tally.seen == 7 and tally.labelled == 7
            text = screen_text(app)
            assert f"accuracy {100 * tally.correct / 7:.2f}% ({tally.correct}/7)" in text
            assert "100%" in text  # the progress bar
            assert "best_model.ckpt" in text and "on samples" in text
            assert screen.query_one(FacePanel).path is not None  # the face is drawn
            assert any("skipped" in n and "notes.txt" in n for n in notes(app))
            assert not any("failed" in n.lower() for n in notes(app))

    async def test_a_real_data_model_on_synthetic_faces_is_told_so(self, ckpts, monkeypatch):
        """The shipped fer_vgg model (trained on FER2013) on the shipped, synthetic sample folder."""
        repo = Path(__file__).resolve().parents[2]
        model = repo / "checkpoints" / "shipped" / "fer_vgg-cpu-best" / "best_model.ckpt"
        monkeypatch.setenv("FER_TUI_SHIPPED", str(model.parents[1]))
        monkeypatch.setenv("FER_TUI_SAMPLES", str(repo / "samples"))
        app = FerApp(root=ckpts, reattach=False, clock=lambda: NOW)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_checkpoints(app, pilot)
            table = screen.query_one(CkptTable)
            await wait_for(pilot, lambda: table.select(model) or None)
            table.focus()
            await pilot.press("i")
            await wait_until_done(pilot, screen)
            assert "ok: on synthetic faces" in screen_text(app), notes(app)

    async def test_compare_two_checkpoints_on_the_same_folder(self, ckpts, samples, trained):
        app = FerApp(root=ckpts, reattach=False, clock=lambda: NOW)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_checkpoints(app, pilot)
            run = ckpts / trained.run_dir.name
            await select(pilot, screen, run / "best_model.ckpt")
            await pilot.press("space")
            await select(pilot, screen, run / "final_model.ckpt")
            await pilot.press("space", "c")
            await wait_until_done(pilot, screen)
            table = screen.query_one(InferenceTable)
            assert [str(c.label) for c in table.columns.values()] == ["#", "true", "A pred", "A p", "B pred", "B p"]
            assert table.row_count == 7
            assert all(t.seen == 7 for t in table.tallies)
            assert all(str(table.get_row_at(r)[4]) for r in range(7))  # B filled every row
            for index in range(2):  # no cropped class names
                column = table.columns[f"pred{index}"]
                widest = max(table.get_cell_at((r, 2 + 2 * index)).cell_len for r in range(7))
                assert (column.content_width if column.auto_width else column.width) >= widest
            text = screen_text(app)
            a, b = (f"{100 * t.correct / 7:.2f}% ({t.correct}/7)" for t in table.tallies)
            assert f"A {a}" in text and f"B {b}" in text
            assert "A best_model.ckpt" in text and "B final_model.ckpt" in text

    async def test_x_exports_the_checkpoint_to_onnx_beside_it_and_replaces_it_only_when_asked(self, ckpts, trained):
        app = FerApp(root=ckpts, reattach=False, clock=lambda: NOW)
        best = ckpts / trained.run_dir.name / "best_model.ckpt"
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            screen = await open_checkpoints(app, pilot)
            await select(pilot, screen, best)
            await pilot.press("x")
            await wait_for(pilot, lambda: any(n.title == "Exported" for n in app._notifications), timeout=120)
            onnx = best.with_suffix(".onnx")
            assert onnx.stat().st_size > 10_000
            assert best.with_name("best_model.onnx.json").exists()
            await wait_for(pilot, lambda: "exported to best_model.onnx beside best_model.ckpt" in screen_text(app))
            first = onnx.stat().st_mtime_ns
            await pilot.press("x")  # again: the file exists, so the dashboard asks first
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            await pilot.press("n")
            await pilot.pause(0.3)
            assert onnx.stat().st_mtime_ns == first and not screen.busy  # declined: untouched
            app.clear_notifications()
            await pilot.press("x")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            await pilot.press("y")
            await wait_for(pilot, lambda: any(n.title == "Exported" for n in app._notifications), timeout=120)
            assert onnx.stat().st_mtime_ns != first
            assert not any("Cannot export" in (n.title or "") for n in app._notifications)

    async def test_d_deep_checks_through_the_check_job_and_the_row_takes_its_verdict(self, ckpts, trained):
        app = FerApp(root=ckpts, reattach=False, clock=lambda: NOW)
        best = ckpts / trained.run_dir.name / "best_model.ckpt"
        broken = ckpts / "old-run" / "best_model.ckpt"
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            screen = await open_checkpoints(app, pilot)
            table = screen.query_one(CkptTable)
            seen = []
            for path in (best, broken):
                await select(pilot, screen, path)
                await pilot.press("d")
                found = await wait_for(
                    pilot,
                    lambda: next(
                        (n for n in app._notifications if n not in seen and n.title.startswith("Deep check")), None
                    ),
                    timeout=180,
                )
                seen.append(found)
                assert found.title == f"Deep check: {path.name} is {table.verdicts[str(path)].level}"
            # a short toast (it covers the table): each check's level, then why when not ok; its
            # line breaks are real ones, not an escaped `\x0a`
            assert seen[0].message.startswith("structure ok · size ok · behaviour ")  # MindSpore ran it
            assert table.verdicts[str(best)].level != "broken"
            assert table.verdicts[str(broken)].level == "broken" and seen[1].severity == "error"
            levels, why = seen[1].message.split("\n")
            assert "broken" in levels and why.startswith("truncated")
            assert not any("\\x0a" in n.message for n in seen)
