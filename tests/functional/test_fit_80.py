"""Nothing is cut at 80 columns: every footer key, the progress line's ETA, why a run failed."""

from __future__ import annotations

import json
import os

from fer_core import fileio
from fer_tui.app import FerApp
from fer_tui.screens.checkpoints import CheckpointsScreen
from fer_tui.screens.compare import CompareScreen
from fer_tui.screens.run import RunScreen
from fer_tui.screens.runs import RunsScreen
from fer_tui.screens.train import TrainScreen
from fer_tui.widgets.key_bar import SEPARATOR, KeyBar
from fer_tui.widgets.runs_table import RunsTable

from .checkpoints_pilot import fixed_ckpts, on_checkpoints, open_checkpoints, select
from .conftest import NOW, SIZE, make_run, region_text, screen_text, wait_for, wait_for_screen


async def footer_cut(app, pilot) -> list[str]:
    """The footer keys not shown whole on the bottom row, left of the palette key."""
    await wait_for(pilot, lambda: app.screen.query(KeyBar))
    await pilot.pause(0.1)
    shown = screen_text(app).splitlines()[-1].split(SEPARATOR)[0]
    keys, _ = app.screen.query_one(KeyBar).keys()
    return [k.label for k in keys if k.label not in shown]


def set_status(run_dir, **changes) -> None:
    status = json.loads((run_dir / "status.json").read_text())
    fileio.write_json(run_dir / "status.json", {**status, **changes})


async def open_run(app, pilot, run_dir) -> RunScreen:
    app.open_run(run_dir)
    return await wait_for_screen(pilot, RunScreen)


class TestFooters:
    async def test_every_screen_shows_all_its_keys(self, root):
        run_dir = make_run(root, "20260101-090000-demo")
        make_run(root, "20260102-090000-cpu-basic", preset="cpu-basic")
        app = FerApp(root=root, reattach=False, clock=lambda: NOW)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: isinstance(app.screen, TrainScreen))
            await pilot.pause(0.2)
            assert await footer_cut(app, pilot) == []
            assert "t Train" not in screen_text(app)  # the key of the screen shown is off
            await pilot.press("r")
            runs = await wait_for_screen(pilot, RunsScreen)
            await pilot.pause(0.2)
            assert await footer_cut(app, pilot) == []
            runs.query_one(RunsTable).focus()
            await pilot.press("space", "down", "space", "c")
            await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen))
            await pilot.pause(0.2)
            assert await footer_cut(app, pilot) == []
            await open_run(app, pilot, run_dir)
            await pilot.pause(0.2)
            assert (await footer_cut(app, pilot)) == [] and "r Runs" in screen_text(app)  # r: back to the list
            await pilot.press("k")
            await wait_for(pilot, lambda: isinstance(app.screen, CheckpointsScreen))
            await pilot.pause(0.2)
            assert await footer_cut(app, pilot) == []

    async def test_the_checkpoints_footer_while_an_inference_runs(self, root, fixed_samples, fake_worker):
        best = fixed_ckpts(root)
        fake_worker.setenv("FAKE_INFER_DELAY", "5")
        app = FerApp(root=root, reattach=False, clock=lambda: NOW)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_checkpoints(app, pilot)
            await select(pilot, screen, best)
            await pilot.press("i")
            await wait_for(pilot, lambda: screen.running)
            await wait_for(pilot, lambda: "esc Cancel" in screen_text(app))
            assert await footer_cut(app, pilot) == []
            await pilot.press("escape")
            await wait_for(pilot, lambda: not screen.running, timeout=10)


class TestCheckpointsText:
    async def test_the_detail_and_the_hint_are_whole(self, root, fixed_samples):
        async with on_checkpoints(root) as (app, pilot, screen, best):
            await wait_for(pilot, lambda: "faces in" in screen_text(app))
            detail = screen.query_one("#ckpt-detail")
            wanted = " ".join(str(detail.content).split())
            assert "at epoch 6 · " in wanted
            assert " ".join(" ".join(region_text(app, detail)).split()) == wanted
            assert "i tests, space marks two, c compares · 7 faces in" in screen_text(app)


class TestRunText:
    async def test_a_long_progress_line_keeps_its_eta(self, root):
        run_dir = make_run(root, "20260101-090000-demo", state="running", pid=os.getpid())
        set_status(
            run_dir, epoch=11, epochs=50, step=120, steps=449, images_per_second=1234.5, eta_seconds=7260, updated=1e12
        )  # a heartbeat in the future: live
        app = FerApp(root=root, reattach=False, clock=lambda: NOW)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_run(app, pilot, run_dir)
            await wait_for(pilot, lambda: screen.state == "running")
            expected = "epoch 12/50 · step 120/449 · 1,234 img/s · ETA 2h01m"
            await wait_for(pilot, lambda: expected in screen_text(app))

    async def test_why_a_run_failed_is_shown_whole(self, root):
        why = (
            "RuntimeError: device GPU is not available on this machine (no CUDA driver found); "
            "train with --device_target CPU or install the GPU build of MindSpore 2.8.0"
        )
        run_dir = make_run(root, "20260101-090000-demo", state="failed")
        set_status(run_dir, message=why)
        app = FerApp(root=root, reattach=False, clock=lambda: NOW)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_run(app, pilot, run_dir)
            await wait_for(pilot, lambda: screen.state == "failed")
            await pilot.pause(0.2)
            shown = " ".join(line.strip() for line in screen_text(app).splitlines()[:6])
            assert why in shown, shown
            assert "…" not in shown


async def test_compare_of_three_runs_with_long_data_paths_shows_every_column(root):

    long_path = "/srv/datasets/facial-expressions/fer2013/fer2013-dev.csv.gz"
    for index, lr in enumerate((1e-3, 3e-3, 5e-3)):
        make_run(root, f"2026010{index + 1}-000000-demo", config={"lr": lr, "data_csv": long_path})
    app = FerApp(root=root, reattach=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("r")
        await pilot.pause(0.3)
        for _ in range(3):
            await pilot.press("space", "down")
        await pilot.press("c")
        await wait_for_screen(pilot, CompareScreen)
        await wait_for(pilot, lambda: "≠ lr" in screen_text(app))
        rows = screen_text(app).splitlines()
        header = next(row for row in rows if "field" in row and " A " in row)
        assert " B " in header and " C" in header
        data_row = next(row for row in rows if "data_csv" in row)
        assert data_row.count("csv.gz") == 3  # each run's file name, its folders cut from the left


async def test_a_taller_terminal_gives_the_results_more_rows(root, fixed_samples, fake_worker):
    from fer_tui.widgets.inference_table import InferenceTable

    from .test_checkpoints_screen import wait_until_done

    best = fixed_ckpts(root)
    heights = {}
    for size in (SIZE, (120, 40)):
        app = FerApp(root=root, reattach=False, clock=lambda: NOW)
        async with app.run_test(size=size) as pilot:
            screen = await open_checkpoints(app, pilot)
            await select(pilot, screen, best)
            await pilot.press("i")
            await wait_until_done(pilot, screen, timeout=10)
            heights[size] = screen.query_one(InferenceTable).size.height
    assert heights[SIZE] == 9 and heights[(120, 40)] > 12  # 80x24 as before; 120x40 uses its rows


async def test_the_footer_fits_while_a_deep_check_runs(root):
    async with on_checkpoints(root) as (app, pilot, screen, best):
        await pilot.press("d")
        await wait_for(pilot, lambda: screen.busy)
        await wait_for(pilot, lambda: "esc Cancel" in screen_text(app).splitlines()[-1])
        footer = screen_text(app).splitlines()[-1]
        assert "t Train r Runs" in footer and "d Check" not in footer and "i Infer" not in footer
        await pilot.press("escape")
        await wait_for(pilot, lambda: not screen.busy)
        await wait_for(pilot, lambda: "d Check" in screen_text(app).splitlines()[-1])
