"""The run directory's records, typed: `RunStatus` (status.json), `EpochRow` (one line of
metrics.jsonl), `StepRow` (one line of steps.jsonl) and `TrainProgress` (what last_state.ckpt
keeps besides the tensors).

The trainer writes them, everything else reads them; no mindspore here. Field names are the
on-disk contract (DESIGN.md) and the field order is the order the files have always had, so
a record read and written again is the same JSON. Old run directories still read: every field
has a default (status files gained `eta_seconds` and `patience_left` after the first runs) and
unknown keys are ignored rather than refused, so a newer trainer's file lists here too.
"""

from __future__ import annotations

import json
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_serializer

from fer_core import NUM_CLASSES, fileio
from fer_core.errors import one_line

# Every state a run can be in. A trainer writes the first six in status.json; readers judge the
# last three (fer_core.runs.rundir): `lost`, a live state whose trainer is gone, `unknown`, a
# status that names none, and `unreadable`, a status.json that does not read as a status.
State = Literal[
    "starting", "running", "finished", "stopped", "failed", "early_stopped", "lost", "unknown", "unreadable"
]


def why_invalid(error: ValueError) -> str:
    """Why a record did not read, in one short line: pydantic's first complaint as `field:
    message` (its own text starts `1 validation error for …` over several lines), else the
    error's first line (a JSON error says where: `line 1 column 2 (char 1)`)."""
    if isinstance(error, ValidationError) and error.errors():
        first = error.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ()))
        return one_line(f"{where}: {first['msg']}" if where else first["msg"], 160)
    return one_line(error, 160)


R = TypeVar("R", bound="_Record")


class _Record(BaseModel):
    model_config = ConfigDict(extra="ignore", validate_assignment=True)

    def evolve(self: R, **fields: Any) -> R:
        """A validated copy with `fields` changed; an unknown name is a bug, not ignored."""
        unknown = set(fields) - set(type(self).model_fields)
        if unknown:
            raise TypeError(f"{type(self).__name__} has no field {', '.join(sorted(unknown))}")
        return type(self).model_validate({**self.model_dump(), **fields})


class RunStatus(_Record):
    """status.json: replaced atomically at every change and, while training, every second."""

    run_id: str | None = Field(None, description="The run directory's name when it was created")
    preset: str | None = Field(None, description="Preset the run was started from ('custom' if none)")
    state: State | None = Field(None, description="What the trainer last said; None: never said")
    pid: int | None = Field(None, description="The trainer's process id (None before it started)")
    started: float | None = Field(None, description="Creation time, seconds since the epoch")
    epoch: int = Field(0, description="Epochs finished (the one in progress is epoch + 1)")
    epochs: int = Field(0, description="Epochs planned (0: unknown)")
    step: int = Field(0, description="Steps done in the epoch in progress")
    steps: int = Field(0, description="Steps per epoch (0: not known yet)")
    images_per_second: float = Field(0.0, description="Training speed of the latest steps")
    best_val_acc: float | None = Field(None, description="Best validation accuracy so far")
    best_epoch: int | None = Field(None, description="Epoch of best_val_acc")
    message: str = Field("", description="Why the run failed or stopped ('' otherwise)")
    updated: float | None = Field(None, description="Time of the last write: the heartbeat")
    patience_left: int | None = Field(None, description="Epochs left before early stopping")
    eta_seconds: float | None = Field(None, description="Estimated seconds to the last epoch's end")
    workers: int = Field(1, description="Data-parallel worker processes (msrun); images_per_second is all of theirs")


class EpochRow(_Record):
    """One line of metrics.jsonl, appended when an epoch ends. Only `epoch` is required: a
    chart skips a metric a row lacks."""

    epoch: int = Field(description="The epoch this row ends, from 1")
    train_loss: float | None = Field(None, description="Mean training loss over the epoch's steps")
    train_acc: float | None = Field(None, description="Training accuracy (augmented, mixed images)")
    val_loss: float | None = Field(None, description="Validation cross-entropy")
    val_acc: float | None = Field(None, description="Validation accuracy (flip-averaged with tta)")
    lr: float | None = Field(None, description="Learning rate of the epoch's last step")
    seconds: float | None = Field(None, description="Wall time of the epoch, validation included")
    images_per_second: float | None = Field(None, description="Training images per second")
    is_best: bool = Field(False, description="val_acc beat every earlier epoch's")
    patience_left: int | None = Field(None, description="Epochs left before early stopping")
    confusion: list[list[int]] | None = Field(
        None, description="Validation confusion matrix: rows the true class, columns the predicted (7x7 counts)"
    )

    @field_validator("confusion", mode="wrap")
    @classmethod
    def _square_or_none(cls, value: Any, handler: Any) -> list[list[int]] | None:
        """A damaged matrix (wrong shape, negative counts) is dropped; the epoch row stays."""
        try:
            matrix = handler(value)
        except ValidationError:
            return None
        if matrix is None or len(matrix) != NUM_CLASSES:
            return None
        if any(len(row) != NUM_CLASSES or min(row) < 0 for row in matrix):
            return None
        return matrix

    @model_serializer(mode="wrap")
    def _without_absent_confusion(self, handler: Any) -> dict[str, Any]:
        """No `confusion` key when there is no matrix: an old line read and written again is
        the same JSON, and rows without per-class figures stay as short as they were."""
        data = handler(self)
        if data.get("confusion") is None:
            data.pop("confusion", None)
        return data

    # per-class figures are derived from the confusion matrix, so nothing is stored twice
    @property
    def support(self) -> list[int] | None:
        """Validation faces of each true class."""
        return [sum(row) for row in self.confusion] if self.confusion else None

    @property
    def predicted(self) -> list[int] | None:
        """How often each class was predicted."""
        return [sum(column) for column in zip(*self.confusion)] if self.confusion else None

    @property
    def recall(self) -> list[float | None] | None:
        """Per class: share of its faces predicted as it (None: no face of the class)."""
        if not self.confusion:
            return None
        return [row[k] / total if (total := sum(row)) else None for k, row in enumerate(self.confusion)]

    @property
    def precision(self) -> list[float | None] | None:
        """Per class: share of its predictions that were right (None: never predicted)."""
        if not self.confusion:
            return None
        return [self.confusion[k][k] / total if total else None for k, total in enumerate(self.predicted or [])]

    def top_confusions(self, count: int = 3) -> list[tuple[int, int, int]]:
        """The `count` largest off-diagonal cells as (true class, predicted class, faces), largest
        first; cells of 0 left out."""
        cells = [
            (n, true, guess)
            for true, row in enumerate(self.confusion or [])
            for guess, n in enumerate(row)
            if true != guess and n > 0
        ]
        return [(true, guess, n) for n, true, guess in sorted(cells, key=lambda c: (-c[0], c[1], c[2]))[:count]]

    # json, not pydantic's JSON: a diverged run's NaN loss must stay NaN both ways (pydantic
    # writes null and refuses NaN), and the lines keep the spacing they always had
    def to_line(self) -> str:
        return json.dumps(self.model_dump())

    @classmethod
    def from_line(cls, line: str | bytes) -> EpochRow:
        """One metrics.jsonl line; ValueError (pydantic's ValidationError is one) if damaged."""
        return cls.model_validate(fileio.parse_json(line))  # nesting capped: never a RecursionError


class StepRow(_Record):
    """One line of steps.jsonl: the training loss and accuracy averaged over the steps since the
    previous line, written every few seconds of training (reporter.STEP_RECORD_SECONDS) and at
    each epoch's end, so the curves move inside an epoch and the file stays small."""

    x: float = Field(description="Position in epochs, fractional: 2.25 is a quarter into epoch 3")
    epoch: int = Field(description="The epoch in progress, from 1")
    step: int = Field(description="Steps done in that epoch")
    loss: float | None = Field(None, description="Mean training loss over the steps since the last row")
    acc: float | None = Field(None, description="Training accuracy over the steps since the last row")
    lr: float | None = Field(None, description="Learning rate of the last step")
    time: float | None = Field(None, description="When it was written, seconds since the epoch")

    def to_line(self) -> str:  # json for the same reason as EpochRow: a NaN loss stays NaN
        return json.dumps(self.model_dump())

    @classmethod
    def from_line(cls, line: str | bytes) -> StepRow:
        return cls.model_validate(json.loads(line))


class TrainProgress(_Record):
    """Where training stands: `epoch` whole epochs and `step` steps of the next one. Stored in
    last_state.ckpt, so a resume continues exactly (same best, same patience, the same data
    order and augmentation for the steps that remain: both are drawn from `data_seed`, the
    epoch and the step, see fer_core.train.loop.epoch_order)."""

    epoch: int = Field(0, description="Whole epochs done")
    best_val_acc: float = Field(-1.0, description="Best validation accuracy (-1: none yet)")
    best_epoch: int = Field(0, description="Epoch of best_val_acc (0: none yet)")
    patience_left: int = Field(0, description="Epochs left before early stopping")
    rng_state: dict[str, Any] = Field(
        default_factory=dict, description="numpy bit generator state (files before data_seed; unused)"
    )
    history: list[EpochRow] = Field(default_factory=list, description="Every epoch's row so far")
    # inside an epoch (all 0 at an epoch's end, and in files from before mid-epoch resume)
    step: int = Field(0, description="Steps done of epoch `epoch + 1` (0: at an epoch's end)")
    data_seed: int | None = Field(None, description="Seed of the data order and augmentation (None: old file)")
    loss_sum: float = Field(0.0, description="Sum of the step losses of the epoch in progress")
    correct: int = Field(0, description="Correct training predictions of the epoch in progress")
    seen: int = Field(0, description="Training images of the epoch in progress")
    train_seconds: float = Field(0.0, description="Training time spent on the epoch in progress")

    def end_epoch(self, row: EpochRow, patience: int) -> EpochRow:
        """Judge a finished epoch (a new best resets the patience, any other uses one), mark
        its row with the verdict and keep it."""
        row.is_best = row.val_acc is not None and row.val_acc > self.best_val_acc
        if row.is_best and row.val_acc is not None:
            self.best_val_acc, self.best_epoch, self.patience_left = row.val_acc, row.epoch, patience
        else:
            self.patience_left -= 1
        row.patience_left, self.epoch = self.patience_left, row.epoch
        self.history.append(row)
        self.step, self.loss_sum, self.correct, self.seen, self.train_seconds = 0, 0.0, 0, 0, 0.0
        return row

    def where(self) -> str:
        """Where a resume goes on: `epoch 3 after step 120` or `epoch 3` (from its start)."""
        return f"epoch {self.epoch + 1}" + (f" after step {self.step}" if self.step else "")
