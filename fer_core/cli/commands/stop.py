from fer_core.runs.launcher import stop_run
from fer_core.runs.rundir import resolve_run
from fer_core.text import shown


def add_arguments(parser):
    parser.add_argument("run", help="run directory or run id")


def run(args) -> int:
    run_dir = resolve_run(args.run)
    pid = stop_run(run_dir)
    print(shown(f"asked trainer pid {pid} to stop; it saves {run_dir}/last_state.ckpt, then says 'stopped'"))
    return 0
