"""`fer-tui wait RUN`: block until the run ends; the exit code says how it ended, so
`fer-tui wait RUN && notify-send done` composes with any tool.

    0  finished (or stopped early by patience: early_stopped)
    1  failed
    2  not a run (or another error, as every verb)
    3  stopped (by `fer-tui stop`, the dashboard's s, or a signal)
    4  lost (the trainer died without a word: kill -9, a crash, a reboot)
    124  --timeout passed first (as timeout(1))
"""

import argparse
import sys
import time
from pathlib import Path

from fer_core.errors import ConfigError
from fer_core.runs.columns import epoch_text
from fer_core.runs.registry import resolve_run
from fer_core.runs.rundir import LIVE_STATES, effective_state, read_status
from fer_core.text import shown

EXIT_CODES = {"finished": 0, "early_stopped": 0, "failed": 1, "stopped": 3, "lost": 4, "unknown": 4}
TIMEOUT_CODE = 124
POLL_SECONDS = 1.0  # status.json is rewritten every second while training


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", help="run directory or run id")
    parser.add_argument(
        "--timeout", type=float, metavar="SECONDS", help="give up after this long (exit 124; 0: only look, do not wait)"
    )
    parser.add_argument("--quiet", "-q", action="store_true", help="print nothing, only the exit code")


def wait_for_end(run_dir: Path, timeout: float | None = None, poll: float = POLL_SECONDS) -> str | None:
    """The state the run ended in, or None if `timeout` seconds passed first."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        state = effective_state(read_status(run_dir), run_dir=run_dir)
        if state not in LIVE_STATES:
            return state
        if deadline is not None and time.monotonic() >= deadline:
            return None
        time.sleep(poll if deadline is None else max(0.0, min(poll, deadline - time.monotonic())))


def say_waiting(run_dir: Path) -> None:
    """One line on stderr as a wait on a live run begins (stdout keeps only the ending, for
    scripts); a run that has already ended is answered at once, with nothing before it."""
    status = read_status(run_dir)
    state = effective_state(status, run_dir=run_dir)
    if status is not None and state in LIVE_STATES:
        where = f"epoch {epoch_text(status, state)}, {state}"
        print(shown(f"waiting for {run_dir.name} ({where}) …"), file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    if args.timeout is not None and not args.timeout >= 0:  # NaN too: its deadline never comes
        raise ConfigError(f"--timeout must be >= 0 seconds, got {args.timeout:g}")
    run_dir = resolve_run(args.run)
    if not args.quiet:
        say_waiting(run_dir)
    state = wait_for_end(run_dir, args.timeout)
    if state is None:
        if not args.quiet:
            print(shown(f"{run_dir.name}: still live after {args.timeout:g}s"), file=sys.stderr)
        return TIMEOUT_CODE
    if not args.quiet:
        status = read_status(run_dir)
        message = f": {status.message}" if status and status.message and state != "finished" else ""
        print(shown(f"{run_dir.name}: {state.replace('_', ' ')}{message}"))  # both from the run's files
    return EXIT_CODES.get(state, 4)
