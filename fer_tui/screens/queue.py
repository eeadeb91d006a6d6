"""Queue: the runs waiting, running and done in this root's queue, and its runner."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static

from fer_core.errors import FerError
from fer_core.queue import runner
from fer_core.queue.entries import Queue, QueueEntry
from fer_core.runs.columns import epoch_text
from fer_core.table import shorten
from fer_tui.actions import Action, bindings
from fer_tui.format import STATE_STYLES, percent, short_path
from fer_tui.screens import host
from fer_tui.widgets.key_bar import KeyBar
from fer_tui.widgets.keyed_table import KeyedTable

POLL_SECONDS = 1.0
# fixed widths that fit 80 columns with every column in view (a table sized by its content
# widened for a live run's `0/2` and never narrowed, pushing `best` out of sight)
COLUMNS = {"#": 3, "state": 9, "preset": 12, "setting": 18, "run": 17, "best": 7}
# an entry is in a run state, or in one only the queue has
ENTRY_STYLES: dict[str, str] = {
    **{state: style for state, style in STATE_STYLES.items()},
    "queued": "",
    "cancelled": "yellow",
}


def entry_cells(entry: QueueEntry) -> tuple:
    status = entry.run_status()
    run = "-"
    if entry.run_dir:
        live = f" {epoch_text(status)}" if entry.state == "running" and status is not None else ""
        run = shorten(Path(entry.run_dir).name, COLUMNS["run"] - len(live), "run") + live
    return (
        str(entry.id),
        Text(entry.state, style=ENTRY_STYLES.get(entry.state, "")),
        entry.preset,
        Text(entry.label or "-", no_wrap=True, overflow="ellipsis"),
        run,
        percent(status.best_val_acc if status else None),
    )


class QueueScreen(Screen):
    ACTIONS = (
        Action("enter", "open", "Open", "open the entry's run", show=False),
        Action(
            "g", "start_runner", "Start", "start the queue's runner (if it is not working)", title="Start the queue"
        ),
        Action("x", "stop_runner", "Stop", "stop the runner after its current run", title="Stop the queue"),
        Action("delete", "remove", "Remove", "remove the entry under the cursor (asks first)", title="Remove entry"),
        Action("escape", "back", "Back", "back to the runs", show=False),  # the footer fits 80 columns
    )
    BINDINGS = bindings(ACTIONS)

    def __init__(self, root: Path) -> None:
        super().__init__()
        self.queue = Queue.of_root(root)
        self._shown: list = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="queue-runner")
        yield KeyedTable(id="queue-table")
        yield Static("", id="queue-detail")
        yield KeyBar()

    def on_mount(self) -> None:
        self.sub_title = "Queue"
        table = self.query_one(KeyedTable)
        for column, width in COLUMNS.items():
            table.add_column(column, key=column, width=width)
        self.refresh_queue()
        self.set_interval(POLL_SECONDS, self.refresh_queue)

    def runner_text(self) -> str:
        try:
            pid = runner.runner_pid(self.queue, wait=0)
        except FerError:
            return "runner: starting"
        entries = self.queue.entries()
        waiting = sum(e.state == "queued" for e in entries)
        head = f"runner: working (pid {pid})" if pid else "runner: not running (g starts it)"
        return f"{head} · {waiting} queued of {len(entries)} · {short_path(self.queue.folder)}"

    def refresh_queue(self) -> None:
        entries = [e for e in self.queue.entries() if e.state != "queued"] + self.queue.waiting()
        rows = [(str(e.id), entry_cells(e)) for e in entries]
        plain = [(key, tuple(str(c) for c in cells)) for key, cells in rows]
        if plain != self._shown:
            self._shown = plain
            self.query_one(KeyedTable).refill(rows)
            self.show_detail()
        text = self.runner_text()
        hint = self.query_one("#queue-runner", Static)
        if str(hint.content) != text:
            hint.update(text)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_detail()

    def show_detail(self) -> None:
        """Under the table: why the entry under the cursor failed, else where its run is."""
        entry = self.current()
        text = Text(no_wrap=True, overflow="ellipsis")
        if entry is not None:
            text.append(f"#{entry.id} ", style="bold")
            if entry.message:
                text.append(entry.message, style="red" if entry.state == "failed" else "")
            else:
                text.append(short_path(Path(entry.run_dir)) if entry.run_dir else f"{entry.state}: {entry.label}")
        self.query_one("#queue-detail", Static).update(text)

    def current(self) -> QueueEntry | None:
        key = self.query_one(KeyedTable).current_key()
        try:
            return self.queue.get(int(key)) if key else None
        except FerError:
            return None

    def action_open(self) -> None:
        entry = self.current()
        if entry is not None and entry.run_dir:
            host(self).open_run(Path(entry.run_dir))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open()

    def action_start_runner(self) -> None:
        try:
            pid, started = runner.start_runner(self.queue)
        except (FerError, OSError) as error:
            self.notify(str(error), title="Cannot start", severity="error")
            return
        self.notify(f"runner pid {pid} {'started' if started else 'already works the queue'}", title="Queue")
        self.refresh_queue()

    def action_stop_runner(self) -> None:
        pid = runner.request_stop(self.queue)
        if pid is None:
            self.notify("no runner works this queue", severity="warning")
        else:
            self.notify(f"runner pid {pid} ends after its current run", title="Queue")

    @work
    async def action_remove(self) -> None:
        from fer_tui.screens.confirm import ConfirmScreen

        entry = self.current()
        if entry is None:
            return
        if not await self.app.push_screen_wait(
            ConfirmScreen(f"Remove #{entry.id} from the queue?\nIts run folder, if any, stays.", yes="Remove")
        ):
            return
        try:
            self.queue.remove(entry.id)
        except (FerError, OSError) as error:
            self.notify(str(error), title="Cannot remove", severity="error")
            return
        self.refresh_queue()

    def action_back(self) -> None:
        self.app.pop_screen()
