"""The training loop: `python -m fer_core.train RUN_DIR [--resume]`.

Reads RUN_DIR/config.toml, trains, and keeps the run directory's contract (fer_core.runs):
status.json heartbeats, one metrics.jsonl line per epoch, best/final/periodic checkpoints
with sidecars, and last_state.ckpt (weights + optimizer + history) for resume. SIGINT and
SIGTERM finish the current step, save last_state.ckpt and end with status `stopped`.
"""

from __future__ import annotations

if __name__ == "__main__":  # before numpy starts a thread that could take a signal: see trainer_os
    from fer_core.trainer_os import block_stop_signals

    block_stop_signals()

import argparse
import json
import math
import os
import queue
import signal
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

import numpy as np

from fer_core import NUM_CLASSES, augment, fileio, readback, runlock, runs, trainer_os
from fer_core.ckpt.io import load_train_state
from fer_core.checkpoint_policy import CheckpointPolicy
from fer_core.config import TrainConfig
from fer_core.data import load_dataset
from fer_core.errors import FerError, RunError
from fer_core.trainer_os import remove_stale_temporaries

STATUS_INTERVAL = 1.0  # seconds between heartbeats while training


def lr_schedule(config: TrainConfig, steps_per_epoch: int) -> np.ndarray:
    """Per-step learning rate: linear warm-up, then cosine decay from lr to min_lr."""
    total = config.epochs * steps_per_epoch
    warmup = config.warmup_epochs * steps_per_epoch
    steps = np.arange(total, dtype=np.float64)
    progress = np.clip((steps - warmup) / max(1, total - warmup - 1), 0, 1)  # last step at min_lr
    cosine = config.min_lr + 0.5 * (config.lr - config.min_lr) * (1 + np.cos(np.pi * progress))
    warm = config.lr * (steps + 1) / max(1, warmup)
    return np.where(steps < warmup, warm, cosine).astype(np.float32)


class StopRequested(Exception):
    """Raised between steps after SIGINT/SIGTERM."""


class Trainer:
    """One run: set up from the run directory, train epoch by epoch, keep the contract."""

    def __init__(self, run_dir: Path, resume: bool = False):
        self.run_dir = Path(run_dir)
        self.resume = resume
        self.config = runs.read_config(self.run_dir)
        self.status: dict[str, Any] = runs.read_status(self.run_dir) or {}
        self.stop_signal: int | None = None
        self.last_heartbeat = 0.0
        self.history: list[dict[str, Any]] = []
        self.interactive = sys.stdout.isatty()

    # ------------------------------------------------------------ status and output

    def set_status(self, **fields: Any) -> None:
        self.status.update(fields)
        runs.write_status(self.run_dir, self.status)
        self.last_heartbeat = time.time()

    def say(self, line: str) -> None:
        if self.interactive:
            print("\r\033[K", end="")
        print(line, flush=True)

    def _on_signal(self, signum, _frame) -> None:
        if signum == signal.SIGHUP:  # the terminal is gone: keep training, write to train.log
            self._leave_terminal("terminal hung up")
            return
        self.stop_signal = signum

    def _leave_terminal(self, why: str) -> None:
        """Point stdout and stderr at train.log: a dead terminal (EIO) must not end the run."""
        if not getattr(self, "left_terminal", False):
            self.left_terminal, self.interactive = True, False
            trainer_os.redirect_output(self.run_dir / runs.LOG, why)

    # ------------------------------------------------------------ the run

    def run(self) -> int:
        # one trainer per run directory, for its whole life (train() refuses a second one)
        lock = getattr(self, "lock", None) or runlock.adopt_or_acquire(self.run_dir)
        try:
            runlock.wait_for_launcher()  # its status write must land before ours
            lock.record_pid(os.getpid())
            trainer_os.route_signals(self._on_signal)  # a dropped SSH session never stops a run
            # a terminal that hangs up or a pipe whose reader left: output moves to train.log
            sys.stdout = trainer_os.TerminalGuard(sys.stdout, self._leave_terminal)
            return self._guarded_run()
        finally:
            lock.release()

    def _guarded_run(self) -> int:
        try:
            self.set_status(state="starting", pid=os.getpid(), message="")
            remove_stale_temporaries(self.run_dir)  # we hold the lock: no other writer is alive
            return self._run()
        except StopRequested:
            name = signal.Signals(self.stop_signal).name
            self.say(f"Stopped by {name}; last_state.ckpt saved, resume with "
                     f"`fer-tui train --resume {self.run_dir}`")
            self.set_status(state="stopped", message=f"stopped by {name}")
            return 128 + self.stop_signal  # the shell's convention: `train && next` does not go on
        except FerError as error:
            self.say(f"error: {error}")
            self.set_status(state="failed", message=str(error))
            return 2
        except Exception as error:  # the log keeps the traceback, the status one line
            if trainer_os.no_space(error):
                return trainer_os.out_of_space(self.run_dir, self.say, self.set_status)
            traceback.print_exc()
            # MindSpore's errors run to pages (C++ stacks): status.json keeps the first line
            first = next((line.strip() for line in str(error).splitlines() if line.strip()), "")
            message = f"{type(error).__name__}: {first}"[:300]
            self.set_status(state="failed", message=message)
            return 1

    def _run(self) -> int:
        config = self.config
        dataset = load_dataset(config.data_csv)
        train_split, val_split = dataset.split("Training"), dataset.split(config.val_split)

        import mindspore as ms

        from fer_core.mindspore_setup import configure

        configure(config.device_target)
        ms.set_seed(config.seed)
        from fer_core.models import build_model

        net = build_model(config.arch)
        batch = min(config.batch_size, len(train_split))
        steps_per_epoch = len(train_split) // batch
        schedule = lr_schedule(config, steps_per_epoch)
        optimizer = self._optimizer(net, schedule)
        train_step, predict = compile_steps(net, optimizer)

        saver = CheckpointPolicy(self.run_dir, config, self.status.get("run_id"))
        start_epoch, rng = 1, np.random.default_rng(config.seed)
        best, best_epoch, patience_left = -1.0, 0, config.patience
        if self.resume and not (self.run_dir / runs.LAST_STATE).exists():
            self.say("No last_state.ckpt yet (stopped before the first epoch ended): starting at epoch 1")
            fileio.write_text(self.run_dir / runs.METRICS, "")
        elif self.resume:
            meta = load_train_state(self.run_dir / runs.LAST_STATE, net, optimizer)
            start_epoch = int(meta["epoch"]) + 1
            # the schedule continues where the last whole epoch ended
            optimizer.global_step.set_data(ms.Tensor([(start_epoch - 1) * steps_per_epoch], ms.int32))
            best, best_epoch = float(meta["best_val_acc"]), int(meta["best_epoch"])
            patience_left = int(meta["patience_left"])
            rng.bit_generator.state = meta["rng_state"]
            self.history = list(meta["history"])
            # metrics.jsonl becomes exactly the saved history: no duplicate or missing epoch
            fileio.write_text(self.run_dir / runs.METRICS, "".join(json.dumps(r) + "\n" for r in self.history))
            self.say(f"Resuming at epoch {start_epoch}/{config.epochs} (best {best:.4f} at epoch {best_epoch})")

        self.set_status(state="running", epoch=start_epoch - 1, epochs=config.epochs, steps=steps_per_epoch,
                        best_val_acc=best if best >= 0 else None, best_epoch=best_epoch or None,
                        patience_left=patience_left)
        images, labels = train_split.images, train_split.labels
        waiter = readback.Waiter()
        end_state = "finished"
        for epoch in range(start_epoch, config.epochs + 1):
            started = time.time()
            epoch_rng_state = rng.bit_generator.state  # a stopped epoch is replayed from here
            order = rng.permutation(len(labels))
            losses, correct, seen = [], 0, 0
            batches = Prefetcher(lambda step: self._batch(images, labels, order[step * batch:(step + 1) * batch], rng),
                                 steps_per_epoch)
            for step, (index, x, targets) in enumerate(batches):
                if self.stop_signal is not None:
                    batches.close()
                    saver.save_state(net, optimizer, self._state(epoch - 1, best, best_epoch, patience_left,
                                                                 epoch_rng_state))
                    raise StopRequested
                loss, logits = waiter.numpy(*train_step(ms.Tensor(x), ms.Tensor(targets)))
                losses.append(float(loss))
                correct += int((logits.argmax(1) == labels[index]).sum())
                seen += len(index)
                self._progress(epoch, step + 1, steps_per_epoch, seen / (time.time() - started), started)
            train_seconds = time.time() - started
            val_loss, val_acc = self._validate(predict, val_split.images, val_split.labels, batch)
            is_best = val_acc > best
            if is_best:
                best, best_epoch, patience_left = val_acc, epoch, config.patience
            else:
                patience_left -= 1
            row = {"epoch": epoch, "train_loss": float(np.mean(losses)), "train_acc": correct / max(1, seen),
                   "val_loss": val_loss, "val_acc": val_acc, "lr": float(schedule[epoch * steps_per_epoch - 1]),
                   "seconds": time.time() - started, "images_per_second": seen / train_seconds,
                   "is_best": is_best, "patience_left": patience_left}
            self.history.append(row)
            # last_state carries the history, so it and metrics.jsonl can never disagree
            saver.end_of_epoch(net, optimizer, epoch, steps_per_epoch, val_acc, is_best,
                               self._state(epoch, best, best_epoch, patience_left, rng.bit_generator.state))
            fileio.append_line(self.run_dir / runs.METRICS, json.dumps(row))
            self._report(row, best, best_epoch)
            self.set_status(epoch=epoch, step=steps_per_epoch, best_val_acc=best, best_epoch=best_epoch,
                            patience_left=patience_left, images_per_second=row["images_per_second"],
                            eta_seconds=row["seconds"] * (config.epochs - epoch))
            if config.patience and patience_left <= 0 and epoch < config.epochs:
                self.say(f"Early stopping: no better validation accuracy for {config.patience} epochs")
                end_state = "early_stopped"
                break
        last = self.history[-1] if self.history else {"epoch": 0, "val_acc": None}
        saver.finish(net, last["epoch"], last["val_acc"])
        self.say(f"Training {end_state.replace('_', ' ')}: best validation accuracy {best:.4f} at epoch {best_epoch}")
        self.set_status(state=end_state, eta_seconds=0)
        return 0

    # ------------------------------------------------------------ pieces

    def _optimizer(self, net, schedule: np.ndarray):
        import mindspore as ms
        import mindspore.nn as nn

        params = net.trainable_params()
        decay = [p for p in params if len(p.shape) > 1]  # no decay on biases and BatchNorm
        rest = [p for p in params if len(p.shape) <= 1]
        groups = [{"params": decay, "weight_decay": self.config.weight_decay},
                  {"params": rest, "weight_decay": 0.0}]
        return nn.AdamWeightDecay(groups, learning_rate=ms.Tensor(schedule))

    def _batch(self, images: np.ndarray, labels: np.ndarray, index: np.ndarray, rng: np.random.Generator):
        config = self.config
        if config.augment:
            x = augment.augment_batch(images[index], rng, config.augment_policy)
        else:
            x = augment.normalise(images[index])
        targets = augment.soft_targets(labels[index], NUM_CLASSES, config.label_smoothing)
        if config.mixup:
            x, targets = augment.mixup(x, targets, rng, config.mixup_alpha)
        return index, np.ascontiguousarray(x, np.float32), targets

    def _validate(self, predict, images: np.ndarray, labels: np.ndarray, batch: int) -> tuple[float, float]:
        import mindspore as ms

        probs = predict_all(predict, ms, images, batch, tta=self.config.tta)
        picked = np.clip(probs[np.arange(len(labels)), labels], 1e-7, 1.0)
        return float(-np.log(picked).mean()), float((probs.argmax(1) == labels).mean())

    def _state(self, epoch, best, best_epoch, patience_left, rng_state) -> dict[str, Any]:
        """What last_state.ckpt holds besides the tensors: enough to resume exactly."""
        return {"epoch": epoch, "best_val_acc": best, "best_epoch": best_epoch, "patience_left": patience_left,
                "rng_state": rng_state, "history": [r for r in self.history if r["epoch"] <= epoch]}

    def _progress(self, epoch: int, step: int, steps: int, speed: float, started: float) -> None:
        if self.interactive:
            width = 30
            done = int(width * step / steps)
            print(f"\r  {epoch}/{self.config.epochs} [{'#' * done}{'.' * (width - done)}] {step}/{steps} "
                  f"{speed:.0f} img/s", end="", flush=True)
        if time.time() - self.last_heartbeat >= STATUS_INTERVAL:
            remaining_epochs = self.config.epochs - epoch
            epoch_time = (time.time() - started) * steps / max(1, step)
            eta = epoch_time * (steps - step) / steps + remaining_epochs * epoch_time
            self.set_status(state="running", epoch=epoch - 1, step=step, steps=steps,
                            images_per_second=speed, eta_seconds=eta)

    def _report(self, row: dict[str, Any], best: float, best_epoch: int) -> None:
        self.say(f"Epoch {row['epoch']}/{self.config.epochs} - Loss: {row['train_loss']:.4f} - "
                 f"Train Accuracy: {row['train_acc']:.4f} - Val Loss: {row['val_loss']:.4f} - "
                 f"{row['images_per_second']:.0f} img/s - {row['seconds']:.1f}s")
        self.say(f"Validation Accuracy: {row['val_acc']:.4f}")
        if row["is_best"]:
            self.say(f"New best accuracy: {best:.4f} at epoch {best_epoch}")


def compile_steps(net, optimizer):
    """(train_step, predict): the jit-compiled step (soft-target cross-entropy, optimizer update)
    and eval-mode softmax; each sets the network's mode before it runs."""
    import mindspore as ms
    import mindspore.ops as ops

    def forward(x, targets):
        logits = net(x)
        loss = -(targets * ops.log_softmax(logits, -1)).sum(-1).mean()
        return loss, logits

    grad_fn = ms.value_and_grad(forward, None, optimizer.parameters, has_aux=True)

    @ms.jit
    def train_step(x, targets):
        (loss, logits), grads = grad_fn(x, targets)
        optimizer(grads)
        return loss, logits

    @ms.jit
    def predict(x):
        return ops.softmax(net(x), -1)

    def train_mode(x, targets):
        net.set_train(True)
        return train_step(x, targets)

    def eval_mode(x):
        net.set_train(False)
        return predict(x)

    return train_mode, eval_mode


class Prefetcher:
    """Makes the next batches (augmentation included) in a thread while the network trains.

    One producer consumes the RNG in step order, so a run stays reproducible for its seed.
    """

    def __init__(self, make, steps: int, depth: int = 3):
        self.queue: queue.Queue = queue.Queue(maxsize=depth)
        self.closed = threading.Event()
        self.thread = threading.Thread(target=self._produce, args=(make, steps), daemon=True)
        self.thread.start()

    def _produce(self, make, steps: int) -> None:
        try:
            for step in range(steps):
                item = make(step)
                while not self.closed.is_set():
                    try:
                        self.queue.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if self.closed.is_set():
                    return
        except BaseException as error:  # surfaced in the training thread
            self.queue.put(error)
            return
        self.queue.put(None)

    def __iter__(self):
        while True:
            item = self.queue.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def close(self) -> None:
        self.closed.set()
        self.thread.join(timeout=5)


def predict_all(predict, ms, images: np.ndarray, batch: int, tta: bool = False) -> np.ndarray:
    """Class probabilities for every image, as `fer-tui eval` computes them; `tta` averages
    with the mirrored image."""
    from fer_core.infer import predict_batches

    waiter = readback.Waiter()

    def run(x: np.ndarray) -> np.ndarray:
        return waiter.numpy(predict(ms.Tensor(x)))[0]

    probs = predict_batches(run, images, batch)
    if tta:
        probs = (probs + predict_batches(run, np.ascontiguousarray(images[..., ::-1]), batch)) / 2
    return probs


def train(run_dir: Path, resume: bool = False, lock: runlock.RunLock | None = None) -> int:
    """Train the run; `lock` is the run's lock when the caller already holds it."""
    try:
        lock = lock or runlock.adopt_or_acquire(run_dir)
    except RunError as error:  # a second trainer for this run: it touches nothing
        print(f"error: {error}", file=sys.stderr, flush=True)
        return 2
    try:
        trainer = Trainer(run_dir, resume)
    except FerError as error:  # config.toml edited or unreadable after the launcher checked it
        print(f"error: {error}", file=sys.stderr, flush=True)
        runs.write_status(run_dir, {**(runs.read_status(run_dir) or {}), "state": "failed", "message": str(error)})
        lock.release()
        return 2
    trainer.lock = lock
    return trainer.run()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fer_core.train")
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--resume", action="store_true")
    args = parser.parse_args(argv)
    if not (args.run_dir / runs.CONFIG).exists():
        print(f"error: {args.run_dir}: no {runs.CONFIG}", file=sys.stderr)
        return 2
    return train(args.run_dir, args.resume)


if __name__ == "__main__":
    sys.exit(main())
