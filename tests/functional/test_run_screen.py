"""Run screen: start a run, watch the chart gain a point, stop it (confirmed), resume it."""

from __future__ import annotations

import json

from rich.style import Style

from fer_core import fileio
from fer_core.runs import rundir
from fer_tui.actions import palette_commands
from fer_tui.app import FerApp
from fer_tui.screens.confirm import ConfirmScreen
from fer_tui.screens.run import RunScreen
from fer_tui.screens.runs import RunsScreen
from fer_tui.widgets.metric_chart import MetricChart

from .conftest import SIZE, make_run, metrics_row, notified, region_text, screen_text, wait_for, wait_for_screen


async def start_demo_run(app, pilot):
    await pilot.pause()
    await pilot.press("ctrl+s")
    return await wait_for_screen(pilot, RunScreen)


class TestLiveRun:
    async def test_start_then_a_metrics_line_adds_a_chart_point(self, root, fake_trainer):
        fake_trainer.setenv("FAKE_TRAINER_HOLD", "1")  # the test writes the epochs itself
        app = FerApp(root=root, reattach=False)
        async with app.run_test(size=SIZE) as pilot:
            screen = await start_demo_run(app, pilot)
            run_dir = screen.run_dir
            assert run_dir.parent == root / "demo" and run_dir.name.endswith("-demo")
            await wait_for(pilot, lambda: screen.state == "running")
            assert "running" in screen_text(app)
            chart = screen.query_one("#acc-chart", MetricChart)
            assert chart.point_count == 0
            fileio.append_line(run_dir / rundir.METRICS, json.dumps(metrics_row(1, 0.41, True)))
            await wait_for(pilot, lambda: chart.point_count == 1, timeout=1.5)
            assert chart.mark == (1, 0.41)
            assert screen.query_one("#loss-chart", MetricChart).point_count == 1
            assert "41.00%" in screen_text(app)  # the facts line follows the status
            fileio.append_line(run_dir / rundir.METRICS, '{"epoch": 2, "val_')  # partial line
            await pilot.pause(0.7)
            assert chart.point_count == 1

    async def test_stop_asks_first_then_the_trainer_says_stopped(self, root, fake_trainer):
        fake_trainer.setenv("FAKE_TRAINER_HOLD", "1")
        app = FerApp(root=root, reattach=False)
        async with app.run_test(size=SIZE) as pilot:
            screen = await start_demo_run(app, pilot)
            await wait_for(pilot, lambda: screen.state == "running")
            await pilot.press("s")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            await pilot.press("n")  # cancelled: still running
            await pilot.pause(0.6)
            assert screen.state == "running"
            await pilot.press("s")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            await pilot.press("y")
            await wait_for(pilot, lambda: screen.state == "stopped", timeout=5)
            assert (screen.run_dir / rundir.LAST_STATE).exists()
            assert "stopped" in screen_text(app)

            await pilot.press("u")  # resume from last_state.ckpt
            await wait_for(pilot, lambda: screen.state == "running", timeout=5)
            assert "resuming" in (screen.run_dir / rundir.LOG).read_text()

    async def test_a_run_goes_to_the_end_with_curves(self, root, fake_trainer):
        fake_trainer.setenv("FAKE_TRAINER_EPOCH_SECONDS", "0.1")
        app = FerApp(root=root, reattach=False)
        async with app.run_test(size=SIZE) as pilot:
            screen = await start_demo_run(app, pilot)
            await wait_for(pilot, lambda: screen.state == "finished", timeout=10)
            await wait_for(
                pilot, lambda: screen.query_one("#acc-chart", MetricChart).point_count == screen.status.epochs
            )
            epochs = screen.status.epochs
            # the log's last lines (the view scrolls to them at its next refresh)
            await wait_for(pilot, lambda: f"Epoch {epochs}/{epochs}" in screen_text(app))


LONG_LOG = "".join(
    f"Epoch {e}/10 - Loss: 0.{e}302 Validation Accuracy: 0.6{e}01\nNew best accuracy: 0.9738 at epoch {e}\n"
    for e in range(1, 9)
)


class TestLogTail:
    async def test_lines_wrap_at_words_and_the_tail_is_in_view(self, root):
        run_dir = make_run(root, "20260101-000000-demo", log=LONG_LOG)
        for size in (SIZE, (120, 40)):
            app = FerApp(root=root, reattach=False)
            async with app.run_test(size=size) as pilot:
                app.open_run(run_dir)
                screen = await wait_for_screen(pilot, RunScreen)
                log = screen.query_one("#log")
                await wait_for(pilot, lambda: "epoch 8" in "".join(region_text(app, log)))
                # (the right column is the view's scrollbar)
                rows = [row.rstrip(" ▁▂▃▄▅▆▇█") for row in region_text(app, log) if row.strip()]
                # the newest line, wrapped (continuations indented), ends the panel
                shown = " ".join(row.strip() for row in rows)
                assert shown.endswith("New best accuracy: 0.9738 at epoch 8"), rows
                words = set(LONG_LOG.split())
                assert all(set(row.split()) <= words for row in rows), rows


def braille(text: str) -> bool:
    return any("\u2800" < ch <= "\u28ff" for ch in text)


def glyph_colors(text, glyph: str) -> list[int]:
    """The ANSI colour number of every span holding `glyph` in a rendered chart."""
    styles = [
        Style.parse(span.style) if isinstance(span.style, str) else span.style
        for span in text.spans
        if glyph in text.plain[span.start : span.end]
    ]
    return [style.color.number for style in styles if style.color is not None]


class TestCharts:
    async def test_the_legend_is_in_the_title_row_and_hides_no_data(self, root):
        run_dir = make_run(root, "20260101-000000-demo", accs=(0.31, 0.44, 0.52, 0.57, 0.59, 0.58))
        app = FerApp(root=root, reattach=False)
        async with app.run_test(size=SIZE) as pilot:
            app.open_run(run_dir)
            screen = await wait_for_screen(pilot, RunScreen)
            loss = screen.query_one("#loss-chart", MetricChart)
            await wait_for(pilot, lambda: loss.point_count == 6)
            await pilot.pause(0.2)
            title, *plot = region_text(app, loss)
            assert "loss  ━ train  ━ val" in title
            assert not any("train" in row or " val" in row for row in plot)
            # the highest loss (epoch 1, top left) is drawn, not covered by a legend box
            first_row = plot[1]
            assert braille(first_row[first_row.index("┤") + 1 :][:4]), plot[:3]
            acc = screen.query_one("#acc-chart", MetricChart)
            assert "accuracy  ● best" in region_text(app, acc)[0]
            # the legend's colours are the plot's: ● in the title row and on the curve match
            assert len(set(glyph_colors(acc.render(), "●"))) == 1
            assert len(glyph_colors(loss.render(), "━")) == 2


class TestErrors:
    async def test_an_ended_run_offers_neither_stop_nor_resume(self, root):
        run_dir = make_run(root, "20260101-000000-demo", state="finished")
        app = FerApp(root=root, reattach=False)
        async with app.run_test(size=SIZE) as pilot:
            app.open_run(run_dir)
            screen = await wait_for_screen(pilot, RunScreen)
            await wait_for(pilot, lambda: screen.state == "finished")
            await pilot.pause()
            footer = screen_text(app).splitlines()[-1]
            assert "Stop" not in footer and "Resume" not in footer and "Back" in footer
            titles = [action.title for action, _ in palette_commands(screen)]
            assert "Stop run" not in titles and "Resume run" not in titles
            await pilot.press("s")
            await pilot.press("u")
            await pilot.pause()
            assert app.screen is screen and screen.state == "finished"  # no question, no new trainer

    async def test_a_stopped_run_offers_resume_and_its_empty_charts_say_why(self, root):
        run_dir = make_run(root, "20260101-000000-demo", state="stopped", accs=())
        app = FerApp(root=root, reattach=False)
        async with app.run_test(size=SIZE) as pilot:
            app.open_run(run_dir)
            screen = await wait_for_screen(pilot, RunScreen)
            await wait_for(pilot, lambda: screen.state == "stopped")
            await pilot.pause()
            text = screen_text(app)
            footer = text.splitlines()[-1]
            assert "Resume" in footer and "Stop" not in footer
            assert "waiting for the first epoch" not in text and "stopped: no epoch finished" in text

    async def test_a_run_without_files_shows_unknown_instead_of_crashing(self, root):
        empty = root / "not-a-run"
        empty.mkdir()
        app = FerApp(root=root, reattach=False)
        async with app.run_test(size=SIZE) as pilot:
            app.open_run(empty)
            screen = await wait_for_screen(pilot, RunScreen)
            await pilot.pause(0.6)
            assert screen.state == "unknown"
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, RunsScreen))

    async def test_damaged_status_and_metrics_are_said_not_shown_as_unknown(self, root):
        """status.json that does not read: the state says `unreadable` and the facts why, naming
        the file; metrics.jsonl's unreadable lines are told once, the good epochs charted."""
        run_dir = make_run(root, "20260101-000000-demo", accs=(0.3, 0.4))
        (run_dir / rundir.STATUS).write_text("{bad\n")
        fileio.append_line(run_dir / rundir.METRICS, "not json")
        app = FerApp(root=root, reattach=False)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            app.open_run(run_dir)
            screen = await wait_for_screen(pilot, RunScreen)
            await wait_for(pilot, lambda: screen.state == "unreadable")
            said = await notified(pilot, "1 unreadable line (line 3")
            assert str(run_dir / rundir.METRICS) in said
            assert screen.query_one("#acc-chart", MetricChart).point_count == 2
            facts = " ".join(region_text(app, screen.query_one("#facts")))
            assert facts.startswith("unreadable") and "unreadable (Expecting property name" in facts, facts
            assert "status.json" in facts.replace(" ", ""), facts  # a long path may wrap inside it


class TestFacts:
    async def test_patience_reads_as_epochs_left_of_the_runs_patience(self, root):
        """status.json keeps the patience LEFT: `patience 3` beside a preset's 4 read as a changed
        setting; `3/4 left` says what it counts. A run without early stopping shows none."""
        counted = make_run(root, "20260101-000000-demo", config={"patience": 4})
        status = json.loads((counted / rundir.STATUS).read_text())
        fileio.write_json(counted / rundir.STATUS, {**status, "patience_left": 3})
        never = make_run(root, "20260102-000000-demo", config={"patience": 0})
        app = FerApp(root=root, reattach=False)
        async with app.run_test(size=SIZE) as pilot:
            app.open_run(counted)
            screen = await wait_for_screen(pilot, RunScreen)
            await wait_for(pilot, lambda: screen.state == "finished")
            facts = screen_text(app).splitlines()[2]
            assert facts.rstrip().endswith("· patience 3/4 left"), facts
            app.open_run(never)
            await wait_for(pilot, lambda: app.screen is not screen and getattr(app.screen, "run_dir", None) == never)
            other = app.screen
            await wait_for(pilot, lambda: other.state == "finished")
            assert "patience" not in screen_text(app).splitlines()[2]
