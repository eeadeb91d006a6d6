"""`fer-tui diagnose RUN`: what the run's curves say (fer_core.diagnose), with remedies."""

import argparse
import json
import sys

from fer_core.diagnose import diagnose, summary_lines
from fer_core.errors import DataError, FerError
from fer_core.runs import rundir
from fer_core.runs.registry import resolve_run
from fer_core.text import counted, shown


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", help="run directory or run id")
    parser.add_argument("--json", action="store_true", help="the findings as JSON (rule, severity, evidence, remedy)")


def run(args: argparse.Namespace) -> int:
    run_dir = resolve_run(args.run, readable=False)  # the curves need no status.json
    tail = rundir.MetricsTail(run_dir / rundir.METRICS)
    rows, damage = tail.poll(), tail.damage()
    if damage and not rows:  # "0 epochs, nothing to remark" would hide the damage
        raise DataError(f"{damage}; no epoch left to diagnose")
    if damage:  # on stderr: stdout (and --json) stays the findings alone
        print(f"warning: {shown(damage)}; the curves leave them out", file=sys.stderr)
    try:
        config = rundir.read_config(run_dir)
    except FerError:  # remedies then start from the defaults; said below
        config = None
    findings = diagnose(rows, config)
    if args.json:
        print(json.dumps([f.to_dict() for f in findings], indent=2))
        return 0
    unread = "" if config else " (no readable config.toml: remedies from defaults)"
    print(shown(f"{run_dir.name}: {counted(len(rows), 'epoch')}{unread}"))
    for line in summary_lines(findings):
        print(shown(line))
    return 0
