import argparse

from fer_core.runs.columns import stop_keeps
from fer_core.runs.launcher import stop_run
from fer_core.runs.registry import resolve_run
from fer_core.runs.rundir import read_status
from fer_core.text import shown


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", help="run directory or run id")


def run(args: argparse.Namespace) -> int:
    run_dir = resolve_run(args.run)
    keeps = stop_keeps(read_status(run_dir))
    pid = stop_run(run_dir)
    print(shown(f"asked trainer pid {pid} to stop. {keeps}"))
    print(shown(f"It says 'stopped' in {run_dir}/status.json; `fer-tui train --resume {run_dir}` goes on."))
    return 0
