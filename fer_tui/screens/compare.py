"""Compare: val-accuracy curves overlaid, per-class recall/precision at each run's best epoch and
the configs side by side, differences marked."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static

from fer_core.config import FIELDS
from fer_core.errors import FerError
from fer_core.runs import rundir
from fer_core.text import shown
from fer_tui.actions import Action, bindings
from fer_tui.format import best_point, differing_fields, number, percent, series
from fer_tui.widgets.key_bar import KeyBar
from fer_tui.widgets.metric_chart import MetricChart, Series
from fer_tui.widgets.per_class import compare_table, reference_row

COLORS = ("cyan", "magenta", "green", "yellow", "red", "blue")
LETTERS = "ABCDEF"
POLL_SECONDS = 2.0
PRECISION_RUNS = 2  # beyond two runs only recall fits beside the chart at 80 columns


FIELD_WIDTH = 17  # "≠ label_smoothing", the longest field with its mark


def run_column_width(screen_width: int, runs: int) -> int:
    """The width each run's column gets: the screen less the border, scrollbar, field column
    and the cells' padding, shared evenly (at least 8)."""
    free = screen_width - 4 - (FIELD_WIDTH + 2) - 2 * runs
    return max(8, free // max(1, runs))


def tail(text: str, width: int) -> str:
    """`…/fer2013-dev.csv.gz`: a value too wide keeps its end, where a path's file name is."""
    return text if len(text) <= width else "…" + text[-(width - 1) :]


class CompareScreen(Screen):
    ACTIONS = (
        Action("d", "toggle_diff", "Only diffs", "only the config fields that differ", title="Only differences"),
        Action("escape", "back", "Back", "back to the runs"),
    )
    BINDINGS = bindings(ACTIONS)

    def __init__(self, run_dirs: list[Path]) -> None:
        super().__init__()
        self.run_dirs = [Path(p) for p in run_dirs][: len(LETTERS)]
        self.tails = [rundir.MetricsTail(p / rundir.METRICS) for p in self.run_dirs]
        self.configs: list[dict] = []
        self.only_diffs = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="legend")
        with Horizontal(id="compare-top"):
            yield MetricChart("val accuracy", percent=True, id="compare-chart")
            yield Static("", id="compare-classes")
        yield DataTable(id="compare-table", cursor_type="row", zebra_stripes=True)
        yield KeyBar()  # every key fits 80 columns

    def on_mount(self) -> None:
        self.sub_title = f"Compare {len(self.run_dirs)} runs"
        self.query_one("#compare-classes").border_title = "per class at best epoch (%)"
        for path in self.run_dirs:
            try:
                self.configs.append(rundir.read_config(path).model_dump())
            except FerError as error:
                self.notify(str(error), severity="error")
                self.configs.append({})
        self.fill_table()
        self.poll()
        self.set_interval(POLL_SECONDS, self.poll)

    def poll(self) -> None:
        lines, legend = [], Text(no_wrap=True, overflow="ellipsis")
        per_class = []
        for index, (path, tail) in enumerate(zip(self.run_dirs, self.tails)):
            rows = tail.poll()
            reference = reference_row(rows)
            per_class.append((LETTERS[index], COLORS[index], reference))
            xs, ys = series(rows, "val_acc")
            lines.append(Series(LETTERS[index], tuple(xs), tuple(ys), COLORS[index]))
            best = best_point(rows)
            if index:
                legend.append("\n")
            # what the letter stands for, and the epoch of its best (the per-class columns' epoch)
            legend.append(f"{LETTERS[index]} ", style=f"bold {COLORS[index]}")
            legend.append(f"{shown(path.name)}  best {percent(best[1] if best else None)}")
            if best:
                legend.append(f" @{best[0]}")
            if reference and best and reference.epoch != best[0]:  # its best epoch has no per-class figures
                legend.append(f" · per class @{reference.epoch}")
        self.query_one(MetricChart).set_data(lines)
        self.show_classes(per_class)
        legend_widget = self.query_one("#legend", Static)
        if str(legend_widget.content) != legend.plain:
            legend_widget.update(legend)

    def show_classes(self, runs: list) -> None:
        """Recall (and precision, for up to PRECISION_RUNS runs) per class, run by run."""
        widget = self.query_one("#compare-classes", Static)
        if not any(row for _, _, row in runs):
            widget.display = False  # runs from before per-class figures were recorded
            return
        widget.display = True
        key = [(letter, row.epoch if row else None) for letter, _, row in runs]
        if key != getattr(self, "_classes_key", None):
            self._classes_key = key
            widget.update(compare_table(runs, precision=len(runs) <= PRECISION_RUNS))

    def fill_table(self) -> None:
        table = self.query_one(DataTable)
        table.clear(columns=True)
        table.add_column("field", key="field", width=FIELD_WIDTH)
        # every run's column in view at 80 columns: a long value (a data path) shows its end
        width = run_column_width(self.size.width or 80, len(self.run_dirs))
        for index in range(len(self.run_dirs)):
            table.add_column(LETTERS[index], key=LETTERS[index], width=width)
        different = differing_fields(self.configs)
        for name in FIELDS:
            if self.only_diffs and name not in different:
                continue
            style = "bold yellow" if name in different else ""
            cells = [Text(("≠ " if name in different else "  ") + name, style=style)]
            cells += [Text(tail(number(c.get(name, "-")), width), style=style) for c in self.configs]
            table.add_row(*cells, key=name)
        if self.only_diffs and not different:  # an empty box would look like a failure to load
            table.add_row(Text("  none differ", style="dim"), *[""] * len(self.configs), key="none")
        table.border_title = f"config: {len(different)} of {len(FIELDS)} fields differ"

    def on_resize(self) -> None:
        if self.configs:
            self.fill_table()

    def action_toggle_diff(self) -> None:
        self.only_diffs = not self.only_diffs
        self.fill_table()

    def action_back(self) -> None:
        self.app.pop_screen()
