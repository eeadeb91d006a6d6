"""Live inside the epoch (issue 23), through the dashboard: step curves before the first epoch
ends, the stop dialog saying what a stop keeps, a run ending told by a toast and a desktop
notification, the Runs screen's every-folder toggle and a dashboard opened where no run lives."""

from __future__ import annotations

import os
import re

from fer_core import config as fer_config
from fer_core.runs import registry, rundir
from fer_tui.app import FerApp
from fer_tui.screens.confirm import ConfirmScreen
from fer_tui.screens.run import RunScreen
from fer_tui.screens.runs import RunsScreen
from fer_tui.widgets.metric_chart import MetricChart

from .conftest import SIZE, screen_text, wait_for, wait_for_screen


async def start_demo_run(pilot):
    await pilot.pause()
    await pilot.press("ctrl+s")
    return await wait_for_screen(pilot, RunScreen)


class RecordingApp(FerApp):
    """The app, keeping every toast's text (a toast on screen expires in seconds)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.toasts: list[str] = []

    def notify(self, message: str, **kwargs) -> None:
        self.toasts.append(message)
        super().notify(message, **kwargs)


def train_series(chart: MetricChart):
    return next(s for s in chart.series if s.label == "train")


class TestStepCurves:
    async def test_the_loss_is_plotted_before_the_first_epoch_ends(self, root, fake_trainer):
        fake_trainer.setenv("FAKE_TRAINER_HOLD", "1")  # never ends an epoch: no metrics line
        fake_trainer.setenv("FAKE_TRAINER_STEPS", "1")
        fake_trainer.setenv("FAKE_TRAINER_EPOCH_SECONDS", "30")  # 3 s a step: inside epoch 1 throughout
        app = FerApp(root=root, reattach=False)
        async with app.run_test(size=SIZE) as pilot:
            screen = await start_demo_run(pilot)
            loss = screen.query_one("#loss-chart", MetricChart)
            await wait_for(pilot, lambda: train_series(loss).xs, timeout=20)
            assert not rundir.read_metrics(screen.run_dir), "an epoch ended: the test proves nothing"
            xs = train_series(loss).xs
            assert 0 < xs[0] < 1, xs  # a fraction of epoch 1
            assert "waiting for the first" not in "\n".join(screen_text(app).splitlines()[:14])
            # the train accuracy rides on the accuracy chart, beside (no) validation points
            acc = screen.query_one("#acc-chart", MetricChart)
            assert train_series(acc).xs == xs

    async def test_the_stop_dialog_says_where_the_run_resumes(self, root, fake_trainer):
        fake_trainer.setenv("FAKE_TRAINER_HOLD", "1")
        fake_trainer.setenv("FAKE_TRAINER_EPOCH_SECONDS", "30")
        app = FerApp(root=root, reattach=False)
        async with app.run_test(size=SIZE) as pilot:
            screen = await start_demo_run(pilot)
            await wait_for(pilot, lambda: screen.state == "running" and screen.status.step >= 1, timeout=20)
            await pilot.press("s")
            dialog = await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen) and app.screen)
            # the step status.json said as the dialog opened (the heartbeat moves on meanwhile)
            assert re.search(r"now step [1-9]\d* of epoch \d+", dialog.question), dialog.question
            assert "resume continues from that step" in dialog.question
            await pilot.press("n")


class TestToldWhenItEnds:
    async def test_a_finished_run_is_a_toast_and_a_desktop_notification(self, root, fake_trainer):
        fake_trainer.setenv("FAKE_TRAINER_EPOCH_SECONDS", "0.1")
        sent: list[str] = []
        app = RecordingApp(root=root, reattach=False, desktop=sent.append)
        async with app.run_test(size=SIZE) as pilot:
            screen = await start_demo_run(pilot)
            await wait_for(pilot, lambda: screen.state == "finished", timeout=15)
            await wait_for(pilot, lambda: sent, timeout=5)
            assert sent[0].startswith("\x1b]9;fer-tui: run finished: ") and "\x1b]777;notify;" in sent[0]
            assert screen.run_dir.name in sent[0]
            assert any(screen.run_dir.name in m and "finished" in m for m in app.toasts), app.toasts
            await pilot.pause(1.5)
            assert len(sent) == 1, "told once"

    async def test_a_stopped_run_is_told_as_stopped(self, root, fake_trainer):
        fake_trainer.setenv("FAKE_TRAINER_HOLD", "1")
        sent: list[str] = []
        app = FerApp(root=root, reattach=False, desktop=sent.append)
        async with app.run_test(size=SIZE) as pilot:
            screen = await start_demo_run(pilot)
            await wait_for(pilot, lambda: screen.state == "running")
            await pilot.press("s")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            await pilot.press("y")
            await wait_for(pilot, lambda: sent, timeout=10)
            assert "run stopped" in sent[0]


class TestRunsFromAnywhere:
    async def test_the_runs_screen_toggles_to_every_folder(self, root, tmp_path, fake_trainer):
        elsewhere = tmp_path / "elsewhere"
        run_dir = rundir.create_run(fer_config.load_preset("demo").config, "demo", root=elsewhere)
        registry.register(run_dir)  # as its launch does
        app = FerApp(root=root, reattach=False)
        async with app.run_test(size=SIZE) as pilot:
            app.action_runs()
            await wait_for_screen(pilot, RunsScreen)
            await pilot.pause(0.2)
            assert run_dir.name not in screen_text(app)
            await pilot.press("a")
            await wait_for(pilot, lambda: run_dir.name[:20] in screen_text(app))
            assert "from every folder" in screen_text(app)

    async def test_a_dashboard_where_no_run_lives_opens_the_newest_live_one(self, root, tmp_path, fake_trainer):
        from fer_core.runs import launcher

        fake_trainer.setenv("FAKE_TRAINER_HOLD", "1")
        elsewhere = tmp_path / "elsewhere"
        run_dir = rundir.create_run(fer_config.load_preset("demo").config, "demo", root=elsewhere)
        launcher.launch_detached(run_dir)
        try:
            app = FerApp(root=root)  # reattach: nothing under root
            async with app.run_test(size=SIZE) as pilot:
                screen = await wait_for_screen(pilot, RunScreen)
                assert screen.run_dir == run_dir.resolve() or screen.run_dir == run_dir
                assert app.all_runs
        finally:
            pid = rundir.read_status(run_dir).pid
            if rundir.pid_alive(pid):
                os.killpg(pid, 9)
        assert registry.registered_runs()
