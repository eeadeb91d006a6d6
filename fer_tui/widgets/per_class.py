"""Per-class results of a run's validation: recall and precision per class with the change since
the previous epoch, the largest confusions ("fear → sad 110"), and the same table for several
runs side by side (Compare). Everything is derived from the epoch rows' confusion matrices."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from fer_core import CLASS_NAMES
from fer_core.records import EpochRow

CONFUSIONS = 3  # how many of the largest confusions are named


def with_confusion(rows: Sequence[EpochRow]) -> list[EpochRow]:
    return [row for row in rows if row.confusion]


def share(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}"


def change(now: float | None, before: float | None) -> Text:
    """The change in points, green up, red down ('' when either side is unknown)."""
    if now is None or before is None:
        return Text("")
    points = 100 * (now - before)
    style = "green" if points >= 0.05 else "red" if points <= -0.05 else "dim"
    return Text(f"{points:+.1f}", style=style)


def per_class_table(rows: Sequence[EpochRow]) -> Table | Text:
    """The last epoch's recall and precision per class (%), each with its change since the epoch
    before, and the faces of each class."""
    judged = with_confusion(rows)
    if not judged:
        return Text("no per-class figures yet (they come with each epoch's validation)", style="dim")
    last = judged[-1]
    before = judged[-2] if len(judged) > 1 else None
    table = Table(box=None, padding=(0, 1), pad_edge=False, expand=False, header_style="bold")
    table.add_column("class")
    for title in ("recall", "Δ", "prec.", "Δ", "faces"):
        table.add_column(title, justify="right")
    for k, name in enumerate(CLASS_NAMES):
        recall, precision = (last.recall or [])[k], (last.precision or [])[k]
        style = "red" if recall is not None and recall < 0.5 else ""
        table.add_row(
            Text(name, style=style),
            Text(share(recall), style=style),
            change(recall, (before.recall or [])[k] if before else None),
            share(precision),
            change(precision, (before.precision or [])[k] if before else None),
            str((last.support or [])[k]),
        )
    return table


def confusions_text(rows: Sequence[EpochRow], count: int = CONFUSIONS) -> Text:
    """The largest confusions of the last epoch, one a line: `fear → sad 110 · 22%` (the share is
    of the true class's faces)."""
    judged = with_confusion(rows)
    if not judged:
        return Text("-", style="dim")
    last = judged[-1]
    support = last.support or []
    text = Text(no_wrap=True, overflow="ellipsis")
    for n, (true, guess, faces) in enumerate(last.top_confusions(count)):
        if n:
            text.append("\n")
        text.append(f"{CLASS_NAMES[true]} → {CLASS_NAMES[guess]} ", style="bold")
        text.append(f"{faces}")
        text.append(f" · {faces / max(1, support[true]):.0%}", style="dim")  # of the true class's faces
    return text or Text("none", style="dim")


def reference_row(rows: Sequence[EpochRow]) -> EpochRow | None:
    """The row a run is compared by: its best epoch's (the one best_model.ckpt keeps), else its last."""
    judged = with_confusion(rows)
    best = [row for row in judged if row.is_best]
    return best[-1] if best else judged[-1] if judged else None


def compare_table(runs: Sequence[tuple[str, str, EpochRow | None]], precision: bool = True) -> Table:
    """Recall (and precision) per class of several runs side by side: (letter, colour, row)."""
    table = Table(box=None, padding=(0, 1), pad_edge=False, header_style="bold")
    table.add_column("class")
    for letter, color, _ in runs:  # the epoch each run's figures are from is in the legend
        table.add_column(Text(f"{letter} recall", style=f"bold {color}"), justify="right")
        if precision:
            table.add_column(Text(f"{letter} prec", style=color), justify="right")
    for k, name in enumerate(CLASS_NAMES):
        recalls = [(row.recall or [])[k] if row else None for _, _, row in runs]
        known = [r for r in recalls if r is not None]
        top = max(known) if len(known) > 1 else None
        cells: list[Text | str] = [name]
        for recall, (_, _, row) in zip(recalls, runs):
            cells.append(Text(share(recall), style="bold green" if recall is not None and recall == top else ""))
            if precision:
                cells.append(share((row.precision or [])[k] if row else None))
        table.add_row(*cells)
    return table


class PerClassTable(Static):
    """The Run screen's per-class table; `show(rows)` after every new epoch."""

    def show(self, rows: Sequence[EpochRow]) -> None:
        judged = with_confusion(rows)
        self.border_title = f"per class · epoch {judged[-1].epoch}" if judged else "per class"
        self.update(per_class_table(rows))


MATRIX_WIDTH = 9 + 7 * 6  # the whole matrix fits from this many columns (120-column terminals)


def matrix_table(row: EpochRow, marked: Sequence[tuple[int, int, int]]) -> Table:
    """The confusion matrix (rows true, columns predicted), the diagonal dim and the `marked`
    cells (the largest confusions) bold red."""
    table = Table(box=None, padding=(0, 0, 0, 1), pad_edge=False, header_style="bold")
    table.add_column(r"true\pred", no_wrap=True)
    for name in CLASS_NAMES:
        table.add_column(name[:5], justify="right")
    cells = {(true, guess) for true, guess, _ in marked}
    for true, counts in enumerate(row.confusion or []):
        table.add_row(
            CLASS_NAMES[true],
            *[
                Text(str(n), style="bold red" if (true, guess) in cells else "dim" if true == guess else "")
                for guess, n in enumerate(counts)
            ],
        )
    return table


class Confusions(Static):
    """The three largest confusions; the whole matrix under them where the width allows."""

    rows: Sequence[EpochRow] = ()

    def show(self, rows: Sequence[EpochRow]) -> None:
        self.rows = rows
        judged = with_confusion(rows)
        if judged and self.content_size.width >= MATRIX_WIDTH:
            last = judged[-1]
            self.update(Group(confusions_text(rows), Text(""), matrix_table(last, last.top_confusions(CONFUSIONS))))
        else:
            self.update(confusions_text(rows))

    def on_resize(self) -> None:
        self.show(self.rows)
