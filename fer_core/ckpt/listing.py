"""The checkpoints table without MindSpore: one row per .ckpt from its sidecar, its size and
its record headers (about a millisecond a file). The deep check is `fer_core.ckpt.deep`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from fer_core.ckpt import verdict
from fer_core.ckpt.arch import weights_identity
from fer_core.ckpt.index import find_checkpoints, read_index
from fer_core.ckpt.sidecar import Sidecar, load_sidecar
from fer_core.ckpt.verdict import Level, Verdict

# what every row has, quick or deep: a CheckpointInfo's and a deep Report's attributes of these names
COLUMNS = ("size", "expected", "kind", "arch", "epoch", "val_acc", "verdict")


class CheckLine(BaseModel):
    """One named check of the deep path and its verdict, flat."""

    name: str
    level: Level
    text: str = ""


class CheckpointRow(BaseModel):
    """One checkpoint as `fer-tui checkpoints --json` prints it and the check job carries it.
    The quick listing sets the first ten fields; the deep check sets them all."""

    model_config = ConfigDict(extra="ignore")

    path: str = Field(description="The checkpoint file")
    run: str = Field("", description="The run folder it is in ('' for a loose file under the root)")
    file: str = Field(description="Its file name")
    size: int = Field(description="Bytes on disk")
    expected: int | None = Field(None, description="Bytes MindSpore writes for its arch and kind")
    kind: str | None = Field(None, description="weights or train_state")
    arch: str | None = Field(None, description="Architecture from the model registry")
    epoch: int | None = Field(None, description="Epochs completed when it was saved")
    val_acc: float | None = Field(None, description="Validation accuracy at that epoch")
    verdict: Verdict = Field(description="The worst of its checks")
    arch_source: str | None = Field(None, description="deep: where the arch came from (sidecar, weights)")
    params: int | None = Field(None, description="deep: parameters of the network")
    checks: list[CheckLine] | None = Field(None, description="deep: every check, in the order judged")
    behaviour: dict[str, Any] | None = Field(None, description="deep: faces, accuracy, mean_top, classes")

    @classmethod
    def of(cls, path: Path, source: object, run: str, **deep: Any) -> CheckpointRow:
        """The row of `path` from `source`'s COLUMNS (a CheckpointInfo, a deep Report; the model
        validates each); `deep`: the deep check's own fields (a name that is not one is an error)."""
        unknown = set(deep) - set(cls.model_fields)
        if unknown:
            raise TypeError(f"CheckpointRow has no field {', '.join(sorted(unknown))}")
        columns = {name: getattr(source, name) for name in COLUMNS}
        return cls.model_validate({"path": str(path), "run": run, "file": path.name, **columns, **deep})

    def to_line(self) -> str:
        """The JSON line: what this row's check set (a quick row has no deep keys)."""
        return json.dumps(self.model_dump(mode="json", exclude_unset=True))


@dataclass
class CheckpointInfo:
    """One row of the checkpoints table."""

    path: Path
    run: str
    file: str
    size: int
    expected: int | None
    kind: str | None
    arch: str | None
    epoch: int | None
    val_acc: float | None
    verdict: Verdict
    sidecar: Sidecar | None = None

    def to_row(self) -> CheckpointRow:
        return CheckpointRow.of(self.path, self, self.run)


def run_name(path: Path, root: Path | str | None) -> str:
    """The run folder a checkpoint is in ('' for a file directly under a root that is not a run
    folder itself: `fer-tui checkpoints RUN_DIR` names the run)."""
    if root is None or path.parent != Path(root) or (path.parent / "config.toml").is_file():
        return path.parent.name
    return ""


def describe(path: Path | str, root: Path | str | None = None) -> CheckpointInfo:
    """The cheap facts about one .ckpt: sidecar + size, else its own record headers."""
    path = Path(path)
    size = path.stat().st_size
    side, problem = load_sidecar(path)
    index = read_index(path)  # headers only: a damaged file is broken, sidecar or not
    weights = weights_identity(index) if side is not None and not index.error else (None, None)
    judged = verdict.listing(size, index.error, side, problem, weights)
    if side is not None:
        return CheckpointInfo(
            path,
            run_name(path, root),
            path.name,
            size,
            side.expected_bytes,
            side.kind,
            side.arch,
            side.epoch,
            side.val_acc,
            judged,
            side,
        )
    # no sidecar (e.g. a classic script's file): the record headers still tell the kind
    return CheckpointInfo(
        path,
        run_name(path, root),
        path.name,
        size,
        None,
        index.kind if index.entries else None,
        None,
        None,
        None,
        judged,
    )


def scan(root: Path | str) -> list[CheckpointInfo]:
    """The checkpoints table for the TUI: one cheap CheckpointInfo per .ckpt under root."""
    rows = []
    for path in find_checkpoints(root):
        try:
            rows.append(describe(path, root))
        except FileNotFoundError:  # vanished between listing and stat (a trainer replacing it)
            continue
        except OSError as error:  # e.g. chmod 000: a row that says so, never a silent gap
            size = path.stat().st_size if path.exists() else 0
            rows.append(
                CheckpointInfo(
                    path, run_name(path, root), path.name, size, None, None, None, None, None, verdict.unreadable(error)
                )
            )
    return rows
