"""What a training run tells the world, kept out of the loop: status.json (a heartbeat while
training), one metrics.jsonl line per epoch, and the classic script's lines on stdout (a
terminal, or train.log for a detached run). The loop says what happened; this says it."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from fer_core import fileio
from fer_core.errors import FerError
from fer_core.records import EpochRow, RunStatus, TrainProgress
from fer_core.runs import rundir
from fer_core.train import terminal

STATUS_INTERVAL = 1.0  # seconds between heartbeats while training


class Reporter:
    def __init__(self, run_dir: Path, epochs: int):
        self.run_dir, self.epochs = Path(run_dir), epochs
        self.status = rundir.read_status(self.run_dir) or RunStatus()
        self.interactive = sys.stdout.isatty()  # a progress bar only where someone watches
        self.left_terminal = False
        self.log_copy = False
        self.last_heartbeat = 0.0

    # ------------------------------------------------------------ the channels

    def set_status(self, **fields: Any) -> None:
        """Change status.json's `fields` (and its heartbeat)."""
        self.status = rundir.write_status(self.run_dir, self.status.evolve(**fields))
        self.last_heartbeat = time.time()

    def say(self, line: str) -> None:
        if self.interactive:
            print("\r\033[K", end="")  # over the progress bar
        print(line, flush=True)
        if self.log_copy and not self.left_terminal:  # once it has left, stdout is train.log
            fileio.append_line(self.run_dir / rundir.LOG, line)

    def keep_log_copy(self) -> None:
        """A foreground run: what it says goes to train.log too, as a detached run's output does,
        so the dashboard's log tail and a later look at the folder find it."""
        self.log_copy = True

    def leave_terminal(self, why: str) -> None:
        """Point stdout and stderr at train.log: a dead terminal (EIO) must not end the run."""
        if not self.left_terminal:
            self.left_terminal, self.interactive = True, False
            terminal.redirect_output(self.run_dir / rundir.LOG, why)

    # ------------------------------------------------------------ the run's moments

    def resumed(self, progress: TrainProgress | None) -> None:
        """A resume from `progress` (None: no last_state.ckpt, so from epoch 1). metrics.jsonl
        becomes exactly the saved history: no duplicate or missing epoch."""
        rows = progress.history if progress else []
        fileio.write_text(self.run_dir / rundir.METRICS, "".join(row.to_line() + "\n" for row in rows))
        if progress is None:
            self.say("No last_state.ckpt yet (stopped before the first epoch ended): starting at epoch 1")
        else:
            self.say(
                f"Resuming at epoch {progress.epoch + 1}/{self.epochs} "
                f"(best {progress.best_val_acc:.4f} at epoch {progress.best_epoch})"
            )

    def running(self, progress: TrainProgress, steps: int) -> None:
        self.set_status(
            state="running",
            epoch=progress.epoch,
            epochs=self.epochs,
            steps=steps,
            **_best(progress),
            patience_left=progress.patience_left,
        )

    def step(self, epoch: int, step: int, steps: int, seen: int, started: float) -> None:
        """A step ended: the terminal's bar now, status.json at most once a STATUS_INTERVAL."""
        elapsed = time.time() - started
        speed = seen / elapsed
        if self.interactive:
            width = 30
            done = int(width * step / steps)
            print(
                f"\r  {epoch}/{self.epochs} [{'#' * done}{'.' * (width - done)}] {step}/{steps} {speed:.0f} img/s",
                end="",
                flush=True,
            )
        if time.time() - self.last_heartbeat >= STATUS_INTERVAL:
            epoch_time = elapsed * steps / max(1, step)
            eta = epoch_time * (steps - step) / steps + (self.epochs - epoch) * epoch_time
            self.set_status(
                state="running", epoch=epoch - 1, step=step, steps=steps, images_per_second=speed, eta_seconds=eta
            )

    def epoch_end(self, row: EpochRow, progress: TrainProgress) -> None:
        """An epoch ended: its metrics line, the classic script's lines, the status."""
        fileio.append_line(self.run_dir / rundir.METRICS, row.to_line())
        self.say(
            f"Epoch {row.epoch}/{self.epochs} - Loss: {row.train_loss:.4f} - "
            f"Train Accuracy: {row.train_acc:.4f} - Val Loss: {row.val_loss:.4f} - "
            f"{row.images_per_second:.0f} img/s - {row.seconds:.1f}s"
        )
        self.say(f"Validation Accuracy: {row.val_acc:.4f}")
        if row.is_best:
            self.say(f"New best accuracy: {progress.best_val_acc:.4f} at epoch {progress.best_epoch}")
        self.set_status(
            epoch=row.epoch,
            step=self.status.steps,
            **_best(progress),
            patience_left=progress.patience_left,
            images_per_second=row.images_per_second,
            eta_seconds=row.seconds * (self.epochs - row.epoch),
        )

    def finished(self, state: str, progress: TrainProgress) -> None:
        self.say(
            f"Training {state.replace('_', ' ')}: best validation accuracy "
            f"{progress.best_val_acc:.4f} at epoch {progress.best_epoch}"
        )
        self.diagnosis(progress)
        self.set_status(state=state, eta_seconds=0)

    def diagnosis(self, progress: TrainProgress) -> None:
        """What the curves say (fer_core.diagnose): the log's last lines."""
        from fer_core.diagnose import diagnose, summary_lines

        try:
            config = rundir.read_config(self.run_dir)
        except FerError:  # the run trained from it; unreadable now: remedies from the defaults
            config = None
        for line in summary_lines(diagnose(progress.history, config)):
            self.say(line)


def _best(progress: TrainProgress) -> dict[str, Any]:
    """The status's best fields: None until an epoch has been judged."""
    judged = progress.best_val_acc >= 0
    return {
        "best_val_acc": progress.best_val_acc if judged else None,
        "best_epoch": progress.best_epoch if judged else None,
    }
