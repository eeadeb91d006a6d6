"""Pure text helpers shared by the screens (no Textual, easy to unit-test)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from rich.text import Text

from fer_core.ckpt.verdict import Verdict
from fer_core.records import EpochRow, State
from fer_core.runs.columns import accuracy_text, duration  # noqa: F401  (duration: the screens' ETA, as `fer-tui runs` words it)
from fer_core.text import shown

STATE_STYLES: dict[State, str] = {
    "starting": "bold yellow",
    "running": "bold green",
    "finished": "cyan",
    "early_stopped": "cyan",
    "stopped": "yellow",
    "failed": "bold red",
    "lost": "red",
    "unknown": "dim",
    "unreadable": "bold red",
}


def percent(value: Any) -> str:
    """An accuracy in 0..1 as `68.21%`; `-` when missing (as `fer-tui runs` prints it)."""
    return accuracy_text(value)


def number(value: Any) -> str:
    """A config value as it would be typed in the form."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def diff_text(diff: dict[str, tuple[Any, Any]], limit: int | None = None) -> str:
    """`lr 0.003→0.01, epochs 8→4` from TrainConfig.diff (old, new)."""
    if not diff:
        return "no changes"
    items = [f"{name} {number(old)}→{number(new)}" for name, (old, new) in diff.items()]
    if limit is not None and len(items) > limit:
        items = items[:limit] + [f"+{len(items) - limit} more"]
    return ", ".join(items)


def differing_fields(configs: Iterable[dict[str, Any]]) -> set[str]:
    """Names of fields whose values are not all equal across the given config dicts."""
    configs = list(configs)
    names = {name for config in configs for name in config}
    return {name for name in names if len({repr(c.get(name)) for c in configs}) > 1}


def best_point(rows: list[EpochRow]) -> tuple[int, float] | None:
    """(epoch, val_acc) of the best epoch: the last row flagged is_best, else the max."""
    scored = [(r.epoch, r.val_acc, r.is_best) for r in rows if r.val_acc is not None]
    flagged = [(epoch, acc) for epoch, acc, is_best in scored if is_best]
    if flagged:
        return flagged[-1]
    if not scored:
        return None
    epoch, acc, _ = max(scored, key=lambda point: point[1])
    return epoch, acc


def series(rows: list[EpochRow], metric: str) -> tuple[list[int], list[float]]:
    """The (epochs, values) of one metric (an EpochRow field), skipping rows that lack it."""
    kept = [(row.epoch, value) for row in rows if (value := getattr(row, metric)) is not None]
    return [epoch for epoch, _ in kept], [value for _, value in kept]


def short_path(path: Path) -> str:
    """A path as a person would type it: relative to the cwd, else under ~, else absolute."""
    path = Path(path)
    for base, prefix in ((Path.cwd(), ""), (Path.home(), "~/")):
        if path == base:
            return prefix.rstrip("/") or "."
        if path.is_relative_to(base):
            return shown(prefix + str(path.relative_to(base)))
    return shown(path)


def place_name(path: Path, limit: int = 32) -> str:
    """A folder named for a status line of 80 columns: the shipped ones by what they are, a long
    path by its end (`…/fer-tui/samples`), never cut in the middle by the line's edge."""
    from fer_core import locations

    path = Path(path)
    for name, what in (("samples", "the shipped sample faces"), ("shipped", "the shipped models")):
        if path.resolve() == locations.shipped_data(name):
            return what
    text = short_path(path)
    return text if len(text) <= limit else "…" + text[-(limit - 1) :]


# one colour per level of fer_core.ckpt.verdict.LEVELS (a test holds them together)
VERDICT_STYLES = {"ok": "bold green", "unknown": "dim", "warning": "bold yellow", "broken": "bold red"}


def verdict_text(verdict: Verdict, full: bool = True) -> Text:
    """A verdict in its level's colour: `broken: truncated …`, or the level alone."""
    return Text(shown(verdict) if full else verdict.level, style=VERDICT_STYLES[verdict.level])


def class_name(label: Any) -> str:
    """A class index as its name; `?` for anything else."""
    from fer_core import CLASS_NAMES

    return CLASS_NAMES[label] if isinstance(label, int) and 0 <= label < len(CLASS_NAMES) else "?"


def prob_bar(p: Any, width: int = 10) -> str:
    """`███████░░░ 73%`: a probability as a bar of `width` cells (eighths for the last one)."""
    if not isinstance(p, (int, float)):
        return "-"
    p = min(1.0, max(0.0, float(p)))
    eighths = round(p * width * 8)
    full, part = divmod(eighths, 8)
    bar = "█" * full + ("▏▎▍▌▋▊▉"[part - 1] if part else "")
    return f"{bar.ljust(width, '░')} {100 * p:3.0f}%"


def run_label(run_id: str, width: int) -> str:
    """A run id in `width` cells, keeping what tells runs apart: the date goes first
    (`20261127-153012-gpu-recommended` → `153012-gpu-reco…`), then the end is cut."""
    run_id = shown(run_id)  # a folder name: its control characters escaped
    if len(run_id) > width and re.match(r"\d{8}-\d{6}-", run_id):
        run_id = run_id[9:]
    return run_id if len(run_id) <= width else run_id[: width - 1] + "…"


def fit(text: str, width: int) -> str:
    """`text` in at most `width` cells, the middle replaced by `…` (run ids differ at both ends)."""
    text = shown(text)
    if len(text) <= width:
        return text
    if width < 3:
        return text[:width]
    head = (width - 1) // 2
    return text[:head] + "…" + text[len(text) - (width - 1 - head) :]
