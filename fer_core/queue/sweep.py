"""Sweeps: a grid of settings × seeds over a base preset, expanded into queue entries and
recorded in one folder, `<checkpoints root>/sweeps/<name>/`, which is also its runs' save_dir.

    # sweep.toml as written by hand (flags say the same: --preset demo --grid lr=1e-3,2e-3 --seeds 1,2)
    base = "demo"
    seeds = [1, 2]
    [set]            # the same for every run (optional)
    epochs = 3
    [grid]           # every combination of these
    lr = [1e-3, 2e-3]

The folder's own sweep.toml repeats that and names each run as the runner starts it. Every
expanded config is validated (fer_core.config.make_config) before anything is queued: a bad
sweep is one line and leaves no trace.
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fer_core import config as cfg
from fer_core import fileio, locations
from fer_core.errors import ConfigError, did_you_mean

LIMIT = 64  # more runs than this is probably a typo in the grid: --force says it is not
SWEEP_FILE = "sweep.toml"
NOT_SWEPT = {
    "seed": "use seeds = [...] (the leaderboard averages over them)",
    "save_dir": "the sweep's folder is its runs' save_dir",
    "data_csv": "one sweep, one data set: set it once (--data_csv or [set])",
}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")


@dataclass
class SweepSpec:
    base: str
    grid: dict[str, list[Any]] = field(default_factory=dict)
    seeds: list[int] = field(default_factory=list)
    fixed: dict[str, Any] = field(default_factory=dict)
    name: str | None = None


@dataclass
class Setting:
    """One expanded run of a sweep: the grid values it takes, its seed, its whole config."""

    values: dict[str, Any]
    seed: int
    config: cfg.TrainConfig

    @property
    def label(self) -> str:
        return " ".join([*(f"{k}={_show(v)}" for k, v in self.values.items()), f"seed={self.seed}"])


def _show(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value).lower() if isinstance(value, bool) else str(value)


# ---------------------------------------------------------------- reading a sweep


def read_sweep_file(path: Path) -> SweepSpec:
    data = cfg.read_toml(Path(path))
    known = {"base", "grid", "seeds", "set", "name", "runs", "created"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"{path}: unknown key '{unknown[0]}' (a sweep has: base, name, seeds, [set], [grid])")
    base = data.get("base")
    if not isinstance(base, str) or not base:
        raise ConfigError(f'{path}: no base preset (base = "demo")')
    grid, fixed = data.get("grid", {}), data.get("set", {})
    if not isinstance(grid, dict) or not isinstance(fixed, dict):
        raise ConfigError(f"{path}: [grid] and [set] must be tables")
    for name, values in grid.items():
        if not isinstance(values, list):
            raise ConfigError(f"{path}: grid {name} must be a list (lr = [1e-3, 2e-3]), got {values!r}")
    seeds = grid.pop("seeds", None) or grid.pop("seed", None) or data.get("seeds", [])
    if not isinstance(seeds, list) or not all(isinstance(s, int) and not isinstance(s, bool) for s in seeds):
        raise ConfigError(f"{path}: seeds must be a list of integers (seeds = [1, 2]), got {seeds!r}")
    return SweepSpec(base=base, grid=grid, seeds=seeds, fixed=fixed, name=data.get("name"))


def parse_grid_flags(flags: list[str]) -> dict[str, list[Any]]:
    """`--grid lr=1e-3,2e-3 --grid mixup=true,false` as {field: [typed values]}."""
    grid: dict[str, list[Any]] = {}
    for flag in flags:
        name, eq, values = flag.partition("=")
        name = name.strip().replace("-", "_")
        if not eq or not name:
            raise ConfigError(f"--grid {flag}: --grid takes FIELD=V1,V2 (e.g. lr=1e-3,2e-3)")
        grid[name] = [v for v in values.split(",") if v.strip()]
    return grid


def parse_seeds(text: str) -> list[int]:
    try:
        return [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise ConfigError(f"--seeds {text}: expected integers separated by commas (1,2,3)") from None


# ---------------------------------------------------------------- expanding and checking


def expand(spec: SweepSpec, force: bool = False) -> list[Setting]:
    """Every run of the sweep, each config validated; ConfigError (one line) on the first problem."""
    spec.base = cfg.preset_name(spec.base)  # `Demo`: the folder and the entries say `demo`
    base = cfg.load_preset(spec.base).config
    values = base.model_dump()
    for name, value in spec.fixed.items():
        _check_field(name, "set")
        values[name] = _typed(name, value)
    for name, options in spec.grid.items():
        _check_field(name, "grid")
        if not options:
            raise ConfigError(f"sweep grid {name} is empty: give it two or more values")
        typed = [_typed(name, v) for v in options]
        if len({repr(v) for v in typed}) < len(typed):
            raise ConfigError(f"sweep grid {name} repeats a value: {', '.join(map(_show, typed))}")
        spec.grid[name] = typed
    seeds = spec.seeds or [values["seed"]]
    if len(set(seeds)) < len(seeds):
        raise ConfigError(f"sweep seeds repeat a value: {', '.join(map(str, seeds))}")
    count = len(seeds) * _product(len(v) for v in spec.grid.values())
    if count < 2:
        raise ConfigError("nothing to sweep: give a grid (--grid lr=1e-3,2e-3) or two or more seeds")
    if count > LIMIT and not force:
        raise ConfigError(f"the sweep is {count} runs, more than {LIMIT}; check the grid, or --force to queue them all")
    settings = []
    names = list(spec.grid)
    for combo in itertools.product(*spec.grid.values()):
        for seed in seeds:
            chosen = dict(zip(names, combo))
            setting = Setting(chosen, seed, cfg.TrainConfig())
            try:
                setting.config = cfg.make_config({**values, **chosen, "seed": seed})
            except ConfigError as error:
                raise ConfigError(f"sweep setting {setting.label}: {error}") from None
            setting.values = {k: getattr(setting.config, k) for k in names}  # typed: 1e-3 is 0.001
            settings.append(setting)
    for name in names:  # sweep.toml records the values as the configs hold them
        spec.grid[name] = list(dict.fromkeys(s.values[name] for s in settings))
    return settings


def _check_field(name: str, where: str) -> None:
    if name not in cfg.TrainConfig.model_fields:
        raise ConfigError(f"sweep {where}: unknown field '{name}'" + did_you_mean(name, cfg.FIELDS))
    if name in NOT_SWEPT and where == "grid":
        raise ConfigError(f"sweep grid: {name} cannot be swept: {NOT_SWEPT[name]}")
    if name == "save_dir":
        raise ConfigError(f"sweep {where}: save_dir is the sweep's folder")


def _typed(name: str, value: Any) -> Any:
    return cfg.parse_value(name, value) if isinstance(value, str) else value


def _product(numbers: Iterable[int]) -> int:
    total = 1
    for n in numbers:
        total *= n
    return total


# ---------------------------------------------------------------- the sweep folder


def sweeps_root() -> Path:
    return locations.checkpoints_root() / "sweeps"


def create_folder(spec: SweepSpec, settings: list[Setting]) -> Path:
    """`sweeps/<name>/` with its sweep.toml; the settings' save_dir is set to it."""
    name = spec.name or f"{time.strftime('%Y%m%d-%H%M%S')}-{spec.base}"
    if not _NAME.fullmatch(name):
        raise ConfigError(f"sweep name must be letters, digits, '.', '-' or '_', got {name!r}")
    folder = sweeps_root() / name
    folder.parent.mkdir(parents=True, exist_ok=True)
    try:
        folder.mkdir()
    except FileExistsError:
        raise ConfigError(f"{folder}: a sweep of that name exists; choose another --name") from None
    save_dir = str(folder.resolve())
    for setting in settings:
        setting.config = cfg.make_config({**setting.config.model_dump(), "save_dir": save_dir})
    fileio.write_toml(
        folder / SWEEP_FILE,
        {
            "name": name,
            "base": spec.base,
            "created": time.time(),
            "seeds": sorted({s.seed for s in settings}),
            "set": spec.fixed,
            "grid": spec.grid,
            "runs": [],
        },
    )
    return folder


def add_runs(folder: Path, planned: list[tuple[int, Setting]]) -> None:
    """Name the queue entries in sweep.toml (their run folders come as they start)."""
    data = cfg.read_toml(folder / SWEEP_FILE)
    data["runs"] = [
        {"entry": entry_id, "setting": setting.label, "seed": setting.seed, "run": ""} for entry_id, setting in planned
    ]
    fileio.write_toml(folder / SWEEP_FILE, data)


def record_run(folder: Path, entry_id: int, run_dir: Path) -> None:
    """The runner names an entry's run folder in sweep.toml as it creates it."""
    try:
        data = cfg.read_toml(folder / SWEEP_FILE)
    except ConfigError:
        return  # the sweep's record was removed: the run itself is unaffected
    for run in data.get("runs", []):
        if run.get("entry") == entry_id:
            run["run"] = Path(run_dir).name
    fileio.write_toml(folder / SWEEP_FILE, data)


def base_of(folder: Path) -> str | None:
    """The base preset a sweep folder names, or None if the folder is no sweep."""
    try:
        base = cfg.read_toml(Path(folder) / SWEEP_FILE).get("base")
    except ConfigError:
        return None
    return base if isinstance(base, str) else None
