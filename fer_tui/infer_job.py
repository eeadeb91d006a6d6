"""One test inference (one checkpoint, or two compared) on a folder: its state as the `infer`
jobs' events arrive, and the summary line under the inference table."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text

from fer_core.ckpt.listing import CheckpointInfo
from fer_core.ckpt.verdict import OK
from fer_core.job.events import Error, InferSummary, Result, Started
from fer_tui.format import duration, percent, verdict_text
from fer_tui.widgets.ckpt_table import MARKS

if TYPE_CHECKING:
    from fer_tui.widgets.inference_table import Tally

SLOT_STYLES = ("bold cyan", "bold magenta")


@dataclass
class Job:
    """One inference (one checkpoint) or a comparison (two) on one folder."""

    infos: list[CheckpointInfo]
    folder: Path
    totals: dict[int, int] = field(default_factory=dict)
    done: dict[int, Result] = field(default_factory=dict)
    errors: dict[int, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    cancelled: bool = False

    @property
    def slots(self) -> list[str]:
        return [""] if len(self.infos) == 1 else list(MARKS[: len(self.infos)])

    def expected_total(self) -> int | None:
        if not self.totals:
            return None
        return sum(self.totals.values()) + max(self.totals.values()) * (len(self.infos) - len(self.totals))

    def hear(self, slot: int, event: Started | Result | Error) -> None:
        """What a checkpoint's job said of itself: how many images, how it ended."""
        if isinstance(event, Started):
            self.totals[slot] = event.total or 0
        elif isinstance(event, Result):
            self.done[slot] = event
        elif isinstance(event, Error):
            self.errors[slot] = event.message


def count_faces(folder: Path) -> int:
    """Images in a sample folder (ROOT/<class>/*.png, or flat); 0 when it is missing or empty."""
    from fer_core.data.dataset import sample_files
    from fer_core.errors import DataError

    try:
        return len(sample_files(folder)[0])
    except (OSError, ValueError, DataError):
        return 0


def job_summary(job: Job, tallies: Iterable[Tally]) -> Text:
    """The line under the inference table: per slot, progress, accuracy and verdict."""
    text = Text(no_wrap=True, overflow="ellipsis")
    single = len(job.infos) == 1
    for slot, tally in enumerate(tallies):
        if slot:
            text.append(" · ")
        if not single:
            text.append(f"{job.slots[slot]} ", style=SLOT_STYLES[slot % 2])
        total = job.totals.get(slot)
        done = job.done.get(slot)
        if slot in job.errors:
            text.append("failed", style="bold red")
            continue
        if done is None:
            text.append(f"{tally.seen}/{total if total is not None else '?'} ")
        if tally.accuracy is not None:
            text.append(("accuracy " if single else "") + percent(tally.accuracy), style="bold")
            text.append(f" ({tally.correct}/{tally.labelled})")
        if done is not None:
            text.append(" ")
            text.append(verdict_text(done.verdict or OK, full=single))
            if single and isinstance(done.summary, InferSummary):
                text.append(f" · {duration(done.summary.seconds)}", style="dim")
    if job.cancelled:
        text.append(" · cancelled", style="yellow")
    return text
