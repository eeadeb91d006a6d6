"""The run directory: the one contract between the trainer and everything that watches it.

    config.toml      fully resolved TrainConfig, written before training starts
    status.json      state, pid, heartbeat, progress (replaced atomically): records.RunStatus
    metrics.jsonl    one JSON object per finished epoch (appended, flushed): records.EpochRow
    steps.jsonl      the training loss/accuracy every few seconds (appended): records.StepRow
    train.log        the trainer's stdout and stderr
    *.ckpt + *.json  checkpoints and their sidecars

Nothing here imports mindspore: the TUI and the CLI read runs with this module alone.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from fer_core import fileio
from fer_core.config import TrainConfig, load_config_file, resolve_save_dir
from fer_core.errors import ForeignFileError, RunError
from fer_core.records import EpochRow, RunStatus, State, StepRow, why_invalid
from fer_core.runs import runlock
from fer_core.signals import pid_alive  # noqa: F401  (rundir.pid_alive: the runs' judge of a pid)
from fer_core.text import counted

CONFIG, STATUS, METRICS, LOG = "config.toml", "status.json", "metrics.jsonl", "train.log"
STEPS = "steps.jsonl"
LAST_STATE, BEST, FINAL = "last_state.ckpt", "best_model.ckpt", "final_model.ckpt"

LIVE_STATES: tuple[State, ...] = ("starting", "running")
END_STATES: tuple[State, ...] = ("finished", "stopped", "failed", "early_stopped")
DONE_STATES: tuple[State, ...] = ("finished", "early_stopped")  # trained to its end
JUDGED_STATES: tuple[State, ...] = ("lost", "unknown", "unreadable")  # a reader's judgement, never written
RESUMABLE_STATES: tuple[State, ...] = ("stopped", "failed", "lost")
HEARTBEAT_STALE = 60.0  # seconds without a status write before a live run counts as lost


# ---------------------------------------------------------------- creating


def create_run(config: TrainConfig, preset: str = "custom", root: Path | None = None) -> Path:
    """Make a new, never reused run directory with config.toml and a `starting` status."""
    root = root or resolve_save_dir(config)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):  # the save_dir, or a folder above it, is a file
        blocker = next((p for p in (root, *root.parents) if p.exists() and not p.is_dir()), root)
        where = f"save_dir {root} is" if blocker == root else f"save_dir {root}: {blocker} is"
        raise RunError(f"{where} a file, not a folder") from None
    except OSError as error:
        raise RunError(f"{root}: cannot create the save_dir ({error.strerror})") from None
    if not os.access(root, os.W_OK):
        raise RunError(f"{root}: save_dir is not writable")
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    for attempt in range(1, 1000):
        run_id = f"{stamp}-{preset}" + (f"-{attempt}" if attempt > 1 else "")
        run_dir = root / run_id
        try:
            run_dir.mkdir()  # atomic: two runs started in the same second get different ids
            break
        except FileExistsError:
            continue
        except OSError as error:
            raise RunError(f"{run_dir}: cannot create the run directory ({error.strerror})") from None
    else:  # pragma: no cover - a thousand runs in one second
        raise RunError(f"{root}: no free run id for {stamp}-{preset}")
    try:
        fileio.write_toml(run_dir / CONFIG, config.model_dump())
        write_status(
            run_dir,
            RunStatus(run_id=run_id, preset=preset, state="starting", started=time.time(), epochs=config.epochs),
        )
    except OSError as error:  # e.g. no space: leave no half-made run behind
        shutil.rmtree(run_dir, ignore_errors=True)
        raise RunError(f"{run_dir}: cannot create the run ({error.strerror or error})") from None
    return run_dir


def write_status(run_dir: Path, status: RunStatus) -> RunStatus:
    """Replace status.json with `status`, stamped `updated` now (the heartbeat); returns it."""
    status = status.evolve(updated=time.time())
    fileio.write_json(Path(run_dir) / STATUS, status.model_dump())
    return status


def update_status(run_dir: Path, **fields: Any) -> RunStatus:
    """Change some fields of status.json and keep the rest (a missing file starts empty)."""
    return write_status(run_dir, (read_status(run_dir) or RunStatus()).evolve(**fields))


# ---------------------------------------------------------------- reading


def load_status(run_dir: Path) -> RunStatus | None:
    """status.json; None if there is none; RunError, one line naming the file and why, if it
    does not read as a status (it is never half-written, so that is a file someone else made
    or broke)."""
    path = Path(run_dir) / STATUS
    try:
        try:
            data = fileio.read_json(path)  # size and nesting capped
        except FileNotFoundError:
            return None
        except OSError as error:
            _refuse_foreign(path)
            raise RunError(f"{path}: cannot be read ({error.strerror or error})") from None
        except ValueError as error:  # not JSON, not UTF-8, too large, nested too deep
            _refuse_foreign(path)
            raise RunError(f"{path}: unreadable ({why_invalid(error)})") from None
        try:
            return RunStatus.model_validate(data)
        except ValueError as error:  # pydantic's ValidationError is a ValueError
            _refuse_foreign(path)
            raise RunError(f"{path}: not a run status ({why_invalid(error)})") from None
    except ForeignFileError as error:  # a link, a FIFO, a device: what it is says more than its text
        raise RunError(str(error)) from None


def _refuse_foreign(path: Path) -> None:
    """ForeignFileError if `path` is no plain file (a link to someone's file that does not read)."""
    try:
        fileio.refuse_foreign(path)
    except ForeignFileError:
        raise
    except OSError:  # gone meanwhile: the caller's own reason stands
        pass


def read_status(run_dir: Path) -> RunStatus | None:
    """status.json, or None if it is missing, unreadable or not a status (load_status says why)."""
    try:
        return load_status(run_dir)
    except RunError:
        return None


def read_config(run_dir: Path) -> TrainConfig:
    return load_config_file(Path(run_dir) / CONFIG)


def read_metrics(run_dir: Path) -> list[EpochRow]:
    """Every whole metrics line, one per epoch (a resumed epoch's later line wins)."""
    tail = MetricsTail(Path(run_dir) / METRICS)
    return tail.poll()


@dataclass
class MetricsTail:
    """Incremental reader of metrics.jsonl: only whole lines, a partial last line waits. A
    damaged line is skipped, not fatal, and counted: `damage()` says so."""

    path: Path
    offset: int = 0
    by_epoch: dict[int, EpochRow] = field(default_factory=dict)
    lines: int = 0  # whole lines read so far
    bad: int = 0  # of which did not read as an epoch row (blank lines aside)
    first_bad: tuple[int, str] | None = None  # (line number from 1, why)

    def poll(self) -> list[EpochRow]:
        """Read what was appended since the last call; return all epochs so far, in order."""
        try:
            with open(self.path, "rb") as handle:
                if os.fstat(handle.fileno()).st_size < self.offset:  # replaced: start over
                    self.offset, self.by_epoch, self.lines, self.bad, self.first_bad = 0, {}, 0, 0, None
                handle.seek(self.offset)
                chunk = handle.read()
        except OSError:
            return self.rows()
        end = chunk.rfind(b"\n") + 1
        for line in chunk[:end].split(b"\n")[:-1]:
            self.lines += 1
            if not line.strip():
                continue
            try:
                row = EpochRow.from_line(line)
            except ValueError as error:  # a damaged line is skipped, not fatal
                self.bad += 1
                self.first_bad = self.first_bad or (self.lines, why_invalid(error))
                continue
            self.by_epoch[row.epoch] = row
        self.offset += end
        return self.rows()

    def rows(self) -> list[EpochRow]:
        return [self.by_epoch[e] for e in sorted(self.by_epoch)]

    def damage(self) -> str | None:
        """`…/metrics.jsonl: 2 unreadable lines (the first, line 1: val_acc: …)`; None when every
        line read."""
        if not self.bad or self.first_bad is None:
            return None
        number, why = self.first_bad
        first = f"line {number}" if self.bad == 1 else f"the first, line {number}"
        return f"{self.path}: {counted(self.bad, 'unreadable line')} ({first}: {why})"


def read_steps(run_dir: Path) -> list[StepRow]:
    """Every whole steps.jsonl line, in order."""
    return StepsTail(Path(run_dir) / STEPS).poll()


@dataclass
class StepsTail:
    """Incremental reader of steps.jsonl: whole lines only (a partial last line waits), damaged
    lines skipped; a file replaced (a resume rewrites it) is read again from the start."""

    path: Path
    offset: int = 0
    identity: tuple[int, int] | None = None
    found: list[StepRow] = field(default_factory=list)

    def poll(self) -> list[StepRow]:
        try:
            with open(self.path, "rb") as handle:
                info = os.fstat(handle.fileno())
                if (info.st_dev, info.st_ino) != self.identity or info.st_size < self.offset:
                    self.identity, self.offset, self.found = (info.st_dev, info.st_ino), 0, []
                handle.seek(self.offset)
                chunk = handle.read()
        except OSError:
            return self.found
        end = chunk.rfind(b"\n") + 1
        for line in chunk[:end].splitlines():
            try:
                self.found.append(StepRow.from_line(line))
            except ValueError:
                continue
        self.offset += end
        return self.found


def effective_state(status: RunStatus | None, now: float | None = None, run_dir: Path | None = None) -> State:
    """The state a person should see: a live state whose trainer is gone is `lost`. With
    `run_dir`, a run whose lock file exists but is held by no one is lost at once, even if
    another process now has its old pid."""
    if status is None or status.state is None:
        return "unknown"
    state = status.state
    if state in LIVE_STATES and _trainer_gone(status, now, run_dir):
        # A trainer writes its end state, then exits: one that ended after `status` was read
        # looks gone, and its run folder has the last word.
        last = read_status(run_dir) if run_dir is not None else None
        return last.state if last is not None and last.state in END_STATES else "lost"
    return state


def _trainer_gone(status: RunStatus, now: float | None, run_dir: Path | None) -> bool:
    age = (now or time.time()) - (status.updated or 0)
    if status.state == "starting" and status.pid is None and age < HEARTBEAT_STALE:
        return False  # created, its trainer not started yet
    if not pid_alive(status.pid) or age > HEARTBEAT_STALE:
        return True
    return run_dir is not None and runlock.lock_path(run_dir).exists() and not runlock.is_held(run_dir)


@dataclass
class RunInfo:
    path: Path
    status: RunStatus  # an unreadable one's: empty (RunStatus())
    state: State
    problem: str = ""  # why its status.json does not read (state `unreadable`): one line naming it

    @property
    def run_id(self) -> str:
        return self.status.run_id or self.path.name

    @property
    def live(self) -> bool:
        return self.state in LIVE_STATES


def find_runs(root: Path, max_depth: int = 3) -> list[RunInfo]:
    """Every run directory under `root` (by its status.json), live ones first, newest first."""
    found: list[RunInfo] = []
    root = Path(root)
    if not root.is_dir():
        return found
    stack = [(root, 0)]
    while stack:
        directory, depth = stack.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError:
            continue
        if any(e.name == STATUS for e in entries):
            info = run_info(Path(directory))
            if info is not None:
                found.append(info)
            continue
        if depth < max_depth:
            stack.extend(
                (Path(e.path), depth + 1)
                for e in entries
                if e.is_dir(follow_symlinks=False) and not e.name.startswith(".")
            )
    return sort_runs(found)


def run_info(run_dir: Path) -> RunInfo | None:
    """The run in `run_dir` as a listing shows it; None when it has no status.json. A status.json
    that does not read is a run all the same, `unreadable`, with the reason: listed, never
    passed over (a lookup that skipped it once acted on another run of the same id)."""
    try:
        status = load_status(run_dir)
    except RunError as error:
        return RunInfo(run_dir, RunStatus(), "unreadable", problem=str(error))
    if status is None:
        return None
    return RunInfo(run_dir, status, effective_state(status, run_dir=run_dir))


def sort_runs(runs: list[RunInfo]) -> list[RunInfo]:
    """Live runs first, then newest first."""
    return sorted(runs, key=lambda r: (not r.live, -(r.status.started or 0)))


def resolve_run(spec: str | Path, root: Path | None = None) -> Path:
    """A run given as a path, or as a run id or a unique part of one (`id_matches`) under the
    checkpoints root (refused if ambiguous); registry.resolve_run, what the verbs use, also
    looks among this user's runs in other folders."""
    found = find_run(spec, root)
    if found is None:
        raise RunError(f"{spec}: no such run under {root or _checkpoints_root()}")
    return found


def find_run(spec: str | Path, root: Path | None = None) -> Path | None:
    """resolve_run's answer, None when nothing under the root matches (so another place may be
    asked); a run whose status.json does not read matches like any other."""
    path = Path(spec).expanduser()
    if (path / STATUS).exists() or (path / CONFIG).exists():
        return path
    root = root or _checkpoints_root()
    whole, partial = match_runs(str(spec), find_runs(root))
    if len(whole) > 1:  # the same id in two save_dirs: never guess which one was meant
        raise RunError(
            f"{spec}: {len(whole)} runs have this id ({', '.join(str(run.path) for run in whole)}); "
            "give the run directory instead"
        )
    if whole:
        return whole[0].path
    if path.exists():
        raise RunError(f"{spec}: not a run directory (no {STATUS} or {CONFIG})")
    if len(partial) == 1:
        return partial[0].path
    if partial:  # the newest of several is a guess: refused
        raise RunError(f"{spec}: {len(partial)} runs match ({ids_of(partial)}); give more of the id")
    return None


def ids_of(runs: list[RunInfo], most: int = 4) -> str:
    """`a, b, c, d, …`: the first `most` run ids, for a message."""
    return ", ".join(run.run_id for run in runs[:most]) + (", …" if len(runs) > most else "")


def _checkpoints_root() -> Path:
    from fer_core import locations

    return locations.checkpoints_root()


def match_runs(text: str, runs: list[RunInfo]) -> tuple[list[RunInfo], list[RunInfo]]:
    """The runs `text` names whole (run id or folder name), and those it names in part
    (`id_matches`: `stop 150535`, `stop cpu-fast`)."""
    whole = [run for run in runs if text in (run.run_id, run.path.name)]
    partial = [run for run in runs if text and "/" not in text and id_matches(run.run_id, text)]
    return whole, partial


def id_matches(run_id: str, text: str) -> bool:
    """`text` names this run id in part: a start or end of it (`20261206`, `demo`) or whole
    parts between its dashes (`205208`, `205208-demo`, `20261206-205208`)."""
    return run_id.startswith(text) or run_id.endswith(text) or f"-{text}-" in f"-{run_id}-"


def remove_stale_temporaries(run_dir: Path) -> None:
    """Delete the half-written files fer-tui left in the run directory (renames that never
    happened): only names fer-tui gives its temporaries (fileio.is_temporary), so a user's
    `.notes.md` or `.gitignore` stays. Called only with the run's lock held, so no other
    writer can be mid-write."""
    for entry in os.scandir(run_dir):
        if fileio.is_temporary(entry.name) and entry.is_file(follow_symlinks=False):
            try:
                os.unlink(entry.path)
            except OSError:
                continue


# the names a trainer writes in its run directory (and each checkpoint's `.json` sidecar)
OWN_FILES = (CONFIG, STATUS, METRICS, STEPS, LOG, runlock.LOCK_NAME, LAST_STATE, BEST, FINAL)
WORKER_LOGS = "msrun"  # a folder: msrun's own logs and launch.json (--workers N)
_PERIODIC = re.compile(r"fer-\d+_\d+\.(ckpt|json)")


def check_own_files(run_dir: Path) -> None:
    """Refuse (ForeignFileError, one line naming it) a run directory where a name the trainer
    writes holds a symbolic link, a FIFO, a folder or a device: said before a trainer starts,
    where each write would refuse it anyway."""
    sidecars = {Path(name).with_suffix(".json").name for name in (LAST_STATE, BEST, FINAL)}
    for entry in os.scandir(run_dir):
        if entry.name in OWN_FILES or entry.name in sidecars or _PERIODIC.fullmatch(entry.name):
            fileio.refuse_foreign(entry.path)
        elif entry.name == WORKER_LOGS and not entry.is_dir(follow_symlinks=False):
            raise ForeignFileError(f"{entry.path} is not a folder fer-tui made; msrun's logs never go through it")


def last_real_data(root: Path) -> str | None:
    """The FER2013 CSV (or image folder) the newest run under `root` trained on, while it is
    still there: what a real sample folder can be made from. None when every run used 'demo'."""
    from fer_core.config import DEMO_DATA
    from fer_core.errors import FerError

    for run in sorted(find_runs(root), key=lambda r: r.status.started or 0, reverse=True):
        try:
            data = read_config(run.path).data_csv
        except FerError:
            continue
        if data != DEMO_DATA and Path(data).expanduser().exists():
            return data
    return None
