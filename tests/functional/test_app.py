"""App conventions: reattach on start, q never stops a run, help, command palette, themes."""

from __future__ import annotations

import time

from textual.widgets._toast import Toast

from fer_core import config as cfg
from fer_core.runs import launcher, rundir
from fer_tui.app import FerApp
from fer_tui.screens.help import HelpScreen
from fer_tui.screens.run import RunScreen
from fer_tui.screens.runs import RunsScreen
from fer_tui.screens.train import TrainScreen

from .conftest import SIZE, make_run, notified, region_text, screen_text, wait_for, wait_for_screen


def launch_held_run(fake_trainer, name="demo"):
    fake_trainer.setenv("FAKE_TRAINER_HOLD", "1")
    run_dir = rundir.create_run(cfg.load_preset(name).config, name)
    pid = launcher.launch_detached(run_dir)
    deadline = time.monotonic() + 5
    while rundir.read_status(run_dir).state != "running" and time.monotonic() < deadline:
        time.sleep(0.05)
    return run_dir, pid


class TestReattach:
    async def test_start_opens_the_live_run(self, root, fake_trainer):
        run_dir, _ = launch_held_run(fake_trainer)
        app = FerApp(root=root)
        async with app.run_test(size=SIZE) as pilot:
            screen = await wait_for_screen(pilot, RunScreen)
            assert screen.run_dir == run_dir
            await notified(pilot, "reattached")
            await pilot.press("escape")  # the runs list sits below it
            await wait_for(pilot, lambda: isinstance(app.screen, RunsScreen))

    async def test_opening_another_run_replaces_the_first(self, root):
        first = make_run(root, "20260101-000000-demo")
        second = make_run(root, "20260102-000000-demo")
        app = FerApp(root=root)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            app.open_run(first)
            await wait_for(pilot, lambda: isinstance(app.screen, RunScreen))
            await pilot.press("t")
            await wait_for(pilot, lambda: isinstance(app.screen, TrainScreen))
            app.open_run(second)
            screen = await wait_for_screen(pilot, RunScreen)
            assert screen.run_dir == second
            assert [type(s) for s in app.screen_stack] == [RunsScreen, RunScreen]

    async def test_without_live_runs_start_on_train(self, root):
        app = FerApp(root=root)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: isinstance(app.screen, TrainScreen))


class TestQuit:
    async def test_q_leaves_a_live_run_going_and_says_so(self, root, fake_trainer):
        run_dir, pid = launch_held_run(fake_trainer)
        app = FerApp(root=root)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: isinstance(app.screen, RunScreen))
            await pilot.press("q")
            await pilot.pause()
        assert "keep going" in app.exit_note
        assert rundir.pid_alive(pid)
        assert rundir.effective_state(rundir.read_status(run_dir)) == "running"

    async def test_q_without_runs_just_quits(self, root):
        app = FerApp(root=root)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await pilot.press("q")
            await pilot.pause()
        assert app.exit_note == ""
        assert app._exit_renderables == []


def toasts(app) -> list:
    return [t for t in app.screen.query(Toast) if t.region.area]


class TestNotifications:
    async def test_a_toast_on_a_run_leaves_the_log_visible(self, root):
        run_dir = make_run(root, "20260101-000000-demo")
        app = FerApp(root=root, reattach=False)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            app.open_run(run_dir)
            screen = await wait_for_screen(pilot, RunScreen)
            await pilot.pause(0.2)
            app.notify("asked pid 4242 to stop; it saves its state first", title="Stopping")
            app.notify("the run is not live (finished)", severity="warning")
            shown = await wait_for(pilot, lambda: len(toasts(app)) == 2 and toasts(app))
            log = screen.query_one("#log").region
            assert all(not toast.region.overlaps(log) for toast in shown)
            assert [n.timeout for n in app._notifications] == [3.0, 6.0]  # news goes quickly

    async def test_lines_fer_tui_composes_break_and_a_files_text_stays_escaped(self, root):
        app = FerApp(root=root, reattach=False)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await wait_for_screen(pilot, TrainScreen)
            app.notify(["structure ok · size broken", "truncated: 'evil\nname\x1b[31m' [red]"], title="Deep check")
            app.notify("a name with a line\nbreak")  # one text from a file or an error: one line
            toast = await wait_for(pilot, lambda: len(toasts(app)) == 2 and toasts(app)[0])
            first, second = (n.message for n in app._notifications)
            assert first == "structure ok · size broken\ntruncated: 'evil\\x0aname\\x1b[31m' \\[red]"
            assert second == "a name with a line\\x0abreak"
            rows = [row.strip(" ▌") for row in region_text(app, toast)]
            assert "structure ok · size broken" in rows and "[red]" in " ".join(rows)

    async def test_toasts_wait_behind_the_help_screen(self, root):
        app = FerApp(root=root, reattach=False)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await pilot.pause()
            await pilot.press("question_mark")
            await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
            app.notify("a new preset was saved", title="Preset saved", severity="error")
            await wait_for(pilot, lambda: app.screen.query(Toast))
            await pilot.pause(0.2)
            assert "a new preset was saved" not in screen_text(app)
            assert "quit the UI (runs keep training)" in screen_text(app)
            await pilot.press("escape")
            await wait_for(pilot, lambda: "a new preset was saved" in screen_text(app))


class TestHelpAndPalette:
    async def test_the_palette_keys_command_opens_the_help(self, root):
        app = FerApp(root=root, reattach=False)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            keys = next(c for c in app.get_system_commands(app.screen) if c.title == "Keys")
            keys.callback()
            await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))

    async def test_question_mark_shows_every_key(self, root):
        app = FerApp(root=root, reattach=False)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await pilot.press("question_mark")
            await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
            await wait_for(pilot, lambda: "quit the UI (runs keep training)" in screen_text(app))
            assert "ctrl+s" in screen_text(app)
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, TrainScreen))

    async def test_palette_offers_the_screen_actions(self, root):
        app = FerApp(root=root, reattach=False)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            titles = [c.title for c in app.get_system_commands(app.screen)]
            assert {"Start run", "Save as preset", "Runs", "Keys"} <= set(titles)
            assert "Train" not in titles  # the screen shown: its key is off the footer and the palette
            assert [t for t in titles if "key" in t.lower()] == ["Keys"]  # one, the help screen
            assert any("theme" in t.lower() for t in titles)

    async def test_palette_runs_command_switches_screen(self, root):
        app = FerApp(root=root, reattach=False)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await pilot.press("ctrl+p")
            await pilot.pause(0.2)
            await pilot.press(*"Runs")
            await pilot.pause(0.5)
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, RunsScreen))

    async def test_t_and_r_switch_between_train_and_runs(self, root):
        app = FerApp(root=root, reattach=False)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await pilot.press("r")
            await wait_for(pilot, lambda: isinstance(app.screen, RunsScreen))
            await pilot.press("t")
            await wait_for(pilot, lambda: isinstance(app.screen, TrainScreen))
            assert "Presets" in screen_text(app)
