"""What a job says, one JSON object a line on its stdout, in this order:

    started    once, first: the job kind and how many items are to come (when known)
    progress   per item done (an image's prediction, a checkpoint's report) or left out
    result     once, last, on success: the verdict (where there is one), numbers and text
    error      once, last, on failure: one line naming the file or field

Pydantic models, no MindSpore and no numpy: the dashboard imports this module to read a job,
`fer_core.job` to write one. A reader ignores keys it does not know and lines that are not
events (a library's chatter), so either side may grow.
"""

from __future__ import annotations

import json
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from pydantic_core import PydanticSerializationError

from fer_core.ckpt.listing import CheckpointRow
from fer_core.ckpt.verdict import Verdict

KINDS = ("data", "check", "infer", "samples", "export")


class _Event(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Prediction(BaseModel):
    """One image of a folder inference."""

    path: str = Field(description="The image file")
    true: int | None = Field(None, description="Its class from its sub-folder; None in a flat folder")
    pred: int = Field(description="The predicted class")
    probs: list[float] = Field(description="The 7 class probabilities")
    correct: bool | None = Field(None, description="pred == true; None when the true class is unknown")


class Skipped(BaseModel):
    """An input left out, and why (not an image, not readable)."""

    path: str
    reason: str


class Started(_Event):
    event: Literal["started"] = "started"
    job: str = Field(description="The job kind, one of KINDS")
    total: int | None = Field(None, description="Items to come (images, checkpoints), when known")
    arch: str | None = Field(None, description="infer: the checkpoint's architecture")


class Progress(_Event):
    event: Literal["progress"] = "progress"
    done: int = Field(0, description="Items finished so far, this one included")
    total: int | None = Field(None, description="Items in all, when known")
    prediction: Prediction | None = Field(None, description="infer: one image's prediction")
    report: CheckpointRow | None = Field(
        None, description="check: one checkpoint's report, as `fer-tui checkpoints --json` prints it"
    )
    verdict: Verdict | None = Field(None, description="check: that checkpoint's verdict")
    lines: list[str] = Field(default_factory=list, description="check: one line per check, for people")
    skipped: Skipped | None = Field(None, description="an input left out")


class DataSummary(_Event):
    kind: Literal["data"] = "data"
    rows: dict[str, int] = Field(description="Rows per split")
    skipped: int = Field(0, description="Rows left out (named in the text)")


class CheckSummary(_Event):
    kind: Literal["check"] = "check"
    checked: int = Field(description="Checkpoints checked")
    ok: int = 0
    unknown: int = 0
    warning: int = 0
    broken: int = 0


class InferSummary(_Event):
    kind: Literal["infer"] = "infer"
    total: int = Field(description="Images predicted")
    correct: int | None = Field(None, description="Of them right; None when the true classes are unknown")
    accuracy: float | None = Field(None, description="correct / total")
    seconds: float = Field(description="Wall time of the job")


class SamplesSummary(_Event):
    kind: Literal["samples"] = "samples"
    folder: str = Field(description="The sample folder")
    written: int = Field(description="Faces written")
    missing: list[str] = Field(default_factory=list, description="Classes with fewer faces than asked")


class ExportSummary(_Event):
    kind: Literal["export"] = "export"
    output: str = Field(description="The exported file")


Summary = Annotated[
    DataSummary | CheckSummary | InferSummary | SamplesSummary | ExportSummary, Field(discriminator="kind")
]


class Result(_Event):
    event: Literal["result"] = "result"
    verdict: Verdict | None = Field(
        None, description="infer: the behaviour rule on every prediction; check: the worst checkpoint's"
    )
    summary: Summary | None = Field(None, description="The kind's numbers")
    text: str = Field("", description="What the matching `fer-tui` verb prints")


class Error(_Event):
    event: Literal["error"] = "error"
    message: str = Field(description="One line naming the file or field")


Event = Annotated[Started | Progress | Result | Error, Field(discriminator="event")]
_EVENT = TypeAdapter(Event)


def parse(line: str | bytes) -> Started | Progress | Result | Error | None:
    """One stdout line as an event; None for a line that is not one."""
    try:
        return _EVENT.validate_json(line)
    except ValidationError:
        pass
    try:  # a path that is not UTF-8 comes as `\udcff`, which only the json module reads
        return _EVENT.validate_python(json.loads(line))
    except (ValueError, ValidationError):
        return None


def dump(event: _Event) -> str:
    """One line of ASCII JSON. A file name that is not UTF-8 (os.fsdecode's lone surrogates,
    which pydantic's encoder refuses) is written as `\udcff` escapes, so the reader gets back
    the very name it can open."""
    try:
        return event.model_dump_json(exclude_none=True)
    except PydanticSerializationError:
        return json.dumps(event.model_dump(mode="python", exclude_none=True), separators=(",", ":"), default=str)
