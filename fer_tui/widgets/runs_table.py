"""The runs table: live runs first, marks for compare, redrawn only when a row changes."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text

from fer_core.runs.columns import (
    BEST_HEADER,
    EPOCH_HEADER,
    STEP_HEADER,
    UPDATED_HEADER,
    accuracy_text,
    epoch_text,
    step_text,
    updated_text,
)
from fer_core.runs.rundir import RunInfo
from fer_core.text import shown
from fer_tui.format import STATE_STYLES
from fer_tui.widgets.keyed_table import KeyedTable

COLUMNS = ("", "run", "state", EPOCH_HEADER, STEP_HEADER, BEST_HEADER, UPDATED_HEADER)  # as `fer-tui runs` says


def row_cells(run: RunInfo, marked: bool, now: float) -> tuple:
    status = run.status
    state = Text(("● " if run.live else "  ") + run.state.replace("_", " "), style=STATE_STYLES.get(run.state, ""))
    return (
        Text("✓" if marked else " ", style="bold"),
        Text(shown(run.run_id)),  # a str cell would be read as markup
        state,
        epoch_text(status, run.state),
        step_text(status, run.state),
        accuracy_text(status.best_val_acc),
        updated_text(status, now),
    )


class RunsTable(KeyedTable):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.runs: dict[str, RunInfo] = {}
        self.marked: set[str] = set()
        self._shown: list[tuple[str, tuple]] = []

    def on_mount(self) -> None:
        for column in COLUMNS:
            self.add_column(column, key=column or "mark")

    def show(self, found: list[RunInfo], now: float) -> None:
        """Rebuild only if some cell text changed; the cursor stays on the same run."""
        self.runs = {str(run.path): run for run in found}
        self.marked &= set(self.runs)
        rows = [(key, row_cells(run, key in self.marked, now)) for key, run in self.runs.items()]
        plain = [(key, tuple(str(c) for c in cells)) for key, cells in rows]
        if plain == self._shown:
            return
        self._shown = plain
        self.refill(rows)

    def current_path(self) -> Path | None:
        key = self.current_key()
        return Path(key) if key else None

    def toggle_mark(self) -> None:
        key = self.current_key()
        if key is None:
            return
        self.marked ^= {key}
        self.update_cell(key, "mark", Text("✓" if key in self.marked else " ", style="bold"))
        self._shown = [(k, (("✓" if k in self.marked else " "),) + cells[1:]) for k, cells in self._shown]

    def marked_paths(self) -> list[Path]:
        return [Path(key) for key in self.runs if key in self.marked]
