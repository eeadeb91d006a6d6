"""What a training run tells the world, kept out of the loop: status.json (a heartbeat while
training), one metrics.jsonl line per epoch, one steps.jsonl line every few seconds of training
(the curves inside an epoch), and the classic script's lines on stdout (a terminal, or
train.log for a detached run). The loop says what happened; this says it."""

from __future__ import annotations

import math
import os
import sys
import time
from pathlib import Path
from typing import Any

from fer_core import fileio
from fer_core.errors import FerError, ForeignFileError
from fer_core.records import EpochRow, RunStatus, StepRow, TrainProgress
from fer_core.runs import rundir
from fer_core.text import counted, shown
from fer_core.train import terminal

STATUS_INTERVAL = 1.0  # seconds between heartbeats while training
# seconds of training between steps.jsonl lines (and one at each epoch's end): ~12 short lines a
# minute, about 1 MB over a 12-hour run; FER_TUI_STEP_SECONDS changes it (tests use a fraction)
STEP_RECORD_SECONDS = 5.0
STEP_SECONDS_ENV = "FER_TUI_STEP_SECONDS"


def step_record_seconds() -> float:
    try:
        value = float(os.environ.get(STEP_SECONDS_ENV, STEP_RECORD_SECONDS))
    except ValueError:
        return STEP_RECORD_SECONDS
    return value if math.isfinite(value) and value >= 0 else STEP_RECORD_SECONDS


class StepWindow:
    """The steps since the last steps.jsonl line: their loss and accuracy sums."""

    def __init__(self) -> None:
        self.steps, self.loss, self.correct, self.images = 0, 0.0, 0, 0
        self.lr: float | None = None

    def add(self, loss: float, correct: int, images: int, lr: float) -> None:
        self.steps, self.loss, self.lr = self.steps + 1, self.loss + loss, lr
        self.correct, self.images = self.correct + correct, self.images + images

    def row(self, epoch: int, step: int, steps: int) -> StepRow:
        return StepRow(
            x=epoch - 1 + step / max(1, steps),
            epoch=epoch,
            step=step,
            loss=self.loss / self.steps if self.steps else None,
            acc=self.correct / self.images if self.images else None,
            lr=self.lr,
            time=time.time(),
        )


class Reporter:
    def __init__(self, run_dir: Path, epochs: int):
        self.run_dir, self.epochs = Path(run_dir), epochs
        self.status = rundir.read_status(self.run_dir) or RunStatus()
        self.interactive = sys.stdout.isatty()  # a progress bar only where someone watches
        self.left_terminal = False
        self.log_copy = False
        self.last_heartbeat = 0.0
        self.step_every = step_record_seconds()
        self.window, self.last_step_row = StepWindow(), time.time()

    # ------------------------------------------------------------ the channels

    def set_status(self, **fields: Any) -> None:
        """Change status.json's `fields` (and its heartbeat)."""
        self.status = rundir.write_status(self.run_dir, self.status.evolve(**fields))
        self.last_heartbeat = time.time()

    def say(self, line: str) -> None:
        line = shown(line)  # it may carry a data path or an error naming a file
        if self.interactive:
            print("\r\033[K", end="")  # over the progress bar
        print(line, flush=True)
        if self.log_copy and not self.left_terminal:  # once it has left, stdout is train.log
            try:
                fileio.append_line(self.run_dir / rundir.LOG, line)
            except ForeignFileError as error:  # replaced by a link mid-run: the terminal keeps the lines
                self.log_copy = False
                print(f"warning: {error}; no copy of this output is kept", flush=True)

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
        becomes exactly the saved history: no duplicate or missing epoch; steps.jsonl keeps
        the lines up to the saved step (the steps after it are trained again)."""
        rows = progress.history if progress else []
        fileio.write_text(self.run_dir / rundir.METRICS, "".join(row.to_line() + "\n" for row in rows))
        saved = (progress.epoch + 1, progress.step) if progress else (1, 0)
        kept = [row for row in rundir.read_steps(self.run_dir) if (row.epoch, row.step) <= saved]
        fileio.write_text(self.run_dir / rundir.STEPS, "".join(row.to_line() + "\n" for row in kept))
        if progress is None:
            self.say("No last_state.ckpt yet (stopped before any state was saved): starting at epoch 1")
        else:
            best = (
                f"best {progress.best_val_acc:.4f} at epoch {progress.best_epoch}"
                if progress.best_val_acc >= 0
                else "no epoch validated yet"
            )
            after = f" after step {progress.step}" if progress.step else ""
            self.say(f"Resuming at epoch {progress.epoch + 1}/{self.epochs}{after} ({best})")

    def running(self, progress: TrainProgress, steps: int) -> None:
        if (progress.epoch, progress.step) == (0, 0):  # a log with a line before epoch 1 ends
            self.say(f"Training {counted(self.epochs, 'epoch')} of {counted(steps, 'step')}")
        self.set_status(
            state="running",
            epoch=progress.epoch,
            epochs=self.epochs,
            step=progress.step,  # a resume starts where the stop left the epoch
            steps=steps,
            **_best(progress),
            patience_left=progress.patience_left,
        )

    def sample(self, loss: float, correct: int, images: int, lr: float) -> None:
        """A step's loss, correct predictions, images and learning rate, for steps.jsonl."""
        self.window.add(loss, correct, images, lr)

    def step(self, epoch: int, step: int, steps: int, seen: int, started: float, first: int = 0) -> None:
        """A step ended (`seen` images since `started`, when the epoch was at step `first`): the
        terminal's bar now, status.json at most once a STATUS_INTERVAL, a steps.jsonl line every
        few seconds and at the epoch's last step."""
        now = time.time()
        if self.window.steps and (step == steps or now - self.last_step_row >= self.step_every):
            fileio.append_line(self.run_dir / rundir.STEPS, self.window.row(epoch, step, steps).to_line())
            self.window, self.last_step_row = StepWindow(), now
        elapsed = now - started
        speed = seen / elapsed
        if self.interactive:
            width = 30
            done = int(width * step / steps)
            print(
                f"\r  {epoch}/{self.epochs} [{'#' * done}{'.' * (width - done)}] {step}/{steps} {speed:.0f} img/s",
                end="",
                flush=True,
            )
        # the epoch's last step always: while it validates, its status says every step is done
        # (what `stop` reads to tell where a stop resumes: the next epoch's start)
        if now - self.last_heartbeat >= STATUS_INTERVAL or step == steps:
            epoch_time = elapsed * steps / max(1, step - first)
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
            step=0,  # no step of the next epoch done yet (step=steps would say: validating it)
            **_best(progress),
            patience_left=progress.patience_left,
            images_per_second=row.images_per_second,
            eta_seconds=None if row.seconds is None else row.seconds * (self.epochs - row.epoch),
        )

    def stopped(self, signal_name: str, progress: TrainProgress) -> None:
        """A stop: status.json says where the run resumes (the position last_state.ckpt was saved
        at), as its message and `fer-tui wait` do, not the last heartbeat's step."""
        self.set_status(
            state="stopped",
            epoch=progress.epoch,
            step=progress.step,
            eta_seconds=None,
            message=f"stopped by {signal_name}; resumes at {progress.where()}",
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
