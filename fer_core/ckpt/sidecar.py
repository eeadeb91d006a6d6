"""Checkpoint sidecars: `x.ckpt` + `x.json`, so listing and size checks need no MindSpore.

The sidecar says what the checkpoint holds and what it should weigh (`Sidecar`). It only
advises: the checkpoint's own records are checked anyway. A sidecar written by any earlier
version still reads (every field has a default) and keys it does not know are ignored; a
writer builds a `Sidecar` by name, so a misspelt field is an error rather than a lost fact.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from fer_core import CLASS_NAMES, IMAGE_SIZE, fileio
from fer_core.config import explain

FORMAT = 1
PREPROCESSING = {"input_size": IMAGE_SIZE, "channels": 1, "scale": "x / 255", "normalise": "(x - 0.5) / 0.5"}


class Sidecar(BaseModel):
    """The `.json` beside each checkpoint the trainer writes. Built by name, an unknown field
    is an error (`extra="forbid"`); `from_json` ignores the keys it does not know."""

    model_config = ConfigDict(extra="forbid")

    format: int = Field(FORMAT, description="Layout version of this file")
    file: str | None = Field(None, description="The checkpoint's file name")
    bytes: int | None = Field(None, ge=0, description="The checkpoint's size when it was written")
    kind: Literal["weights", "train_state"] | None = Field(
        None, description="weights: the network only; train_state: plus optimizer moments and progress"
    )
    arch: str | None = Field(None, description="Architecture from the model registry")
    params: int | None = Field(None, ge=0, description="Parameters of the network (BatchNorm statistics included)")
    expected_bytes: int | None = Field(None, ge=0, description="Exact size MindSpore writes for these tensors")
    epoch: int | None = Field(None, ge=0, description="Epochs completed when it was saved")
    step: int | None = Field(None, ge=0, description="Training steps completed when it was saved")
    val_acc: float | None = Field(None, ge=0, le=1, description="Validation accuracy at that epoch")
    config_hash: str | None = Field(None, description="TrainConfig.digest() of the run's config")
    config: dict[str, Any] | None = Field(
        None, description="The run's config, its data_csv as a file name (no machine's folders: it ships)"
    )
    data_sha256: str | None = Field(
        None, description="SHA-256 of the data file the run trained on (None: demo, a folder)"
    )
    preprocessing: dict[str, Any] | None = Field(None, description="How a face becomes the network's input")
    class_names: list[str] | None = Field(None, description="Output classes, in order")
    mindspore_version: str | None = Field(None, description="MindSpore that wrote the checkpoint")
    run_id: str | None = Field(None, description="The run directory's name")
    created: float | None = Field(None, description="When it was written (Unix time)")

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Sidecar:
        """A sidecar as a file holds it: keys of a newer version are left out, not refused."""
        return cls.model_validate({key: value for key, value in data.items() if key in cls.model_fields})

    def evolve(self, **fields: Any) -> Sidecar:
        """A validated copy with `fields` changed; an unknown name raises ValidationError."""
        return type(self).model_validate({**self.model_dump(exclude_unset=True), **fields})

    @property
    def trained_tta(self) -> str | None:
        """ "flip" when the checkpoint's run validated flip-averaged (config `tta`), else None."""
        return "flip" if (self.config or {}).get("tta") is True else None

    @property
    def data_csv(self) -> str | None:
        """The data the checkpoint's run trained on (config `data_csv`: a path, or "demo")."""
        return (self.config or {}).get("data_csv")


def portable_data(data_csv: str) -> tuple[str, str | None]:
    """What a sidecar records of the data: its file name and the SHA-256 of its bytes, not the
    absolute path of the machine it was trained on ("demo" and folders keep their name only)."""
    import hashlib

    path = Path(data_csv).expanduser()
    if data_csv == "demo" or not path.is_file():
        return (data_csv if data_csv == "demo" else path.name), None
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return path.name, digest.hexdigest()


def sidecar_path(ckpt: Path | str) -> Path:
    return Path(ckpt).with_suffix(".json")


def write_sidecar(ckpt: Path | str, sidecar: Sidecar) -> Path:
    """The sidecar of `ckpt` (written after it, atomically): `sidecar` over the facts every one
    has (file name, size, preprocessing, classes, time)."""
    ckpt = Path(ckpt)
    facts = Sidecar(
        file=ckpt.name,
        bytes=ckpt.stat().st_size if ckpt.exists() else None,
        preprocessing=PREPROCESSING,
        class_names=list(CLASS_NAMES),
        created=time.time(),
    )
    record = facts.evolve(**sidecar.model_dump(exclude_unset=True))
    path = sidecar_path(ckpt)
    fileio.write_json(path, record.model_dump(mode="json", exclude_none=True))
    return path


def load_sidecar(ckpt: Path | str) -> tuple[Sidecar | None, str | None]:
    """(the sidecar, None), (None, None) when there is none, or (None, one line naming the
    file and the field) when it is damaged."""

    path = sidecar_path(ckpt)
    try:
        data = fileio.read_json(path)  # size and nesting capped
    except FileNotFoundError:
        return None, None
    except json.JSONDecodeError:
        return None, f"sidecar {path.name}: not valid JSON"
    except (OSError, ValueError) as error:
        why = getattr(error, "strerror", None) or str(error)
        return None, f"sidecar {path.name}: {why}"
    if not isinstance(data, dict):
        return None, f"sidecar {path.name}: not a JSON object"
    try:
        return Sidecar.from_json(data), None
    except ValidationError as error:
        return None, f"sidecar {path.name}: {explain(error)[0]}"


def read_sidecar(ckpt: Path | str) -> Sidecar | None:
    """The sidecar, or None when it is missing or damaged (the listing reports damage)."""
    return load_sidecar(ckpt)[0]
