"""Leaderboard: one row per setting of a set of runs (mean ± std over seeds), best first."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static

from fer_core.runs import leaderboard
from fer_tui.actions import Action, bindings
from fer_tui.widgets.key_bar import KeyBar

POLL_SECONDS = 5.0  # a sweep's runs end minutes apart


class LeaderboardScreen(Screen):
    ACTIONS = (
        Action("m", "copy_markdown", "Markdown", "copy the table as Markdown", title="Copy leaderboard as Markdown"),
        Action("escape", "back", "Back", "back to the runs"),
    )
    BINDINGS = bindings(ACTIONS)

    def __init__(self, paths: list[Path], title: str) -> None:
        """`paths`: run folders or folders of runs (a sweep, the root)."""
        super().__init__()
        self.paths = [Path(p) for p in paths]
        self.title_text = title
        self.board: leaderboard.Leaderboard | None = None
        self._shown: tuple[list[str], list[list[str]]] | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="board-caption")
        yield DataTable(id="board-table", cursor_type="row", zebra_stripes=True)
        yield KeyBar()

    def on_mount(self) -> None:
        self.sub_title = f"Leaderboard · {self.title_text}"
        self.rebuild()
        self.set_interval(POLL_SECONDS, self.rebuild)

    def rebuild(self) -> None:
        """Read the runs in a thread: a root of a thousand runs takes a moment to read."""
        self.run_worker(self._build, thread=True, exclusive=True, group="leaderboard")

    def _build(self) -> None:
        board = leaderboard.build(leaderboard.runs_of(self.paths))
        self.app.call_from_thread(self.show_board, board)

    def show_board(self, board: leaderboard.Leaderboard) -> None:
        self.board = board
        head = leaderboard.headers(board)
        rows = [leaderboard.cells(board, row) for row in board.rows]
        if (head, rows) == self._shown:
            return
        self._shown = (head, rows)
        table = self.query_one(DataTable)
        table.clear(columns=True)
        for n, name in enumerate(head):
            table.add_column(name, key=f"c{n}")
        setting = len(board.columns)
        for row in rows:
            table.add_row(*(Text(c, justify="left" if i < setting else "right") for i, c in enumerate(row)))
        if board.rows:
            caption = leaderboard.caption(board)
        else:
            caption = "; ".join(["no run here has a val accuracy yet", *leaderboard.left_out_notes(board)])
        self.query_one("#board-caption", Static).update(Text(caption, no_wrap=False))  # escaped where built

    def action_copy_markdown(self) -> None:
        if self.board is None or not self.board.rows:
            self.notify("nothing to copy yet", severity="warning")
            return
        self.app.copy_to_clipboard(leaderboard.render_markdown(self.board))
        self.notify("the leaderboard is on the clipboard as Markdown", title="Copied")

    def action_back(self) -> None:
        self.app.pop_screen()


def target(root: Path, marked: list[Path], cursor: Path | None) -> tuple[list[Path], str]:
    """What `l` on Runs ranks: the marked runs; else the sweep the cursor's run belongs to;
    else every run under the root."""
    if marked:
        return marked, f"{len(marked)} marked runs"
    if cursor is not None and (cursor.parent / "sweep.toml").exists():
        return [cursor.parent], f"sweep {cursor.parent.name}"
    return [root], "every run"
