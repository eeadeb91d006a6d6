"""Run: live charts, progress, key facts and the log of one run; Stop and Resume."""

from __future__ import annotations

from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Header

from fer_core.config import TrainConfig
from fer_core.errors import FerError
from fer_core.records import EpochRow, RunStatus, State, StepRow
from fer_core.runs import launcher, rundir
from fer_core.runs.columns import stop_keeps
from fer_core.text import shown
from fer_tui.actions import Action, bindings
from fer_tui.format import best_point, series
from fer_tui.screens import host, key_hint
from fer_tui.watch import RunWatch
from fer_tui.widgets.diagnosis_list import DiagnosisList
from fer_tui.widgets.key_bar import KeyBar
from fer_tui.widgets.log_view import LogPanel
from fer_tui.widgets.metric_chart import MetricChart, Series
from fer_tui.widgets.per_class import Confusions, PerClassTable
from fer_tui.widgets.run_facts import RunFacts, facts_text, message_text
from fer_tui.widgets.run_progress import RunProgress

POLL_SECONDS = 0.5  # an epoch line shows within a second; a stat() per file per tick costs ~nothing
MAX_STEP_POINTS = 400  # a long run's step lines are thinned to this many for the charts


def thinned(rows: list[StepRow], limit: int = MAX_STEP_POINTS) -> list[StepRow]:
    """At most `limit` rows, evenly spaced, the newest always kept."""
    if len(rows) <= limit:
        return rows
    stride = -(-len(rows) // limit)
    return rows[-1::-stride][::-1]


def epoch_series(rows: list[EpochRow], metric: str) -> tuple[tuple[float, ...], tuple[float, ...]]:
    xs, ys = series(rows, metric)
    return tuple(xs), tuple(ys)


def step_series(rows: list[StepRow], metric: str) -> tuple[tuple[float, ...], tuple[float, ...]]:
    kept = [(row.x, value) for row in rows if (value := getattr(row, metric)) is not None]
    return tuple(x for x, _ in kept), tuple(v for _, v in kept)


class RunScreen(Screen):
    ACTIONS = (
        Action(
            "s", "stop", "Stop", "stop the run after its step (asks first; it saves last_state.ckpt)", title="Stop run"
        ),
        Action("u", "resume", "Resume", "resume a stopped or lost run at the step it saved", title="Resume run"),
        Action("escape", "back", "Back", "back to the runs"),
        Action("v", "next_view", "View", "next view: charts → per class + diagnosis → whole log", title="Next view"),
        Action(
            "c",
            "toggle_classes",
            "Classes",
            "per-class recall/precision, largest confusions and the diagnosis (again: charts)",
            title="Per-class results and diagnosis",
            show=False,
        ),
        Action("l", "toggle_log", "Log", "the whole train.log (again: charts)", title="Full log", show=False),
        Action("slash", "search_log", "Search", "search train.log", title="Search the log", show=False),
        Action("n", "next_match", "Next", "next match in train.log", show=False),
        Action("N", "previous_match", "Previous", "previous match in train.log", show=False),
        Action(
            "f",
            "apply_remedy",
            "Fix",
            "fill the Train form with this run's config + the highlighted finding's remedy",
            title="Apply the diagnosis' remedy",
            show=False,
        ),
        Action("y", "copy_path", "Copy", "copy the run's path (terminal clipboard)", title="Copy run path", show=False),
    )
    BINDINGS = bindings(ACTIONS)

    def __init__(self, run_dir: Path) -> None:
        super().__init__()
        self.run_dir = Path(run_dir)
        self.changes = RunWatch(self.run_dir)
        self.tail = rundir.MetricsTail(self.run_dir / rundir.METRICS)
        self.steps_tail = rundir.StepsTail(self.run_dir / rundir.STEPS)
        self.status = RunStatus()  # nothing known yet: the state is `unknown`
        self.rows: list[EpochRow] = []
        self.step_rows: list[StepRow] = []
        self.state: State = "unknown"
        self.problem = ""  # why status.json does not read ('' when it does)
        self.damage_told = False  # metrics.jsonl's unreadable lines were notified
        self.device, self.arch = "-", "-"
        self.config: TrainConfig | None = None
        self.rules: set[str] | None = None  # the findings' rules as last shown (None: not yet)

    def compose(self) -> ComposeResult:
        yield Header()
        yield RunFacts(id="facts")
        yield RunProgress(id="progress")
        with Horizontal(id="charts-top"):
            yield MetricChart("loss", id="loss-chart")
            yield MetricChart("accuracy", percent=True, id="acc-chart")
        with Horizontal(id="charts-bottom"):
            yield MetricChart("learning rate", id="lr-chart")
            yield LogPanel(id="log")
        # the per-class view (c): shown in place of the charts
        with Vertical(id="insight"):
            with Horizontal(id="insight-top"):
                yield PerClassTable(id="per-class")
                yield Confusions(id="confusions")
            yield DiagnosisList(id="diagnosis")
        yield KeyBar()  # every key fits 80 columns

    def on_mount(self) -> None:
        self.sub_title = shown(self.run_dir.name)
        self.query_one("#log").border_title = "train.log"
        self.query_one("#confusions").border_title = "largest confusions"
        self.query_one("#diagnosis").border_title = "diagnosis"
        try:
            config = rundir.read_config(self.run_dir)
            self.config = config
            self.device, self.arch = config.device_target, config.arch
        except FerError as error:
            self.notify(str(error), title="No config", severity="warning")
        self.poll()
        self.set_interval(POLL_SECONDS, self.poll)

    def poll(self) -> None:
        """Re-read only the files whose stat changed; the state is re-judged every tick."""
        changed = self.changes.poll()
        if rundir.STATUS in changed:
            try:
                self.status, self.problem = rundir.load_status(self.run_dir) or RunStatus(), ""
            except FerError as error:  # damaged: said under the facts, the state `unreadable`
                self.status, self.problem = RunStatus(message=str(error)), str(error)
        state: State = "unreadable" if self.problem else rundir.effective_state(self.status)
        if rundir.METRICS in changed:
            self.rows = self.tail.poll()
            damage = self.tail.damage()
            if damage and not self.damage_told:  # once: the charts leave those lines out
                self.damage_told = True
                self.notify(shown(damage), title="metrics.jsonl", severity="warning", markup=False)
        if rundir.STEPS in changed:
            self.step_rows = list(self.steps_tail.poll())
        if changed & {rundir.METRICS, rundir.STEPS}:
            self.update_charts(self.rows, thinned(self.step_rows))
        if rundir.METRICS in changed:
            self.update_insight(self.rows)
        if changed & {rundir.STATUS, rundir.METRICS} or state != self.state:
            if state != self.state:
                self.refresh_bindings()  # Stop only while live, Resume only when resumable
            self.state = state
            live = state in rundir.LIVE_STATES
            if live:  # told when it ends, wherever the user is by then
                host(self).ends.track([self.run_dir])
            empty = "waiting for the first steps" if live else f"{state}: no epoch finished"
            for chart in self.query(MetricChart):
                chart.say_when_empty(empty)
            patience = self.config.patience if self.config else None
            facts = facts_text(self.status, state, self.device, self.arch, best_point(self.rows), patience)
            self.query_one(RunFacts).show(facts, message_text(self.status, state))
            self.query_one(RunProgress).show(self.status, live)
            self.set_class(live, "-live")
        if rundir.LOG in changed:
            self.query_one(LogPanel).reload(self.run_dir / rundir.LOG)

    def update_charts(self, rows: list[EpochRow], steps: list[StepRow] | None = None) -> None:
        """Epoch rows at whole x (epoch n ends at x = n); step rows, where the run has them, draw
        the training curves inside the epochs on the same axes (x in epochs, fractional)."""
        if steps:
            train_loss, train_acc, lr = (step_series(steps, name) for name in ("loss", "acc", "lr"))
        else:  # a run from before steps.jsonl: one point per epoch
            train_loss, lr = (epoch_series(rows, name) for name in ("train_loss", "lr"))
            train_acc = ((), ())
        val_epochs, val_loss = series(rows, "val_loss")
        acc_epochs, val_acc = series(rows, "val_acc")
        self.query_one("#loss-chart", MetricChart).set_data(
            [Series("train", *train_loss, "cyan"), Series("val", tuple(val_epochs), tuple(val_loss), "magenta")]
        )
        acc = [Series("val", tuple(acc_epochs), tuple(val_acc), "green")]
        if train_acc[0]:
            acc.insert(0, Series("train", *train_acc, "cyan"))
        self.query_one("#acc-chart", MetricChart).set_data(acc, mark=best_point(rows))
        self.query_one("#lr-chart", MetricChart).set_data([Series("lr", *lr, "yellow")])

    def update_insight(self, rows: list[EpochRow]) -> None:
        """The per-class table, the largest confusions and the diagnosis, after each epoch. A
        finding that appears while the screen is open is announced; the title names the worst."""
        from fer_core.diagnose import diagnose

        self.query_one(PerClassTable).show(rows)
        self.query_one(Confusions).show(rows)
        findings = diagnose(rows, self.config)
        self.query_one(DiagnosisList).show(findings, len(rows))
        # the key that applies a remedy, only when there is one to apply
        fix = f" · {key_hint(self, 'apply_remedy')}: train with the remedy" if any(f.remedy for f in findings) else ""
        self.query_one(DiagnosisList).border_title = f"diagnosis{fix}"
        rules = {f.rule for f in findings}
        shows = key_hint(self, "toggle_classes")
        if self.rules is not None:
            for finding in findings:
                if finding.rule not in self.rules:
                    self.notify(f"{finding.title}: {shows} shows why and the remedy", title="Diagnosis", markup=False)
        self.rules = rules
        more = f" +{len(findings) - 1}" if len(findings) > 1 else ""
        self.sub_title = self.run_dir.name + (f" · {findings[0].title}{more} ({shows})" if findings else "")

    def show_view(self, view: str) -> None:
        """charts (the default), classes or log: one CSS class on the screen picks the panels."""
        for name in ("classes", "log"):
            self.set_class(view == name, f"-{name}")
        if view == "classes":
            self.query_one(DiagnosisList).focus()
        elif view == "log":
            self.query_one(LogPanel).view.focus()
        else:
            self.set_focus(None)

    # ------------------------------------------------------------------ actions

    def action_next_view(self) -> None:
        views = ("charts", "classes", "log")
        now = next((v for v in views[1:] if self.has_class(f"-{v}")), "charts")
        self.show_view(views[(views.index(now) + 1) % len(views)])

    def action_toggle_classes(self) -> None:
        self.show_view("charts" if self.has_class("-classes") else "classes")

    def action_toggle_log(self) -> None:
        self.show_view("charts" if self.has_class("-log") else "log")

    def action_search_log(self) -> None:
        if not self.has_class("-log"):
            self.show_view("log")
        self.query_one(LogPanel).open_search()

    def action_next_match(self) -> None:
        self.query_one(LogPanel).next_match()

    def action_previous_match(self) -> None:
        self.query_one(LogPanel).next_match(backward=True)

    def action_copy_path(self) -> None:
        from fer_tui.clipboard import copy_path

        copy_path(self.app, self.run_dir, "run")

    async def action_apply_remedy(self) -> None:
        from fer_core.diagnose import apply_remedy

        finding = self.query_one(DiagnosisList).chosen
        if finding is None:
            # the diagnosis on screen already says there is nothing: no pointer to it then
            shown_here = self.has_class("-classes")
            where = "" if shown_here else f" ({key_hint(self, 'toggle_classes')} shows the diagnosis)"
            self.notify(f"nothing to act on: the diagnosis has no finding{where}", severity="warning")
            return
        if not finding.remedy:
            self.notify(f"{finding.title}: no remedy to apply", severity="warning", markup=False)
            return
        if self.config is None:
            self.notify("this run has no readable config.toml to start from", severity="error")
            return
        await self.app.switch_mode("train")
        from fer_tui.screens.train import TrainScreen

        train = self.app.screen
        if isinstance(train, TrainScreen):
            origin = f"{self.run_dir.name} + {finding.title}"
            train.fill(self.config, apply_remedy(self.config, finding), self.status.preset or "custom", origin)
            self.notify(f"{finding.remedy_text()}: check the form, then ctrl+s", title="Remedy applied", markup=False)

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        """A finished run offers neither Stop nor Resume: off the footer and the palette."""
        if action == "stop":
            return self.state in rundir.LIVE_STATES
        if action == "resume":
            return self.state in rundir.RESUMABLE_STATES
        return True

    @work
    async def action_stop(self) -> None:
        from fer_tui.screens.confirm import ConfirmScreen

        if self.state not in rundir.LIVE_STATES:
            self.notify(f"the run is not live ({self.state})", severity="warning")
            return
        question = f"Stop {self.run_dir.name}?\n{stop_keeps(self.status)} Resume with u."
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
