"""Runs: every run under the checkpoints root (a: this user's runs from every folder), live
first; open, mark, compare, stop."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static

from fer_core.errors import FerError
from fer_core.runs import launcher
from fer_core.runs.columns import stop_keeps
from fer_tui.actions import Action, bindings
from fer_tui.format import short_path
from fer_tui.screens import host
from fer_tui.widgets.key_bar import KeyBar
from fer_tui.widgets.runs_table import RunsTable

POLL_SECONDS = 1.0


class RunsScreen(Screen):
    ACTIONS = (
        Action("enter", "open", "Open", "open (reattach to) the run", show=False),
        Action("space", "mark", "Mark", "mark/unmark for compare"),
        Action(
            "c", "compare", "Compare", "compare the marked runs (configs, val accuracy)", title="Compare marked runs"
        ),
        Action("s", "stop", "Stop", "stop the run under the cursor (asks first)", title="Stop run under cursor"),
        Action(
            "a",
            "toggle_all",
            "All",
            "this folder's runs / every run of this user, wherever it was started",
            title="Toggle runs from every folder",
            show=False,  # the footer is full at 80 columns; the hint line names `a`
        ),
        Action(
            "y",
            "copy_path",
            "Copy",
            "copy the path of the run under the cursor (terminal clipboard)",
            title="Copy run path",
            show=False,
        ),
        # off the footer, which is full at 80 columns (in ? and the palette; Train's ctrl+l says it)
        Action("u", "queue", "Queue", "the queue: runs waiting, running and done", title="Queue", show=False),
        Action(
            "l",
            "leaderboard",
            "Board",
            "leaderboard of the marked runs (else the cursor's sweep, else all)",
            title="Leaderboard",
        ),
    )
    BINDINGS = bindings(ACTIONS)

    def compose(self) -> ComposeResult:
        yield Header()
        yield RunsTable(id="runs-table")
        yield Static("", id="runs-hint")
        yield KeyBar()  # every key fits 80 columns

    def on_mount(self) -> None:
        self.sub_title = "Runs"
        self.refresh_runs()
        self.set_interval(POLL_SECONDS, self.refresh_runs)

    def refresh_runs(self) -> None:
        found = host(self).list_runs()
        host(self).ends.track(run.path for run in found if run.live)  # told when they end
        here = short_path(host(self).root)
        table = self.query_one(RunsTable)
        table.show(found, host(self).clock())
        live = sum(run.live for run in found)
        where = "from every folder" if host(self).all_runs else f"under {here}"
        if found:
            hint = f"{len(found)} run{'s' * (len(found) != 1)} {where}"
            hint += f", {live} live" if live else ""
        else:
            hint = f"no runs {where} yet: t opens Train"
        hint += f" (a: only {here})" if host(self).all_runs else " (a: every folder)"
        hint_widget = self.query_one("#runs-hint", Static)
        if str(hint_widget.content) != hint:
            hint_widget.update(hint)

    def action_toggle_all(self) -> None:
        host(self).all_runs = not host(self).all_runs
        self.refresh_runs()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open()

    def action_open(self) -> None:
        path = self.query_one(RunsTable).current_path()
        if path is not None:
            host(self).open_run(path)

    def action_mark(self) -> None:
        self.query_one(RunsTable).toggle_mark()

    def action_compare(self) -> None:
        marked = self.query_one(RunsTable).marked_paths()
        if len(marked) < 2:
            self.notify("mark two or more runs with space first", severity="warning")
            return
        from fer_tui.screens.compare import CompareScreen

        self.app.push_screen(CompareScreen(marked))

    def action_copy_path(self) -> None:
        from fer_tui.clipboard import copy_path

        copy_path(self.app, self.query_one(RunsTable).current_path(), "run")

    def action_queue(self) -> None:
        from fer_tui.screens.queue import QueueScreen

        self.app.push_screen(QueueScreen(host(self).root))

    def action_leaderboard(self) -> None:
        from fer_tui.screens.leaderboard import LeaderboardScreen, target

        table = self.query_one(RunsTable)
        paths, title = target(host(self).root, table.marked_paths(), table.current_path())
        self.app.push_screen(LeaderboardScreen(paths, title))

    @work
    async def action_stop(self) -> None:
        from fer_tui.screens.confirm import ConfirmScreen

        table = self.query_one(RunsTable)
        path = table.current_path()
        run = table.runs.get(str(path)) if path else None
        if run is None or not run.live:
            self.notify("the run under the cursor is not live", severity="warning")
            return
        if not await self.app.push_screen_wait(
            ConfirmScreen(f"Stop {run.run_id}?\n{stop_keeps(run.status)}", yes="Stop")
        ):
            return
        try:
            pid = launcher.stop_run(run.path)
        except (FerError, OSError) as error:
            self.notify(str(error), title="Cannot stop", severity="error")
            return
        self.notify(f"asked pid {pid} to stop", title="Stopping")
