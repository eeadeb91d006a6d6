"""Per-image results of test inference: true class, prediction, probability bar, right/wrong.

One checkpoint: `#  true  pred  probability`. Two (compare): each image's row carries both
predictions side by side (A, B), filled as each worker's lines arrive.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual.widgets import DataTable

from fer_core import CLASS_NAMES
from fer_core.job.events import Prediction
from fer_core.text import shown
from fer_tui.format import class_name, prob_bar

NAME_WIDTH = max(len(name) for name in CLASS_NAMES)  # "surprise"


@dataclass
class Tally:
    """One checkpoint's running count on the folder."""

    seen: int = 0
    correct: int = 0
    labelled: int = 0

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.labelled if self.labelled else None


def pred_cell(prediction: Prediction) -> Text:
    name = class_name(prediction.pred)
    if prediction.correct is True:
        return Text(f"✓ {name}", style="green")
    if prediction.correct is False:
        return Text(f"✗ {name}", style="bold red")
    return Text(f"  {name}")


class InferenceTable(DataTable):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.slots: list[str] = []
        self.tallies: list[Tally] = []
        self.paths: list[Path] = []  # row order = arrival order
        self.predictions: dict[str, dict[int, Prediction]] = {}  # path -> slot -> its prediction

    def start(self, slots: list[str]) -> None:
        """New columns for one (`[""]`) or two (`["A", "B"]`) checkpoints; rows cleared."""
        self.slots = slots
        self.tallies = [Tally() for _ in slots]
        self.paths = []
        self.predictions = {}
        self.clear(columns=True)
        self.add_column("#", key="index")
        # sized for the longest class name up front: widths grown as rows arrive could lag
        # behind the last row and cut it (`surpris`)
        self.add_column("true", key="true", width=NAME_WIDTH)
        bar = 10 if len(slots) == 1 else 4
        for index, slot in enumerate(slots):
            self.add_column(f"{slot} pred".strip(), key=f"pred{index}", width=NAME_WIDTH + 2)
            self.add_column(
                f"{slot} probability".strip() if bar > 4 else f"{slot} p".strip(), key=f"prob{index}", width=bar + 5
            )

    def add_result(self, slot: int, prediction: Prediction) -> Path:
        """One image's prediction by checkpoint `slot`: a new row, or the other half of one."""
        path = Path(prediction.path)
        key = str(path)
        if key not in self.rows:
            blank = [Text("")] * (2 * len(self.slots))
            self.add_row(
                Text(str(len(self.paths) + 1), justify="right"),
                class_name(prediction.true) if prediction.true is not None else "-",
                *blank,
                key=key,
            )
            self.paths.append(path)
        self.predictions.setdefault(key, {})[slot] = prediction
        top = max(prediction.probs) if prediction.probs else None
        bar = 10 if len(self.slots) == 1 else 4
        self.update_cell(key, f"pred{slot}", pred_cell(prediction))
        self.update_cell(key, f"prob{slot}", prob_bar(top, bar))
        tally = self.tallies[slot]
        tally.seen += 1
        if prediction.correct is not None:
            tally.labelled += 1
            tally.correct += prediction.correct
        return path

    def current_path(self) -> Path | None:
        if not self.row_count:
            return None
        row = self.cursor_coordinate.row
        return self.paths[row] if 0 <= row < len(self.paths) else None

    def caption(self, path: Path | None) -> Text:
        """`3 happy ✓` (or `3 happy A✓ B✗`): the line under the face."""
        if path is None or str(path) not in self.predictions:
            return Text("")
        results = self.predictions[str(path)]
        first = next(iter(results.values()))
        text = Text(f"{self.paths.index(path) + 1} ")
        text.append(class_name(first.true) if first.true is not None else shown(path.name))
        for slot, label in enumerate(self.slots):
            prediction = results.get(slot)
            if prediction is None or prediction.correct is None:
                continue
            mark, style = ("✓", "green") if prediction.correct else ("✗", "bold red")
            text.append(f" {label}{mark}", style=style)
        return text

    def follow(self) -> None:
        """Keep the newest row in view (and under the cursor) unless the user took the table."""
        if not self.has_focus and self.row_count:
            self.move_cursor(row=self.row_count - 1)
