"""The queue on disk: `<checkpoints root>/.queue/entries/<id>.json`, one file per entry,
each replaced atomically (fer_core.fileio), so a queue survives the dashboard closing, a
hang-up or a reboot. Read-modify-write goes under `entries.lock` (flock), so the runner and
a `fer-tui queue remove` never undo each other's change.

The folder is hidden: `find_runs` never mistakes it for runs, and every checkpoints root
(`--root`) has a queue of its own, which runs into that root.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from fer_core import fileio, locations
from fer_core.errors import RunError
from fer_core.records import RunStatus
from fer_core.runs import rundir

EntryState = Literal["queued", "running", "finished", "failed", "cancelled"]
ENDED = ("finished", "failed", "cancelled")
QUEUE_DIR = ".queue"
ENTRIES = "entries"
LAST_ID = "last_id"  # ids are never reused, even after `queue clear`


class QueueEntry(BaseModel):
    """One queued run: what to train (a validated config) and what became of it."""

    model_config = ConfigDict(extra="ignore")

    id: int = Field(description="Order of arrival; the runner starts the lowest queued id first")
    state: EntryState = Field("queued", description="queued, running, finished, failed or cancelled")
    preset: str = Field("custom", description="Preset the config came from (the run's id names it)")
    config: dict[str, Any] = Field(description="The fully resolved TrainConfig, as config.toml holds it")
    launch: dict[str, Any] = Field(default_factory=dict, description="msrun.Launch fields (--workers N)")
    force: bool = Field(False, description="--force: more workers than cores")
    label: str = Field("", description="What sets it apart: its changes from the preset, or its sweep setting")
    sweep: str | None = Field(None, description="The sweep folder it belongs to")
    run_dir: str | None = Field(None, description="The run directory, once started (or the run to resume)")
    message: str = Field("", description="Why it failed or was cancelled")
    added: float = Field(default_factory=time.time)
    started: float | None = None
    ended: float | None = None
    attempts: int = Field(0, description="Trainer launches so far (a lost run is resumed a few times)")
    order: float | None = Field(None, description="Place among the queued entries (`queue move`); None: by id")

    @property
    def place(self) -> tuple[float, int]:
        """The runner starts the queued entry with the lowest place first."""
        return (self.id if self.order is None else self.order, self.id)

    def evolve(self, **fields: Any) -> QueueEntry:
        return QueueEntry.model_validate({**self.model_dump(), **fields})

    def run_status(self) -> RunStatus | None:
        return rundir.read_status(Path(self.run_dir)) if self.run_dir else None


def queue_dir(root: Path | None = None) -> Path:
    return Path(root or locations.checkpoints_root()) / QUEUE_DIR


class Queue:
    """The entries of one queue folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.entries_dir = self.folder / ENTRIES

    @classmethod
    def of_root(cls, root: Path | None = None) -> Queue:
        return cls(queue_dir(root))

    def path(self, entry_id: int) -> Path:
        return self.entries_dir / f"{entry_id:06d}.json"

    def refuse_links(self) -> None:
        """ForeignFileError if the queue's folders are links or files: entries and logs are
        never written where a link points."""
        for folder in (self.folder, self.entries_dir):
            fileio.refuse_foreign_folder(folder)

    def make_folders(self) -> None:
        """The queue's folders, made if missing (refused if links)."""
        self.refuse_links()
        self.entries_dir.mkdir(parents=True, exist_ok=True)

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Exclusive use of the entries for one short read-modify-write."""
        self.refuse_links()
        self.folder.mkdir(parents=True, exist_ok=True)
        fd = fileio.open_own(self.folder / "entries.lock", os.O_RDWR | os.O_CREAT)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            self.entries_dir.mkdir(exist_ok=True)
            yield
        finally:
            os.close(fd)  # closing drops the lock

    # ------------------------------------------------------------------ reading

    def entries(self) -> list[QueueEntry]:
        """Every readable entry, by id; a damaged file is skipped (and named by `problems`)."""
        found = []
        for path in self._files():
            entry = self._read(path)
            if entry is not None:
                found.append(entry)
        return sorted(found, key=lambda e: e.id)

    def problems(self) -> list[str]:
        return [f"{path}: not a queue entry; skipped" for path in self._files() if self._read(path) is None]

    def get(self, entry_id: int) -> QueueEntry:
        entry = self._read(self.path(entry_id))
        if entry is None:
            raise RunError(f"queue entry {entry_id}: no such entry in {self.entries_dir}")
        return entry

    def _files(self) -> list[Path]:
        if not self.entries_dir.is_dir():
            return []
        return sorted(p for p in self.entries_dir.glob("*.json") if not p.name.startswith("."))

    @staticmethod
    def _read(path: Path) -> QueueEntry | None:
        try:
            return QueueEntry.model_validate(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            return None

    # ------------------------------------------------------------------ writing

    def write(self, entry: QueueEntry) -> QueueEntry:
        fileio.write_json(self.path(entry.id), entry.model_dump())
        return entry

    def add(self, entries: list[dict[str, Any]]) -> list[QueueEntry]:
        """Append entries (QueueEntry fields without `id`) in one go, ids in order."""
        with self.locked():
            last = max([self._last_id(), *(e.id for e in self.entries())])
            made = [QueueEntry(id=last + n, **fields) for n, fields in enumerate(entries, 1)]
            fileio.write_text(self.folder / LAST_ID, f"{last + len(made)}\n")
            for entry in made:
                self.write(entry)
        return made

    def update(self, entry_id: int, **fields: Any) -> QueueEntry:
        with self.locked():
            return self.write(self.get(entry_id).evolve(**fields))

    def remove(self, entry_id: int) -> QueueEntry:
        """Forget an entry that is not running (its run folder, if any, stays)."""
        self.get(entry_id)  # no such entry: said before anything (even the queue folder) is made
        with self.locked():
            entry = self.get(entry_id)
            if entry.state == "running":
                raise RunError(
                    f"queue entry {entry_id} is running ({entry.run_dir}); stop it first: fer-tui stop {entry.run_dir}"
                )
            self.path(entry_id).unlink()
            return entry

    def claim(self, entry_id: int, **fields: Any) -> QueueEntry | None:
        """Mark a queued entry running (with `fields`); None if it was removed or is no longer
        queued meanwhile (a `queue remove` between the runner's look and its start)."""
        with self.locked():
            entry = self._read(self.path(entry_id))
            if entry is None or entry.state != "queued":
                return None
            return self.write(entry.evolve(state="running", **fields))

    def waiting(self) -> list[QueueEntry]:
        """The queued entries in the order the runner will start them."""
        return sorted((e for e in self.entries() if e.state == "queued"), key=lambda e: e.place)

    def move(self, entry_id: int, position: int) -> list[QueueEntry]:
        """Put a queued entry at `position` (1: next to start) among the queued ones; one past
        the last is the last."""
        if position < 1:  # 0 and -1 once moved it first: a place as typed, not as clamped
            raise RunError(f"place {position}: places start at 1 (1 starts it next)")
        with self.locked():
            entry = self.get(entry_id)
            if entry.state != "queued":
                raise RunError(f"queue entry {entry_id} is {entry.state}; only queued entries move")
            waiting = [e for e in self.waiting() if e.id != entry_id]
            waiting.insert(max(0, min(position - 1, len(waiting))), entry)
            return [self.write(e.evolve(order=float(n))) for n, e in enumerate(waiting, 1)]

    def clear(self) -> list[QueueEntry]:
        """Forget every entry that is not running."""
        if not self.entries_dir.is_dir():
            return []
        with self.locked():
            gone = [e for e in self.entries() if e.state != "running"]
            for entry in gone:
                self.path(entry.id).unlink()
            return gone

    def _last_id(self) -> int:
        try:
            return int((self.folder / LAST_ID).read_text().strip())
        except (OSError, ValueError):
            return 0
