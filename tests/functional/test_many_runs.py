"""The queue and the leaderboard in the dashboard: snapshots at 80x24 from fixed entries and
runs, and the keys that reach them (Runs: u, l; Train: ctrl+l queues the form's run)."""

from __future__ import annotations

import os
import signal

from fer_core.queue import runner
from fer_core.queue.entries import Queue
from fer_tui.screens.leaderboard import LeaderboardScreen
from fer_tui.screens.queue import QueueScreen

from .conftest import NOW, SIZE, make_run, screen_text, wait_for, wait_for_screen
from .test_fit_80 import footer_cut
from .test_snapshots import app_for, fixed  # noqa: F401 - the fixed presets and runs

DEMO = {"data_csv": "demo", "arch": "tiny_cnn", "epochs": 8, "lr": 3e-3}


def fixed_queue(root):
    """Four entries as a runner leaves them: finished, failed at start, running, queued."""
    done = make_run(root, "20260104-090000-demo", accs=(0.33, 0.47, 0.55), started=NOW - 900)
    live = make_run(root, "20260104-091500-demo", state="running", accs=(0.30,), started=NOW - 60)
    queue = Queue.of_root(root)
    entries = queue.add(
        [
            {"preset": "demo", "config": {**DEMO, "lr": 1e-3}, "label": "lr 0.003→0.001"},
            {"preset": "demo", "config": {**DEMO, "data_csv": "/data/broken.csv"}, "label": "data_csv"},
            {"preset": "demo", "config": DEMO, "label": "lr=0.003 seed=1", "sweep": str(root / "sweeps" / "s")},
            {"preset": "cpu-basic", "config": {**DEMO, "epochs": 50}, "label": "epochs 8→50"},
        ]
    )
    queue.update(entries[0].id, state="finished", run_dir=str(done))
    queue.update(entries[1].id, state="failed", message="/data/broken.csv line 1: missing column 'emotion'")
    queue.update(entries[2].id, state="running", run_dir=str(live))
    return queue


def fixed_sweep(root):
    """Two settings × two seeds, and one run of a third setting."""
    folder = root / "sweeps" / "lr"
    folder.mkdir(parents=True)
    (folder / "sweep.toml").write_text('base = "demo"\nname = "lr"\n')
    for n, (lr, seed, accs) in enumerate(
        [
            (1e-3, 1, (0.41, 0.52)),
            (1e-3, 2, (0.43, 0.56)),
            (3e-3, 1, (0.45, 0.58)),
            (3e-3, 2, (0.47, 0.62)),
            (1e-2, 1, (0.20, 0.31)),
        ]
    ):
        make_run(folder, f"20260105-09000{n}-demo", accs=accs, config={"lr": lr, "seed": seed, "augment": True})
    return folder


class TestSnapshots:
    def test_queue_screen(self, fixed, snap_compare):  # noqa: F811
        fixed_queue(fixed)

        async def open_queue(pilot):
            await pilot.press("r", "u")
            screen = await wait_for_screen(pilot, QueueScreen)
            await wait_for(pilot, lambda: screen.query_one("#queue-table").row_count == 4)
            await pilot.press("down")  # the failed entry: its reason shows under the table
            await wait_for(pilot, lambda: "broken.csv" in str(screen.query_one("#queue-detail").content))

        assert snap_compare(app_for(fixed), terminal_size=SIZE, run_before=open_queue)

    def test_leaderboard_screen(self, fixed, snap_compare):  # noqa: F811
        folder = fixed_sweep(fixed)

        async def open_board(pilot):
            await pilot.press("r")
            await pilot.pause()
            table = pilot.app.screen.query_one("#runs-table")
            table.focus()
            row = next(i for i, key in enumerate(table.runs) if key.startswith(str(folder)))
            table.move_cursor(row=row)
            await pilot.press("l")
            screen = await wait_for_screen(pilot, LeaderboardScreen)
            await wait_for(pilot, lambda: screen.query_one("#board-table").row_count == 3)

        assert snap_compare(app_for(fixed), terminal_size=SIZE, run_before=open_board)


async def test_leaderboard_of_marked_runs_ranks_only_those(fixed):  # noqa: F811
    fixed_sweep(fixed)
    async with app_for(fixed).run_test(size=SIZE) as pilot:
        await pilot.press("r")
        await pilot.pause()
        pilot.app.screen.query_one("#runs-table").focus()
        await pilot.press("space", "down", "space", "l")
        screen = await wait_for_screen(pilot, LeaderboardScreen)
        marked = screen.paths
        assert len(marked) == 2 and screen.sub_title.endswith("2 marked runs")
        assert sum(len(row.runs) for row in screen.board.rows) == 2
        await pilot.press("escape")
        assert not isinstance(pilot.app.screen, LeaderboardScreen)


async def test_train_form_queues_the_run_and_a_runner_trains_it(fixed, fake_trainer):  # noqa: F811
    queue = Queue.of_root(fixed)
    async with app_for(fixed).run_test(size=SIZE) as pilot:
        form = pilot.app.screen.query_one("#form")
        await wait_for(pilot, lambda: form.raw("data_csv") == "demo")
        pilot.app.screen.query_one("#f-epochs").value = "2"
        await pilot.pause()
        await pilot.press("ctrl+l")
        entries = await wait_for(pilot, lambda: queue.entries())
        assert entries[0].config["epochs"] == 2 and entries[0].label == "epochs 8→2"
        try:  # the runner (detached, as from a shell) trains it with the fake trainer
            done = await wait_for(pilot, lambda: queue.get(1).state == "finished" and queue.get(1), timeout=60)
        finally:
            pid = runner.runner_pid(queue)
            if pid:
                os.kill(pid, signal.SIGKILL)
        assert done.run_dir and done.run_dir.startswith(str(fixed))
        await pilot.press("r", "u")
        screen = await wait_for_screen(pilot, QueueScreen)
        await wait_for(pilot, lambda: screen.query_one("#queue-table").row_count == 1)
        assert "finished" in str(screen.query_one("#queue-table").get_row_at(0)[1])


async def test_queue_and_leaderboard_footers_fit_80_columns(fixed):  # noqa: F811
    fixed_queue(fixed)
    async with app_for(fixed).run_test(size=SIZE) as pilot:
        await pilot.press("r", "u")
        await wait_for_screen(pilot, QueueScreen)
        assert await footer_cut(pilot.app, pilot) == []
        await pilot.press("escape", "l")
        await wait_for_screen(pilot, LeaderboardScreen)
        assert await footer_cut(pilot.app, pilot) == []


async def test_the_queue_keeps_every_column_in_view_at_80_columns(fixed):  # noqa: F811
    """A long setting and a live run's epoch once pushed `best` past the edge (and a column
    widened by a live run never narrowed): the best accuracy stays on screen."""
    queue = fixed_queue(fixed)
    queue.update(1, label="epochs 10→2, lr 0.003→0.001, weight_decay 0.0005→0.001, mixup_alpha 0→0.2")
    async with app_for(fixed).run_test(size=SIZE) as pilot:
        await pilot.press("r", "u")
        screen = await wait_for_screen(pilot, QueueScreen)
        await wait_for(pilot, lambda: screen.query_one("#queue-table").row_count == 4)
        lines = screen_text(pilot.app).splitlines()
        assert any(line.split()[-1:] == ["best"] for line in lines), lines
        assert any("090000-demo" in line and line.rstrip().endswith("55.00%") for line in lines), lines
