"""`fer-tui train`: the classic `python src/train.py --flags` line, with presets and runs."""

from __future__ import annotations

import argparse
from pathlib import Path

from fer_core import config as cfg
from fer_core.cli.commands import check_data_exists
from fer_core.config import TrainConfig
from fer_core.errors import ConfigError
from fer_core.runs import launcher, registry, rundir, runlock
from fer_core.runs.launcher import check_data_path, check_device
from fer_core.text import shown
from fer_core.train.parallel import msrun


def add_arguments(parser: argparse.ArgumentParser, detach: bool = True) -> None:
    """`train`'s flags; `queue add` takes them without --detach (its runs are always detached)."""
    parser.add_argument("--preset", default="cpu-basic", help="start from this preset (default cpu-basic)")
    parser.add_argument("--config", type=Path, help="start from this TOML file instead of a preset")
    parser.add_argument("--resume", metavar="RUN", help="continue a stopped or lost run from last_state.ckpt")
    if detach:
        parser.add_argument(
            "--detach", action="store_true", help="run in the background, immune to hang-ups; watch with `fer-tui`"
        )
    add_field_arguments(parser.add_argument_group("hyperparameters (classic spellings)"))
    nodes = parser.add_argument_group("data-parallel workers (--workers N, launched with msrun)")
    nodes.add_argument("--nodes", type=int, help="machines taking part (each runs this command; default 1)")
    nodes.add_argument("--node_rank", type=int, help="this machine's place among them, 0 on the master")
    nodes.add_argument("--master_addr", help="address of node 0, reachable from every node (default 127.0.0.1)")
    nodes.add_argument("--master_port", type=int, help="msrun's port on node 0 (default: a free one)")
    nodes.add_argument("--force", action="store_true", help="start more workers than this machine has cores")


def add_field_arguments(fields: argparse._ActionsContainer, skip: tuple[str, ...] = ()) -> None:
    """One `--flag` per TrainConfig field, as `train`, `queue add` and `sweep` all take them:
    raw text (None when not given), parsed by the schema (cfg.parse_value); a bool field is
    `--augment`, `--augment false` or `--no_augment`."""
    for name, info in TrainConfig.model_fields.items():
        if name in skip:
            continue
        if name in cfg.BOOL_FIELDS:
            fields.add_argument(f"--{name}", nargs="?", const="true", metavar="BOOL", help=info.description)
            fields.add_argument(f"--no_{name}", dest=name, action="store_const", const="false", help=f"turn {name} off")
        elif cfg.choices(name):  # `train --help` lists them; any case is taken (OneLineParser)
            options = cfg.choices(name)
            fields.add_argument(
                f"--{name}",
                choices=options,
                metavar=name.upper(),
                help=f"{info.description} (choices: {', '.join(options)})",
            )
        else:
            fields.add_argument(f"--{name}", metavar=name.upper(), help=info.description)


def resolve_config(args: argparse.Namespace) -> tuple[TrainConfig, str]:
    """Preset (or --config file) + flags, validated as one config."""
    if args.config:
        base, name = cfg.load_config_file(args.config), args.config.stem
    else:
        preset = cfg.load_preset(args.preset)  # `Demo`, `cpu_fast`: the preset's own name from here on
        base, name = preset.config, preset.name
    values = base.model_dump()
    for field in TrainConfig.model_fields:
        raw = getattr(args, field, None)
        if raw is not None:
            values[field] = cfg.parse_value(field, raw)
    if values["kernels"] == "fast" and values["device_target"] != "CPU" and args.kernels is None:
        # the preset's CPU-only choice, not the user's: the GPU line works as typed
        values["kernels"] = "auto"
        # name: a preset's, or the stem of a --config file as the user named it
        print(
            f'note: {shown(name)}\'s kernels = "fast" are CPU-only; {values["device_target"]} trains with stock operators'
        )
    return cfg.make_config(values), name


def launch_settings(args: argparse.Namespace, base: msrun.Launch) -> msrun.Launch:
    """--nodes, --node_rank, --master_addr, --master_port over `base` (a resumed run's own)."""
    given = {name: getattr(args, name, None) for name in ("nodes", "node_rank", "master_addr", "master_port")}
    return msrun.Launch(**{**vars(base), **{k: v for k, v in given.items() if v is not None}})


def resumable_run(args: argparse.Namespace) -> Path:
    """The run `--resume` names, refused in one line if other fields were given (a resume
    continues the run's own config) or if it cannot resume."""
    run_dir = registry.resolve_run(args.resume)  # started from another folder too
    given = [f for f in TrainConfig.model_fields if getattr(args, f, None) is not None]
    if given:
        raise ConfigError(f"--resume continues the run's own config; drop --{given[0]}")
    launcher.check_resumable(run_dir)
    return run_dir


def run(args: argparse.Namespace) -> int:
    if args.resume:
        run_dir = resumable_run(args)
        config, launch = rundir.read_config(run_dir), launch_settings(args, msrun.read_launch(run_dir))
        check_device(config.device_target)
        msrun.check(config, launch, args.force)
        msrun.save_launch(run_dir, launch)
        return _start(run_dir, args.detach, resume=True)
    config, preset = resolve_config(args)
    launch = launch_settings(args, msrun.Launch())
    check_device(config.device_target)
    msrun.check(config, launch, args.force)  # before the data: the cheap refusals first
    check_data_exists(config.data_csv)
    check_data_path(config)
    run_dir = rundir.create_run(config, preset)
    msrun.save_launch(run_dir, launch)
    return _start(run_dir, args.detach, resume=False)


def _start(run_dir: Path, detach: bool, resume: bool) -> int:
    if detach:
        pid = launcher.launch_detached(run_dir, resume=resume)
        print(shown(f"{'resumed' if resume else 'started'} {run_dir} (pid {pid}); it keeps running after you log out."))
        print(shown(f"watch it: fer-tui   |   tail -f {run_dir / rundir.LOG}   |   stop it: fer-tui stop {run_dir}"))
        return 0
    lock = runlock.acquire(run_dir)  # this process is the trainer: it holds the run's lock
    try:
        if resume:
            launcher.check_resumable(run_dir, holding_lock=True)  # again under the lock: another resume may have won
    except BaseException:
        lock.release()
        raise
    from fer_core.train.loop import train

    print(f"run directory: {shown(run_dir)}", flush=True)
    return train(run_dir, resume=resume, lock=lock, foreground=True)
