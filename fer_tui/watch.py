"""Cheap change detection for run files: stat first, read only what changed."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from fer_core.ckpt import sidecar
from fer_core.ckpt.index import find_checkpoints
from fer_core.runs import rundir


def stamp(path: Path) -> tuple[int, int] | None:
    """(mtime_ns, size) of a file, or None if it does not exist."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_mtime_ns, info.st_size


@dataclass
class RunWatch:
    """Which of a run's files changed since the last poll (status, metrics, steps, log)."""

    run_dir: Path
    seen: dict[str, tuple[int, int] | None] = field(default_factory=dict)

    def poll(self) -> set[str]:
        changed = set()
        for name in (rundir.STATUS, rundir.METRICS, rundir.STEPS, rundir.LOG):
            now = stamp(self.run_dir / name)
            if name not in self.seen or self.seen[name] != now:
                changed.add(name)
                self.seen[name] = now
        return changed


def checkpoint_stamps(root: Path) -> frozenset[tuple[str, int, int]]:
    """(path, mtime_ns, size) of every .ckpt under root and of its sidecar (epoch and val acc
    live there): changes when a trainer writes a checkpoint, not at every status.json write."""
    ckpts = find_checkpoints(root) if Path(root).is_dir() else []  # the listing's own discovery
    paths = ckpts + [sidecar.sidecar_path(ckpt) for ckpt in ckpts]
    return frozenset((str(p), *now) for p in paths if (now := stamp(p)) is not None)


def read_tail(path: Path, max_bytes: int = 8192) -> str:
    """The last `max_bytes` of a text file (the log can be large); '' if missing."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - max_bytes))
            data = handle.read()
    except OSError:
        return ""
    if size > max_bytes:  # drop the first, probably partial, line
        data = data.split(b"\n", 1)[-1]
    return data.decode("utf-8", errors="replace")
