"""Runs screen: live runs first, open reattaches, mark and compare, stop from the list."""

from __future__ import annotations

import json
import os
import time
from types import SimpleNamespace

from textual.widgets import DataTable

from fer_core import fileio
from fer_core.cli.main import main as cli_main
from fer_tui.app import FerApp
from fer_tui.screens.compare import CompareScreen
from fer_tui.screens.confirm import ConfirmScreen
from fer_tui.screens.run import RunScreen
from fer_tui.screens.runs import RunsScreen
from fer_tui.widgets.metric_chart import MetricChart
from fer_tui.widgets.runs_table import RunsTable

from .conftest import NOW, SIZE, make_run, screen_text, wait_for, wait_for_screen


def three_runs(root):
    old = make_run(root, "20260101-000000-demo", accs=(0.3, 0.4), started=NOW - 7200)
    new = make_run(
        root,
        "20260102-000000-cpu-basic",
        preset="cpu-basic",
        accs=(0.35, 0.5, 0.55),
        config={"lr": 1e-3, "batch_size": 64},
        started=NOW - 600,
    )
    # pid = this test process: alive, so the run counts as live (heartbeat is old though)
    live = make_run(root, "20260103-000000-demo", state="running", started=NOW - 60)
    return old, new, live


async def open_runs(app, pilot):
    await pilot.pause()
    await pilot.press("r")
    return await wait_for_screen(pilot, RunsScreen)


async def compare_marked(app, pilot, *keys: str) -> CompareScreen:
    """The Compare screen of the runs `keys` mark on the Runs list (space marks, down moves)."""
    screen = await open_runs(app, pilot)
    screen.query_one(RunsTable).focus()
    await pilot.press(*keys, "c")
    return await wait_for_screen(pilot, CompareScreen)


class TestListing:
    async def test_runs_are_listed_newest_first_with_state_epoch_best_age(self, root):
        three_runs(root)
        app = FerApp(root=root, reattach=False, clock=lambda: NOW)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_runs(app, pilot)
            table = screen.query_one(RunsTable)
            assert table.row_count == 3
            text = screen_text(app)
            assert "20260102-000000-cpu-basic" in text and "55.00%" in text and "1h ago" in text
            # a 'running' status whose pid is gone is shown as lost, not as live
            assert "lost" in text
            first = str(table.get_row_at(0)[1])
            assert first == "20260103-000000-demo"

    async def test_a_live_run_sorts_first_and_is_marked_live(self, root):
        make_run(root, "20260101-000000-demo", started=NOW - 100)
        make_run(root, "20250101-000000-demo", state="running", pid=os.getpid(), started=NOW - 10_000)
        status_file = root / "20250101-000000-demo" / "status.json"
        status_file.write_text(
            status_file.read_text().replace(f'"updated": {NOW - 10_000 + 600}', '"updated": 1e12')
        )  # heartbeat in the future
        app = FerApp(root=root, reattach=False, clock=lambda: NOW)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_runs(app, pilot)
            table = screen.query_one(RunsTable)
            assert str(table.get_row_at(0)[1]) == "20250101-000000-demo"
            assert "● running" in screen_text(app)
            assert "1 live" in screen_text(app)

    async def test_the_table_and_fer_tui_runs_say_the_same_epoch_and_updated(self, root, monkeypatch, capsys):
        run_dir = make_run(root, "20260101-000000-demo", state="running", pid=os.getpid())
        heartbeat = time.time()  # fresh: the run is live; both displays see "now" 125 s later
        status = {
            **json.loads((run_dir / "status.json").read_text()),
            "epoch": 6,
            "step": 4,
            "steps": 10,
            "updated": heartbeat,
        }
        fileio.write_json(run_dir / "status.json", status)
        later = SimpleNamespace(time=lambda: heartbeat + 125)
        monkeypatch.setattr("fer_core.cli.commands.runs.time", later)
        assert cli_main(["runs", str(root)]) == 0
        header, row = capsys.readouterr().out.splitlines()[:2]
        cli = row.split()
        assert cli[2:5] == ["running", "7/8", "4/10"] and cli[-2:] == ["2m", "ago"]  # in epoch 7 of 8, step 4
        app = FerApp(root=root, reattach=False, clock=lambda: heartbeat + 125)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_runs(app, pilot)
            table = screen.query_one(RunsTable)
            cells = [str(c) for c in table.get_row_at(0)]
            labels = [str(c.label) for c in table.columns.values()]
            assert labels[3:] == ["epoch", "step", "best", "updated"]
            assert header.split()[-5:] == ["epoch", "step", "eta", "best", "updated"]
            assert cells[3] == "7/8" and cells[4] == "4/10" and cells[6] == "2m ago"
            assert cli[-3] == cells[5]  # the best accuracy worded alike

    async def test_a_new_run_appears_without_a_key_press(self, root):
        app = FerApp(root=root, reattach=False, clock=lambda: NOW)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_runs(app, pilot)
            assert "no runs under checkpoints yet" in screen_text(app)
            make_run(root, "20260101-000000-demo")
            await wait_for(pilot, lambda: screen.query_one(RunsTable).row_count == 1, timeout=3)

    async def test_enter_opens_the_run_and_escape_comes_back(self, root):
        _, new, _ = three_runs(root)
        app = FerApp(root=root, reattach=False, clock=lambda: NOW)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_runs(app, pilot)
            table = screen.query_one(RunsTable)
            table.focus()
            await pilot.press("down", "enter")
            run_screen = await wait_for_screen(pilot, RunScreen)
            assert run_screen.run_dir == new
            await wait_for(pilot, lambda: run_screen.query_one("#acc-chart", MetricChart).point_count == 3)
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, RunsScreen))


class TestCompare:
    async def test_compare_two_marked_runs(self, root):
        old, new, _ = three_runs(root)
        app = FerApp(root=root, reattach=False, clock=lambda: NOW)
        async with app.run_test(size=SIZE) as pilot:
            compare = await compare_marked(app, pilot, "down", "space", "down", "space")
            assert set(compare.run_dirs) == {old, new}
            chart = compare.query_one(MetricChart)
            assert sorted(len(s.xs) for s in chart.series) == [2, 3]
            table = compare.query_one(DataTable)
            assert table.border_title.startswith("config: 2 of")  # lr and batch_size
            text = screen_text(app)
            assert "≠ lr" in text and "≠ batch_size" in text and "≠ epochs" not in text
            await pilot.press("d")  # only the differences
            await pilot.pause()
            assert table.row_count == 2
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, RunsScreen))

    async def test_only_diffs_of_two_runs_alike_says_so(self, root):
        three_runs(root)  # the first and the last are demo runs with the same config
        app = FerApp(root=root, reattach=False, clock=lambda: NOW)
        async with app.run_test(size=SIZE) as pilot:
            compare = await compare_marked(app, pilot, "space", "down", "down", "space")
            assert compare.query_one(DataTable).border_title.startswith("config: 0 of")
            await pilot.press("d")
            await wait_for(pilot, lambda: "  none differ" in screen_text(app))

    async def test_compare_needs_two_marks(self, root):
        three_runs(root)
        app = FerApp(root=root, reattach=False, clock=lambda: NOW)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_runs(app, pilot)
            screen.query_one(RunsTable).focus()
            await pilot.press("space", "c")
            await pilot.pause()
            assert isinstance(app.screen, RunsScreen)
            assert any("two or more" in n.message for n in app._notifications)


class TestStopFromList:
    async def test_stop_a_live_run_from_the_list(self, root, fake_trainer):
        fake_trainer.setenv("FAKE_TRAINER_HOLD", "1")
        app = FerApp(root=root, reattach=False)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await pilot.press("ctrl+s")
            run_screen = await wait_for_screen(pilot, RunScreen)
            await wait_for(pilot, lambda: run_screen.state == "running")
            await pilot.press("escape")
            screen = await wait_for_screen(pilot, RunsScreen)
            screen.query_one(RunsTable).focus()
            await pilot.press("s")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            await pilot.press("y")
            await wait_for(pilot, lambda: "stopped" in screen_text(app), timeout=5)
