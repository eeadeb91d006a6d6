"""The checkpoints table: one row per .ckpt with its verdict in colour; marks for compare."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text

from fer_core.ckpt.listing import CheckpointInfo
from fer_core.ckpt.verdict import Verdict
from fer_core.runs.columns import accuracy_text
from fer_tui.format import fit, run_label, verdict_text
from fer_tui.widgets.keyed_table import KeyedTable

COLUMNS = (
    ("verdict", "verdict"),
    ("run", "run"),
    ("file", "file"),
    ("size", "size"),
    ("expected", "expected"),
    ("kind", "kind"),
    ("ep", "epoch"),
    ("acc", "val_acc"),
)  # 80 columns: the detail line under the table says "val acc"
RUN_WIDTH = 18  # run ids are long (20261127-153012-gpu-recommended): the date goes
FILE_WIDTH = 14  # without the .ckpt every file here has
KINDS = {"train_state": "state", "weights": "weights"}
MARKS = "AB"  # compare runs the first two marked: A and B


def size_text(size: int | None) -> str:
    """`246 KB`, `1.31 MB`, `44.9 MB`: three significant digits, so the column stays narrow."""
    if size is None:
        return "-"
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if size >= scale:
            value = size / scale
            return f"{value:.3g} {unit}" if value < 1000 else f"{value:.0f} {unit}"
    return f"{size} B"


def verdict_cell(verdict: Verdict, mark: str = "") -> Text:
    """`A ok`: the compare mark (A, B or blank) and the verdict's level in its colour."""
    return Text.assemble((mark or " ", "bold reverse" if mark else ""), " ", verdict_text(verdict, full=False))


def row_cells(info: CheckpointInfo, mark: str, verdict: Verdict) -> tuple:
    file = info.file[:-5] if info.file.endswith(".ckpt") else info.file
    run = run_label(info.run or info.path.parent.name, RUN_WIDTH)
    return (
        verdict_cell(verdict, mark),
        Text(run),  # a str cell would be read as markup
        Text(fit(file, FILE_WIDTH)),
        Text(size_text(info.size), justify="right"),
        Text(size_text(info.expected), justify="right"),
        KINDS.get(info.kind or "", info.kind or "-"),
        Text("-" if info.epoch is None else str(info.epoch), justify="right"),
        Text(accuracy_text(info.val_acc), justify="right"),  # two decimals, as every table
    )


class CkptTable(KeyedTable):
    """`show(infos)` rebuilds; verdicts from a deep check override the quick ones."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.infos: dict[str, CheckpointInfo] = {}
        self.verdicts: dict[str, Verdict] = {}  # deep-check verdicts, by path
        self.marked: list[str] = []  # in marking order, at most two

    def on_mount(self) -> None:
        for label, key in COLUMNS:
            self.add_column(label, key=key)

    def verdict(self, key: str) -> Verdict:
        return self.verdicts.get(key) or self.infos[key].verdict

    def mark_of(self, key: str) -> str:
        return MARKS[self.marked.index(key)] if key in self.marked else ""

    def show(self, infos: list[CheckpointInfo]) -> None:
        self.infos = {str(info.path): info for info in infos}
        self.marked = [key for key in self.marked if key in self.infos]
        self.refill([(key, row_cells(info, self.mark_of(key), self.verdict(key))) for key, info in self.infos.items()])

    def current_info(self) -> CheckpointInfo | None:
        key = self.current_key()
        return self.infos.get(key) if key else None

    def select(self, path: Path) -> bool:
        """Put the cursor on a checkpoint; False if it is not listed."""
        key = str(path)
        if key not in self.infos:
            return False
        self.move_cursor(row=self.get_row_index(key))
        return True

    def toggle_mark(self) -> None:
        """Mark/unmark the row under the cursor; a third mark replaces the oldest."""
        key = self.current_key()
        if key is None:
            return
        if key in self.marked:
            self.marked.remove(key)
        else:
            self.marked = (self.marked + [key])[-len(MARKS) :]
        self._redraw_marks()

    def _redraw_marks(self) -> None:
        for key in self.infos:
            self.update_cell(key, "verdict", verdict_cell(self.verdict(key), self.mark_of(key)))

    def marked_infos(self) -> list[CheckpointInfo]:
        return [self.infos[key] for key in self.marked]

    def set_verdict(self, path: Path, verdict: Verdict) -> None:
        key = str(path)
        if key in self.infos:
            self.verdicts[key] = verdict
            self.update_cell(key, "verdict", verdict_cell(verdict, self.mark_of(key)))
