"""Every run of this user, wherever it was started: one small file per run in the state folder
(`locations.state_dir()/runs/<hash>.json`, holding the run directory's absolute path),
written when a run is launched and when its trainer starts.

A cache, never the truth: an entry counts only while its folder is still a run directory (it
has a status.json; one that does not read is listed as `unreadable`, not dropped), entries of
deleted or replaced folders are dropped when listed, and a damaged entry is ignored and
removed. One file per run, each written atomically, so two trainers registering at once never
lose each other's entry; registering is best effort (a read-only or full state folder never
stops a run).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from fer_core import fileio, locations
from fer_core.errors import RunError
from fer_core.runs import rundir

ENTRY_SUFFIX = ".json"


def entries_dir() -> Path:
    return locations.state_dir() / "runs"


def _entry(run_dir: Path) -> Path:
    key = hashlib.sha256(str(run_dir).encode()).hexdigest()[:24]
    return entries_dir() / f"{key}{ENTRY_SUFFIX}"


def register(run_dir: Path) -> bool:
    """Note the run in the user's registry; False (and nothing raised) if it cannot be written."""
    run_dir = Path(run_dir).resolve()
    path = _entry(run_dir)
    try:
        if path.is_symlink():  # never written through: someone else's file
            return False
        if path.is_file() and _read_entry(path) == run_dir:
            return True
        fileio.write_json(path, {"path": str(run_dir)})
        return True
    except OSError:
        return False


def _read_entry(path: Path) -> Path | None:
    try:
        if path.is_symlink():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        value = data.get("path") if isinstance(data, dict) else None
    except (OSError, ValueError):
        return None
    return Path(value) if isinstance(value, str) and os.path.isabs(value) else None


def registered_runs() -> list[rundir.RunInfo]:
    """The registry's runs that still are run directories, live first, newest first. Entries
    that are not (deleted folder, no status.json, damaged entry) are removed on the way."""
    folder = entries_dir()
    try:
        names = [e for e in os.scandir(folder) if e.name.endswith(ENTRY_SUFFIX) and not e.name.startswith(".")]
    except OSError:  # no registry yet, or not readable: no runs from it
        return []
    found: list[rundir.RunInfo] = []
    for entry in names:
        path = Path(entry.path)
        run_dir = _read_entry(path)
        info = rundir.run_info(run_dir) if run_dir is not None and run_dir.is_dir() else None
        if run_dir is None or info is None or path != _entry(run_dir):
            _drop(path)
            continue
        found.append(info)
    return rundir.sort_runs(found)


def _drop(path: Path) -> None:
    """Remove a stale entry (only a plain file with our name, in our folder)."""
    try:
        if path.is_file() and not path.is_symlink():
            path.unlink()
    except OSError:
        pass


def resolve_run(spec: str | Path, *, readable: bool = True) -> Path:
    """The run a verb names (`wait`, `stop`, `train --resume`, `diagnose`: this one lookup): a run
    folder's path, or a run id or a unique part of one under the checkpoints root (`--root`);
    only when nothing there matches, among this user's runs in other folders. A run found under
    the root is the answer even when its status.json does not read: `readable` (the default)
    then refuses it in one line naming the file, never falling back on another run of that id.
    """
    found = rundir.find_run(spec)
    if found is None:
        whole, partial = rundir.match_runs(str(spec), registered_runs())
        named = whole or partial
        if len(named) > 1:
            raise RunError(
                f"{spec}: {len(named)} of your runs in other folders match ({rundir.ids_of(named)}); "
                "give more of the id or the run directory"
            )
        if not named:
            raise RunError(f"{spec}: no such run under {locations.checkpoints_root()}")
        found = named[0].path
    if readable:
        rundir.load_status(found)  # RunError naming status.json if it does not read
    return found


def all_runs(root: Path | None = None) -> list[rundir.RunInfo]:
    """The runs under `root` and every registered one, each folder once, live first."""
    found = rundir.find_runs(root) if root is not None else []
    seen = {run.path.resolve() for run in found}
    found += [run for run in registered_runs() if run.path.resolve() not in seen]
    return rundir.sort_runs(found)
