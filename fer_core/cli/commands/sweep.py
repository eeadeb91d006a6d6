"""`fer-tui sweep`: a grid of settings × seeds over a preset, queued as one sweep folder."""

from __future__ import annotations

import argparse
from pathlib import Path

from fer_core import config as cfg
from fer_core.cli.commands import check_data_exists, train
from fer_core.cli.commands.queue import start
from fer_core.errors import ConfigError
from fer_core.queue import runner, sweep
from fer_core.queue.entries import Queue
from fer_core.runs.launcher import check_device
from fer_core.text import shown
from fer_core.train.parallel import msrun


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", nargs="?", type=Path, help="a sweep TOML (base, seeds, [set], [grid])")
    parser.add_argument("--preset", help="the base preset (instead of a file)")
    parser.add_argument("--grid", action="append", default=[], metavar="FIELD=V1,V2", help="values to try (repeatable)")
    parser.add_argument("--seeds", help="seeds, e.g. 1,2,3 (each setting runs once per seed)")
    parser.add_argument("--name", help="the sweep folder's name (default: time and preset)")
    parser.add_argument("--force", action="store_true", help=f"queue more than {sweep.LIMIT} runs")
    parser.add_argument("--start", action="store_true", help="start the queue's runner too")
    parser.add_argument("--parallel", type=int, default=1, metavar="N", help="with --start: runs at once")
    # the flags `train` takes, spelt as it spells them (`--augment`, `--no_mixup`); not seed
    # (--seeds) nor save_dir (the sweep's folder)
    fields = parser.add_argument_group("the same for every run (any `fer-tui train` field but seed and save_dir)")
    train.add_field_arguments(fields, skip=("seed", "save_dir"))


def spec_of(args: argparse.Namespace) -> sweep.SweepSpec:
    check_grid_flags(args.grid, args.file)
    if args.file and args.preset:
        raise ConfigError("give a sweep file or --preset, not both")
    if not args.file:  # with --preset too: else its empty grid is all it would say
        check_file_not_taken_by_a_switch(args)
    if args.file:
        spec = sweep.read_sweep_file(args.file)
        if args.grid:
            spec.grid.update(sweep.parse_grid_flags(args.grid))
    elif args.preset:
        spec = sweep.SweepSpec(base=args.preset, grid=sweep.parse_grid_flags(args.grid))
    else:
        raise ConfigError("no sweep: give a sweep file or --preset NAME --grid FIELD=V1,V2")
    if args.seeds:
        spec.seeds = sweep.parse_seeds(args.seeds)
    spec.fixed.update({f: getattr(args, f) for f in cfg.FIELDS if getattr(args, f, None) is not None})
    spec.name = args.name or spec.name
    return spec


def check_grid_flags(grid: list[str], file: Path | None) -> None:
    """`--grid lr 1e-3,3e-3` (no `=`): argparse took the values for the sweep file; say what
    --grid takes rather than that a file and --preset were both given."""
    for flag in grid:
        if "=" not in flag:
            # a sweep file that is not there is most likely the values this --grid lost
            values = str(file) if file is not None and not file.exists() else None
            given = f"--grid {flag}" + (f" {values}" if values else "")
            example = f"{flag.strip() or 'lr'}={values or '1e-3,2e-3'}"
            raise ConfigError(f"{given}: --grid takes FIELD=V1,V2 (--grid {example})")


def check_file_not_taken_by_a_switch(args: argparse.Namespace) -> None:
    """`sweep --augment lr.toml`: a switch takes an optional value, so argparse gave it the file."""
    # the file names its base preset: a --preset given too would be refused next
    without = f" (without --preset {args.preset}: the file names its base)" if args.preset else ""
    for name in cfg.BOOL_FIELDS:
        value = getattr(args, name, None)
        if value is not None and value.endswith(".toml"):
            raise ConfigError(
                f"--{name} {value}: the switch took the sweep file as its value; "
                f"put the file first: fer-tui sweep {value} --{name}{without}"
            )


def run(args: argparse.Namespace) -> int:
    spec = spec_of(args)
    settings = sweep.expand(spec, force=args.force)  # every config checked before anything is made
    for setting in settings[:1]:  # the device, workers and data are the same for every run
        check_device(setting.config.device_target)
        msrun.check(setting.config, msrun.Launch())
        check_data_exists(setting.config.data_csv)
    if args.start:  # a refused --parallel must not leave the sweep queued
        runner.check_parallel(Queue.of_root(), args.parallel, adding=[s.config.workers for s in settings])
    folder = sweep.create_folder(spec, settings)
    entries = Queue.of_root().add(
        [
            {
                "preset": spec.base,
                "config": s.config.model_dump(),
                "label": s.label,
                "sweep": str(folder.resolve()),
            }
            for s in settings
        ]
    )
    sweep.add_runs(folder, list(zip((e.id for e in entries), settings)))
    print(shown(f"queued {len(entries)} runs (#{entries[0].id}–#{entries[-1].id}) of sweep {folder}"))
    print(shown(f"leaderboard: fer-tui runs --table {folder}"))
    if args.start:
        return start(Queue.of_root(), args.parallel)
    print("start the runner: fer-tui queue start")
    return 0
