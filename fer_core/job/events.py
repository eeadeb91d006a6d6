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
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from pydantic_core import PydanticSerializationError

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
    report: dict[str, Any] | None = Field(
        None, description="check: one checkpoint's report, as `fer-tui checkpoints --json` prints it"
    )
    verdict: Verdict | None = Field(None, description="check: that checkpoint's verdict")
    lines: list[str] = Field(default_factory=list, description="check: one line per check, for people")
    skipped: Skipped | None = Field(None, description="an input left out")


class Result(_Event):
    event: Literal["result"] = "result"
    verdict: Verdict | None = Field(
        None, description="infer: the behaviour rule on every prediction; check: the worst checkpoint's"
    )
    summary: dict[str, Any] = Field(
        default_factory=dict,
        description="The kind's numbers (infer: total, correct, accuracy, seconds; samples: folder, faces)",
    )
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
