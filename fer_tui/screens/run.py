"""Run: live charts, progress, key facts and the log of one run; Stop and Resume."""

from __future__ import annotations

from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Header

from fer_core.errors import FerError
from fer_core.records import EpochRow, RunStatus, State
from fer_core.runs import launcher, rundir
from fer_tui.actions import Action, bindings
from fer_tui.format import best_point, series
from fer_tui.screens import host
from fer_tui.watch import RunWatch
from fer_tui.widgets.log_tail import LogTail
from fer_tui.widgets.metric_chart import MetricChart, Series
from fer_tui.widgets.run_facts import RunFacts
from fer_tui.widgets.run_progress import RunProgress

POLL_SECONDS = 0.5  # an epoch line shows within a second; a stat() per file per tick costs ~nothing


class RunScreen(Screen):
    ACTIONS = (
        Action("s", "stop", "Stop", "stop the run (asks first; it saves last_state.ckpt)", title="Stop run"),
        Action("u", "resume", "Resume", "resume a stopped or lost run from last_state.ckpt", title="Resume run"),
        Action("escape", "back", "Back", "back to the runs"),
    )
    BINDINGS = bindings(ACTIONS)

    def __init__(self, run_dir: Path) -> None:
        super().__init__()
        self.run_dir = Path(run_dir)
        self.changes = RunWatch(self.run_dir)
        self.tail = rundir.MetricsTail(self.run_dir / rundir.METRICS)
        self.status = RunStatus()  # nothing known yet: the state is `unknown`
        self.rows: list[EpochRow] = []
        self.state: State = "unknown"
        self.device, self.arch = "-", "-"

    def compose(self) -> ComposeResult:
        yield Header()
        yield RunFacts(id="facts")
        yield RunProgress(id="progress")
        with Horizontal(id="charts-top"):
            yield MetricChart("loss", id="loss-chart")
            yield MetricChart("val accuracy", percent=True, id="acc-chart")
        with Horizontal(id="charts-bottom"):
            yield MetricChart("learning rate", id="lr-chart")
            yield LogTail(id="log")
        yield Footer(compact=True)  # every key fits 80 columns

    def on_mount(self) -> None:
        self.sub_title = self.run_dir.name
        self.query_one("#log").border_title = "train.log"
        try:
            config = rundir.read_config(self.run_dir)
            self.device, self.arch = config.device_target, config.arch
        except FerError as error:
            self.notify(str(error), title="No config", severity="warning")
        self.poll()
        self.set_interval(POLL_SECONDS, self.poll)

    def poll(self) -> None:
        """Re-read only the files whose stat changed; the state is re-judged every tick."""
        changed = self.changes.poll()
        if rundir.STATUS in changed:
            self.status = rundir.read_status(self.run_dir) or RunStatus()
        state = rundir.effective_state(self.status)
        if rundir.METRICS in changed:
            self.rows = self.tail.poll()
            self.update_charts(self.rows)
        if changed & {rundir.STATUS, rundir.METRICS} or state != self.state:
            self.state = state
            live = state in rundir.LIVE_STATES
            self.query_one(RunFacts).show(self.status, state, self.device, self.arch, best_point(self.rows))
            self.query_one(RunProgress).show(self.status, live)
            self.set_class(live, "-live")
        if rundir.LOG in changed:
            self.query_one(LogTail).reload(self.run_dir / rundir.LOG)

    def update_charts(self, rows: list[EpochRow]) -> None:
        epochs, train_loss = series(rows, "train_loss")
        val_epochs, val_loss = series(rows, "val_loss")
        acc_epochs, val_acc = series(rows, "val_acc")
        lr_epochs, lr = series(rows, "lr")
        self.query_one("#loss-chart", MetricChart).set_data(
            [
                Series("train", tuple(epochs), tuple(train_loss), "cyan"),
                Series("val", tuple(val_epochs), tuple(val_loss), "magenta"),
            ]
        )
        self.query_one("#acc-chart", MetricChart).set_data(
            [Series("val acc", tuple(acc_epochs), tuple(val_acc), "green")], mark=best_point(rows)
        )
        self.query_one("#lr-chart", MetricChart).set_data([Series("lr", tuple(lr_epochs), tuple(lr), "yellow")])

    # ------------------------------------------------------------------ actions

    @work
    async def action_stop(self) -> None:
        from fer_tui.screens.confirm import ConfirmScreen

        if self.state not in rundir.LIVE_STATES:
            self.notify(f"the run is not live ({self.state})", severity="warning")
            return
        question = (
            f"Stop {self.run_dir.name}?\nThe trainer finishes its step, saves "
            f"last_state.ckpt and can be resumed later (u)."
        )
        if not await self.app.push_screen_wait(ConfirmScreen(question, yes="Stop")):
            return
        try:
            pid = launcher.stop_run(self.run_dir)
        except (FerError, OSError) as error:
            self.notify(str(error), title="Cannot stop", severity="error")
            return
        self.notify(f"asked pid {pid} to stop; it saves its state first", title="Stopping")

    def action_resume(self) -> None:
        try:
            pid = launcher.launch_detached(self.run_dir, resume=True)
        except (FerError, OSError) as error:
            self.notify(str(error), title="Cannot resume", severity="error")
            return
        self.notify(f"resumed (pid {pid})", title="Run resumed")
        self.poll()

    def action_back(self) -> None:
        host(self).action_runs()
