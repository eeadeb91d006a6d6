"""A stand-in trainer for UI tests: speaks the run-directory contract, never imports mindspore.

    python tests/fake_trainer.py RUN_DIR [--resume]

FAKE_TRAINER_EPOCH_SECONDS (default 0.3) paces the epochs; FAKE_TRAINER_HOLD=1 keeps the run
`running` with a heartbeat and writes no metrics (the test appends them itself);
FAKE_TRAINER_STEPS=1 also writes a steps.jsonl line at every step (the curves inside an
epoch), as the real trainer does every few seconds; FAKE_TRAINER_FAIL=1 fails after its
first epoch (status `failed`, exit 1). SIGTERM or
SIGINT: write last_state.ckpt, status `stopped`, exit 0 — as the real trainer does.
"""

from __future__ import annotations

import math
import os
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fer_core import fileio
from fer_core.records import EpochRow, RunStatus, StepRow  # noqa: E402
from fer_core.runs import rundir

STEPS = 10
SHIPPED = Path(__file__).resolve().parents[1] / "checkpoints" / "shipped" / "demo-tiny_cnn" / "best_model.ckpt"


def main(argv: list[str]) -> int:
    run_dir = Path(argv[0])
    resume = "--resume" in argv[1:]
    pace = float(os.environ.get("FAKE_TRAINER_EPOCH_SECONDS", "0.3"))
    hold = os.environ.get("FAKE_TRAINER_HOLD") == "1"
    step_rows = os.environ.get("FAKE_TRAINER_STEPS") == "1"
    config = rundir.read_config(run_dir)
    status = rundir.read_status(run_dir) or RunStatus()
    stop = {"asked": False}

    def on_signal(signum, frame):
        stop["asked"] = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    done = rundir.read_metrics(run_dir) if resume else []
    best = max((r.val_acc for r in done), default=None)
    best_epoch = next((r.epoch for r in done if r.val_acc == best), None)
    status = status.evolve(
        state="running",
        pid=os.getpid(),
        epochs=config.epochs,
        steps=STEPS,
        step=0,
        images_per_second=0.0,
        eta_seconds=None,
        message="",
        best_val_acc=best,
        best_epoch=best_epoch,
        patience_left=config.patience,
    )
    print(f"fake trainer pid {os.getpid()} {'resuming' if resume else 'starting'} {run_dir.name}", flush=True)
    epoch = len(done)
    while epoch < config.epochs or hold:
        for step in range(1, STEPS + 1):
            if stop["asked"]:
                # a real checkpoint file (the shipped demo model): resume checks its records
                (run_dir / rundir.LAST_STATE).write_bytes(SHIPPED.read_bytes())
                rundir.write_status(
                    run_dir, status.evolve(state="stopped", message=f"stopped at epoch {epoch + 1} step {step}")
                )
                print("stopped: saved last_state.ckpt", flush=True)
                return 0
            time.sleep(pace / STEPS)
            status = status.evolve(
                epoch=epoch + 1,
                step=step,
                images_per_second=1234.0,
                eta_seconds=round(pace * (config.epochs - epoch) - pace * step / STEPS, 1),
            )
            rundir.write_status(run_dir, status)
            if step_rows:
                x = epoch + step / STEPS
                row = StepRow(x=x, epoch=epoch + 1, step=step, loss=round(2.0 * math.exp(-x / 4), 4), acc=0.2, lr=1e-3)
                fileio.append_line(run_dir / rundir.STEPS, row.to_line())
        if hold:
            continue
        if os.environ.get("FAKE_TRAINER_FAIL") == "1":
            rundir.write_status(run_dir, status.evolve(state="failed", message="RuntimeError: the fake failed"))
            print("failed", flush=True)
            return 1
        epoch += 1
        val_acc = round(0.3 + 0.4 * (1 - math.exp(-epoch / 3)), 4)
        is_best = best is None or val_acc > best
        if is_best:
            best, best_epoch = val_acc, epoch
        row = EpochRow(
            epoch=epoch,
            train_loss=round(1.9 * math.exp(-epoch / 4), 4),
            train_acc=round(val_acc + 0.05, 4),
            val_loss=round(2.0 * math.exp(-epoch / 5), 4),
            val_acc=val_acc,
            lr=config.lr * (0.5 + 0.5 * math.cos(math.pi * epoch / config.epochs)),
            seconds=pace,
            images_per_second=1234.0,
            is_best=is_best,
            patience_left=config.patience,
        )
        fileio.append_line(run_dir / rundir.METRICS, row.to_line())
        status = status.evolve(best_val_acc=best, best_epoch=best_epoch)
        print(
            f"Epoch {epoch}/{config.epochs} - Loss: {row.train_loss:.4f} Validation Accuracy: {val_acc:.4f}", flush=True
        )
    rundir.write_status(run_dir, status.evolve(state="finished", eta_seconds=0))
    print("finished", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
