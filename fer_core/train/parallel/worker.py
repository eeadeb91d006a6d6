"""One msrun worker (or msrun's scheduler): `python -m fer_core.train.parallel.worker RUN_DIR [--resume]`.

msrun.py starts msrun with this module; each worker joins the cluster
(cluster.py) and runs the ordinary training loop. Kept apart from cluster.py so
the loop can import the cluster without the worker's entry point importing the loop back.
"""

from __future__ import annotations

if __name__ == "__main__":  # before numpy starts threads: see signals.block_stop_signals
    from fer_core.signals import hold_stop_signals

    # a stop during start-up (ctrl+c while MindSpore imports) waits for the trainer's handler
    hold_stop_signals()

import argparse
import os
import sys
from pathlib import Path

from fer_core import signals
from fer_core.runs import rundir
from fer_core.train.loop import Trainer
from fer_core.train.parallel.cluster import NoLock, join
from fer_core.train.parallel.msrun import LOGS, rank_folder
from fer_core.train.priority import keep_niceness
from fer_core.train.reporter import Reporter


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fer_core.train.parallel.worker")
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--resume", action="store_true")
    args = parser.parse_args(argv)
    keep_niceness()  # msrun leads a session of its own: the run's niceness goes with it
    if os.environ.get("MS_ROLE") == "MS_SCHED":
        # msrun's scheduler runs this module too: init() serves the cluster until the workers
        # are done and ends the process; it never touches the run directory
        from mindspore.communication import init

        from fer_core.mindspore_setup import configure

        configure(rundir.read_config(args.run_dir).device_target)
        init()
        return 0
    config = rundir.read_config(args.run_dir)
    cluster = join(config.device_target)
    # the run directory is rank 0's to write; the others report into a folder of their own
    report = Reporter(rank_folder(args.run_dir / LOGS, cluster.rank), config.epochs) if cluster.rank else None
    trainer = Trainer(args.run_dir, args.resume, lock=NoLock(), cluster=cluster, report=report)
    signals.route_signals(trainer.on_signal)
    print(f"worker rank {trainer.cluster.rank} of {trainer.cluster.size} (pid {os.getpid()})", flush=True)
    code = trainer.run()
    # a stop is not a failure: msrun would kill the other ranks while rank 0 saves its state
    return 0 if trainer.stop_signal is not None and code == 128 + trainer.stop_signal else code


if __name__ == "__main__":
    sys.exit(main())
