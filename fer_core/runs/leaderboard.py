"""The leaderboard of a set of runs: one row per setting (runs grouped by their config minus
what only says where, which draw or how often state is saved: NOT_THE_SETTING), the mean ± std
over seeds of the best val accuracy, the epoch of best, time per epoch, images per second and
checkpoint size, best first; the fields that set the rows apart from the base preset are
columns. The same table in `fer-tui runs --table [--csv|--markdown]` and the dashboard.

Plain Python, not pandas: grouping even a thousand runs is a few thousand dict operations,
while importing pandas alone costs more than the whole table (and the dashboard starts in
under a second). The time goes to reading the run folders; `bench/leaderboard_speed.py`.
"""

from __future__ import annotations

import csv
import io
import json
import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fer_core import config as cfg
from fer_core import fileio
from fer_core.errors import ConfigError
from fer_core.records import why_invalid
from fer_core.runs import rundir
from fer_core.text import counted, shown

# where, which draw and how often state is saved: not what trains
NOT_THE_SETTING = ("seed", "save_dir", "data_csv", "keep_checkpoints", "state_every_minutes")
# the column that names the rows when no setting field tells them apart (one setting: base runs
# only, or seeds of one run): without it a row said nothing of which runs it was
PRESET_COLUMN = "preset"
SWEEP_FILE = "sweep.toml"


@dataclass
class RunFacts:
    """What the leaderboard needs of one run, read without mindspore."""

    path: Path
    preset: str
    state: str
    config: dict[str, Any]
    best_val_acc: float | None
    best_epoch: int | None
    seconds_per_epoch: float | None
    images_per_second: float | None
    checkpoint_bytes: int | None

    def setting(self) -> tuple:
        return tuple((k, v) for k, v in self.config.items() if k not in NOT_THE_SETTING)


@dataclass
class Unranked:
    """A run the table cannot rank, and why: one line naming the file that does not read."""

    path: Path
    why: str


@dataclass
class Row:
    setting: dict[str, Any]
    runs: list[RunFacts]

    def _values(self, name: str) -> list[float]:
        return [v for r in self.runs if (v := getattr(r, name)) is not None]

    def mean(self, name: str) -> float | None:
        values = self._values(name)
        return statistics.fmean(values) if values else None

    def std(self, name: str) -> float | None:
        values = self._values(name)
        return statistics.stdev(values) if len(values) > 1 else None

    @property
    def presets(self) -> str:
        """The presets its runs were started from (`cpu-fast`): the row's name when no column is."""
        return ", ".join(sorted({r.preset for r in self.runs}))

    def value(self, column: str) -> Any:
        """The row's value in a column of the table: a setting field, or PRESET_COLUMN."""
        return self.presets if column == PRESET_COLUMN else self.setting.get(column)

    @property
    def seeds(self) -> list[int]:
        return sorted(r.config.get("seed", 0) for r in self.runs)


@dataclass
class Leaderboard:
    rows: list[Row]
    base_name: str | None
    columns: list[str]  # setting fields that set rows apart (none: PRESET_COLUMN, so a row is named)
    common: dict[str, tuple[Any, Any]]  # field -> (base's, every row's): said once, above the table
    base_row: Row | None = None  # the row that is the base preset itself, if one is
    left_out: list[RunFacts] = field(default_factory=list)  # runs with no val accuracy yet
    unreadable: list[Unranked] = field(default_factory=list)  # runs whose config or status does not read

    def delta(self, row: Row) -> float | None:
        """Points of mean best val accuracy over the base row."""
        if self.base_row is None or row is self.base_row:
            return None
        mine, base = row.mean("best_val_acc"), self.base_row.mean("best_val_acc")
        return None if mine is None or base is None else 100 * (mine - base)


# ---------------------------------------------------------------- reading


_CACHE: dict[Path, tuple[tuple, RunFacts | Unranked]] = {}  # a dashboard rebuilds often: unchanged runs are not re-read


def read_facts(run: rundir.RunInfo) -> RunFacts | Unranked:
    """A run's facts; Unranked, with the reason, when its config.toml is missing or unreadable
    or its status.json does not read (not a run to rank, but counted under the table). Read
    again only when its status, metrics or config changed (their mtimes and sizes)."""
    stamp = tuple(_stamp(run.path / name) for name in (rundir.STATUS, rundir.METRICS, rundir.CONFIG))
    cached = _CACHE.get(run.path)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    facts = _read_facts(run)
    _CACHE[run.path] = (stamp, facts)
    return facts


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_mtime_ns, info.st_size


def _read_facts(run: rundir.RunInfo) -> RunFacts | Unranked:
    if run.problem:  # status.json does not read: no preset, state or verdict to rank it by
        return Unranked(run.path, run.problem)
    path = run.path / rundir.CONFIG
    try:
        config = cfg.TrainConfig.model_validate(_read_config(path)).model_dump()
    except OSError as error:
        return Unranked(run.path, f"{path}: {error.strerror or error}")
    except ValueError as error:  # tomllib's and pydantic's errors are ValueErrors
        return Unranked(run.path, f"{path}: {why_invalid(error)}")
    seconds, speeds, best, best_epoch = [], [], None, None
    for row in _read_metrics(run.path / rundir.METRICS):
        acc = row.get("val_acc")
        if isinstance(row.get("seconds"), (int, float)):
            seconds.append(row["seconds"])
        if isinstance(row.get("images_per_second"), (int, float)):
            speeds.append(row["images_per_second"])
        if isinstance(acc, (int, float)) and (best is None or acc > best):
            best, best_epoch = acc, row.get("epoch")
    status = run.status
    if status.best_val_acc is not None:  # the trainer's own verdict wins over a re-read
        best, best_epoch = status.best_val_acc, status.best_epoch or best_epoch
    return RunFacts(
        path=run.path,
        preset=status.preset or "custom",
        state=run.state,
        config=config,
        best_val_acc=best,
        best_epoch=best_epoch,
        seconds_per_epoch=statistics.median(seconds) if seconds else None,
        images_per_second=statistics.median(speeds) if speeds else None,
        checkpoint_bytes=_checkpoint_bytes(run.path),
    )


def _read_config(path: Path) -> dict[str, Any]:
    """config.toml as fer-tui writes it (flat `key = value` lines, JSON-compatible values) in
    one json.loads — tomllib is pure Python and was most of a 1,000-run table's time; any
    other TOML (a comment, a table, nan) goes to tomllib."""
    text = path.read_text(encoding="utf-8")
    pairs = []
    for line in text.splitlines():
        key, eq, value = line.partition(" = ")
        if not line.strip():
            continue
        if not eq or not key.isidentifier() or value[:1] not in '"-0123456789tf' or "#" in value:
            return fileio.parse_toml(text)  # tomllib, its nesting capped
        pairs.append(f'"{key}": {value}')
    try:
        return json.loads("{" + ", ".join(pairs) + "}")
    except ValueError:
        return fileio.parse_toml(text)


def _read_metrics(path: Path) -> list[dict]:
    """metrics.jsonl's whole lines in one json.loads; line by line (skipping damage) if that fails."""
    try:
        data = path.read_bytes()
    except OSError:
        return []
    lines = data[: data.rfind(b"\n") + 1].splitlines()  # a partial last line waits
    try:
        rows = json.loads(b"[" + b",".join(line for line in lines if line.strip()) + b"]")
    except ValueError:
        rows = []
        for line in lines:
            try:
                rows.append(json.loads(line))
            except ValueError:
                continue
    return [row for row in rows if isinstance(row, dict) and isinstance(row.get("epoch"), int)]


def _checkpoint_bytes(run_dir: Path) -> int | None:
    """best_model.ckpt's size; a record kept without it (bench/runs/) has its sidecar's."""
    try:
        return (run_dir / rundir.BEST).stat().st_size
    except OSError:
        pass
    try:
        size = json.loads((run_dir / "best_model.json").read_text()).get("bytes")
    except (OSError, ValueError, AttributeError):
        return None
    return size if isinstance(size, int) else None


def runs_of(paths: list[Path]) -> list[rundir.RunInfo]:
    """Every run in the given folders (a run folder counts as itself), each once."""
    seen: dict[Path, rundir.RunInfo] = {}
    for path in paths:
        for run in rundir.find_runs(path):
            seen.setdefault(run.path.resolve(), run)
    return list(seen.values())


# ---------------------------------------------------------------- building


def build(runs: list[rundir.RunInfo], base: str | None = None) -> Leaderboard:
    """Group, rank and name the columns. `base`: the preset to diff against (default: a
    sweep folder's base, else the preset most of the runs came from)."""
    read = [read_facts(run) for run in runs]
    facts = [f for f in read if isinstance(f, RunFacts)]
    ranked = [f for f in facts if f.best_val_acc is not None]
    groups: dict[tuple, list[RunFacts]] = {}
    for fact in ranked:
        groups.setdefault(fact.setting(), []).append(fact)
    rows = [Row(dict(key), members) for key, members in groups.items()]
    rows.sort(key=lambda r: -(r.mean("best_val_acc") or 0.0))
    base = base or _sweep_base(runs) or (Counter(f.preset for f in facts).most_common(1)[0][0] if facts else None)
    try:
        base_config = cfg.load_preset(base).config.model_dump() if base else None
    except ConfigError:
        base_config, base = None, None  # a preset since removed (or 'custom'): no base to diff against
    columns, common = _columns(rows, base_config)
    if not columns and rows:
        columns = [PRESET_COLUMN]
    board = Leaderboard(
        rows,
        base,
        columns,
        common,
        left_out=[f for f in facts if f.best_val_acc is None],
        unreadable=[f for f in read if isinstance(f, Unranked)],
    )
    if base_config is not None:
        wanted = {k: v for k, v in base_config.items() if k not in NOT_THE_SETTING}
        wanted.update({k: theirs for k, (_, theirs) in common.items()})
        board.base_row = next((r for r in rows if r.setting == wanted), None)
    return board


def _sweep_base(runs: list[rundir.RunInfo]) -> str | None:
    from fer_core.queue.sweep import base_of

    folders = {run.path.parent for run in runs}
    bases = {base_of(folder) for folder in folders}
    return bases.pop() if len(bases) == 1 else None


def _columns(rows: list[Row], base: dict[str, Any] | None) -> tuple[list[str], dict[str, tuple[Any, Any]]]:
    columns, common = [], {}
    for name in cfg.FIELDS:
        if name in NOT_THE_SETTING or not rows:
            continue
        values = {repr(r.setting.get(name)) for r in rows}
        differs = base is not None and any(r.setting.get(name) != base.get(name) for r in rows)
        if len(values) > 1:
            columns.append(name)
        elif differs:  # the same in every row but not the base's: one mention, not a column
            common[name] = (base.get(name) if base is not None else None, rows[0].setting.get(name))
    return columns, common


# ---------------------------------------------------------------- rendering

HEADERS = ("val acc %", "runs", "best ep", "s/epoch", "img/s", "ckpt MB")


def _number(value: Any) -> str:
    """A cell's text; a preset's name (status.json's word, anyone's to edit) escaped."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    return shown(value)


def _csv_value(value: Any) -> Any:
    """A CSV cell: a number as it is, text escaped as in a table (a CSV is read on a terminal
    too; the writer still quotes a comma or a quote)."""
    return shown(value) if isinstance(value, str) else value


def cells(board: Leaderboard, row: Row) -> list[str]:
    """One row's cells as text: the setting's columns, then the results (and vs the base)."""
    mean, std = row.mean("best_val_acc"), row.std("best_val_acc")
    acc = "-" if mean is None else f"{100 * mean:.2f}" + (f" ± {100 * std:.2f}" if std is not None else "")
    epoch, seconds, speed, size = (
        row.mean(n) for n in ("best_epoch", "seconds_per_epoch", "images_per_second", "checkpoint_bytes")
    )
    out = [_number(row.value(c)) for c in board.columns]
    out += [
        acc,
        str(len(row.runs)),
        "-" if epoch is None else f"{epoch:.1f}".removesuffix(".0"),
        "-" if seconds is None else f"{seconds:.1f}",
        "-" if speed is None else f"{speed:.0f}",
        "-" if size is None else f"{size / 1e6:.2f}",
    ]
    if board.base_row is not None:
        delta = board.delta(row)
        out.append("base" if row is board.base_row else "-" if delta is None else f"{delta:+.2f}")
    return out


def headers(board: Leaderboard) -> list[str]:
    return [*board.columns, *HEADERS, *(["vs base"] if board.base_row is not None else [])]


def caption(board: Leaderboard) -> str:
    """What every row shares and what the table leaves out, in one line."""
    runs = sum(len(r.runs) for r in board.rows)
    parts = [f"{len(board.rows)} setting{'s' * (len(board.rows) != 1)} from {runs} run{'s' * (runs != 1)}"]
    if board.base_name:
        parts.append(f"vs preset {shown(board.base_name)}")
    if board.common:
        parts.append(
            "all rows: "
            + ", ".join(f"{k}={_number(v)} ({_number(b)} in the base)" for k, (b, v) in board.common.items())
        )
    parts += left_out_notes(board)
    return "; ".join(parts)


def left_out_notes(board: Leaderboard) -> list[str]:
    """What the table leaves out, counted: runs without a val accuracy yet, and runs whose
    config.toml or status.json does not read (with the first one's reason, escaped: it names
    a file)."""
    notes = []
    if board.left_out:
        notes.append(f"{len(board.left_out)} run(s) without a val accuracy left out")
    if board.unreadable:
        count, first = len(board.unreadable), shown(board.unreadable[0].why)
        notes.append(f"{counted(count, 'unreadable run')} left out ({'' if count == 1 else 'the first: '}{first})")
    return notes


def render_text(board: Leaderboard) -> str:
    table = [headers(board)] + [cells(board, r) for r in board.rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
    lines = [
        "  ".join(
            c.rjust(w) if i >= len(board.columns) else c.ljust(w) for i, (c, w) in enumerate(zip(line, widths))
        ).rstrip()
        for line in table
    ]
    return "\n".join([caption(board), *lines])


def render_markdown(board: Leaderboard) -> str:
    head = headers(board)
    lines = [f"_{caption(board)}_", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in cells(board, r)) + " |" for r in board.rows]
    return "\n".join(lines)


def render_csv(board: Leaderboard) -> str:
    """Numbers unformatted, one column per quantity (for a spreadsheet or a paper's plot)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            *board.columns,
            "val_acc_mean",
            "val_acc_std",
            "runs",
            "seeds",
            "best_epoch",
            "seconds_per_epoch",
            "images_per_second",
            "checkpoint_bytes",
            "vs_base_points",
        ]
    )
    for row in board.rows:
        delta = board.delta(row)
        writer.writerow(
            [
                *(_csv_value(row.value(c)) for c in board.columns),
                row.mean("best_val_acc"),
                row.std("best_val_acc") if row.std("best_val_acc") is not None else "",
                len(row.runs),
                " ".join(map(str, row.seeds)),
                *(
                    "" if (v := row.mean(n)) is None else v
                    for n in ("best_epoch", "seconds_per_epoch", "images_per_second", "checkpoint_bytes")
                ),
                "" if delta is None else round(delta, 4),
            ]
        )
    return out.getvalue().rstrip("\n")
