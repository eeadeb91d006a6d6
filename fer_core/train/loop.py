"""The training loop: `python -m fer_core.train RUN_DIR [--resume]`.

Reads RUN_DIR/config.toml, trains, and keeps the run directory's contract (fer_core.runs.rundir):
status.json heartbeats and one metrics.jsonl line per epoch (reporter.py), best/final/
periodic checkpoints with sidecars and last_state.ckpt for resume (checkpoint_policy.py). SIGINT and
SIGTERM finish the current step, save last_state.ckpt and end with status `stopped`.
"""

from __future__ import annotations

import argparse
import os
import queue
import signal
import sys
import threading
import time
import traceback
from pathlib import Path

import numpy as np

from fer_core import IMAGE_SIZE, NUM_CLASSES, signals
from fer_core.ckpt.io import load_train_state
from fer_core.config import TrainConfig
from fer_core.data import augment
from fer_core.data.dataset import load_dataset
from fer_core.errors import FerError, RunError, error_line
from fer_core.records import EpochRow, TrainProgress
from fer_core.runs import rundir, runlock
from fer_core.runs.rundir import remove_stale_temporaries
from fer_core.train import disk, readback, terminal
from fer_core.train.checkpoint_policy import CheckpointPolicy
from fer_core.train.parallel.cluster import NoLock, Solo
from fer_core.train.parallel.msrun import supervise
from fer_core.train.reporter import Reporter


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

    lock: runlock.RunLock | NoLock  # set when a launcher already holds it; else run() takes one

    def __init__(self, run_dir: Path, resume: bool = False):
        self.run_dir = Path(run_dir)
        self.resume = resume
        self.config = rundir.read_config(self.run_dir)
        self.report = Reporter(self.run_dir, self.config.epochs)
        self.stop_signal: int | None = None
        self.cluster = Solo()  # one process; msrun's workers get a distributed.Cluster

    def _on_signal(self, signum, _frame) -> None:
        if signum == signal.SIGHUP:  # the terminal is gone: keep training, write to train.log
            self.report.leave_terminal("terminal hung up")
            return
        self.stop_signal = signum

    # ------------------------------------------------------------ the run

    def run(self) -> int:
        # one trainer per run directory, for its whole life (train() refuses a second one)
        lock = getattr(self, "lock", None) or runlock.adopt_or_acquire(self.run_dir)
        try:
            runlock.wait_for_launcher()  # its status write must land before ours
            lock.record_pid(os.getpid())
            signals.route_signals(self._on_signal)  # a dropped SSH session never stops a run
            # a terminal that hangs up or a pipe whose reader left: output moves to train.log
            sys.stdout = terminal.TerminalGuard(sys.stdout, self.report.leave_terminal)
            return self._guarded_run()
        finally:
            lock.release()

    def _guarded_run(self) -> int:
        report = self.report
        try:
            report.set_status(state="starting", pid=os.getpid(), message="")
            if self.cluster.writes:  # we hold the lock: no other writer is alive
                remove_stale_temporaries(self.run_dir)
            return self._run()
        except StopRequested:
            assert self.stop_signal is not None  # raised only once a signal arrived
            name = signal.Signals(self.stop_signal).name
            report.say(f"Stopped by {name}; last_state.ckpt saved, resume with `fer-tui train --resume {self.run_dir}`")
            report.set_status(state="stopped", message=f"stopped by {name}")
            return 128 + self.stop_signal  # the shell's convention: `train && next` does not go on
        except FerError as error:
            report.say(f"error: {error}")
            report.set_status(state="failed", message=str(error))
            return 2
        except Exception as error:  # the log keeps the traceback, the status one line
            if disk.no_space(error):
                return disk.out_of_space(self.run_dir, report.say, report.set_status)
            traceback.print_exc()
            report.set_status(state="failed", message=error_line(error))  # MindSpore's run to pages
            return 1

    def _run(self) -> int:
        config, report = self.config, self.report
        dataset = load_dataset(config.data_csv)
        train_split, val_split = dataset.split("Training"), dataset.split(config.val_split)

        import mindspore as ms

        from fer_core.mindspore_setup import configure

        configure(config.device_target)
        ms.set_seed(config.seed)
        from fer_core.models import build_model

        net = build_model(config.arch)
        if config.kernels == "fast":  # same Parameters, so checkpoints are the stock layout
            from fer_core.kernels.swap import use_fast_kernels

            report.say(use_fast_kernels(net))
        self.cluster.prepare(net)
        batch = min(config.batch_size, len(train_split))
        steps_per_epoch = len(train_split) // batch
        schedule = lr_schedule(config, steps_per_epoch)
        optimizer = self._optimizer(net, schedule)
        train_step, predict = compile_steps(net, optimizer, self.cluster.grad_reducer(optimizer))
        saver = self.cluster.checkpoints(CheckpointPolicy(self.run_dir, config, report.status.run_id))
        progress = self._start(net, optimizer, steps_per_epoch)
        # Compile the validation graph now, not after the first epoch: a graph that does not
        # compile fails the run in its first minute, and MindSpore reads a function's source
        # when it compiles it, which once killed a run hours in after its code was replaced on
        # disk. After _start: a resume's set_data gives the parameters new buffers, and a graph
        # compiled before it would keep validating the untrained network's.
        readback.Waiter().numpy(predict(ms.Tensor(np.zeros((batch, 1, IMAGE_SIZE, IMAGE_SIZE), np.float32))))
        rng = np.random.default_rng(config.seed)
        if progress.rng_state:
            rng.bit_generator.state = progress.rng_state
        report.running(progress, steps_per_epoch)

        images, labels = train_split.images, train_split.labels
        waiter = readback.Waiter()
        end_state = "finished"
        for epoch in range(progress.epoch + 1, config.epochs + 1):
            started = time.time()
            progress.rng_state = dict(rng.bit_generator.state)
            replay = progress.model_dump()  # a stopped epoch is replayed from here
            order = rng.permutation(len(labels))
            losses, correct, seen = [], 0, 0
            batches = Prefetcher(
                lambda step, order=order: self.cluster.shard(  # a worker's share of the global batch
                    self._batch(images, labels, order[step * batch : (step + 1) * batch], rng)
                ),
                steps_per_epoch,
            )
            for step, (index, x, targets) in enumerate(batches, 1):
                self.stop_signal = self.cluster.agree_stop(self.stop_signal)  # all workers stop at one step
                if self.stop_signal is not None:
                    batches.close()
                    saver.save_state(net, optimizer, replay)
                    raise StopRequested
                loss, logits = waiter.numpy(*train_step(ms.Tensor(x), ms.Tensor(targets)))
                losses.append(float(loss))
                correct += int((logits.argmax(1) == labels[index]).sum())
                seen += len(index)
                report.step(epoch, step, steps_per_epoch, self.cluster.size * seen, started)  # all workers'
            train_seconds = time.time() - started
            losses, correct, seen = self.cluster.epoch_totals(losses, correct, seen)
            val_loss, val_acc = self.cluster.validate(
                net, lambda x, y: self._validate(predict, x, y, batch), val_split.images, val_split.labels
            )
            row = progress.end_epoch(
                EpochRow(
                    epoch=epoch,
                    train_loss=float(np.mean(losses)),
                    train_acc=correct / max(1, seen),
                    val_loss=val_loss,
                    val_acc=val_acc,
                    lr=float(schedule[epoch * steps_per_epoch - 1]),
                    seconds=time.time() - started,
                    images_per_second=seen / train_seconds,
                ),
                config.patience,
            )
            progress.rng_state = dict(rng.bit_generator.state)
            # last_state carries the history, so it and metrics.jsonl can never disagree
            saver.end_of_epoch(net, optimizer, epoch, steps_per_epoch, val_acc, row.is_best, progress.model_dump())
            report.epoch_end(row, progress)
            if config.patience and progress.patience_left <= 0 and epoch < config.epochs:
                report.say(f"Early stopping: no better validation accuracy for {config.patience} epochs")
                end_state = "early_stopped"
                break
        last = progress.history[-1] if progress.history else EpochRow(epoch=0)
        saver.finish(net, last.epoch, last.val_acc)
        report.finished(end_state, progress)
        return 0

    # ------------------------------------------------------------ pieces

    def _start(self, net, optimizer, steps_per_epoch: int) -> TrainProgress:
        """Where training begins: before epoch 1, or (resuming) where last_state.ckpt ended."""
        fresh = TrainProgress(patience_left=self.config.patience)
        if not self.resume:
            return fresh
        if not (self.run_dir / rundir.LAST_STATE).exists():
            self.report.resumed(None)
            return fresh
        import mindspore as ms

        progress = TrainProgress.model_validate(load_train_state(self.run_dir / rundir.LAST_STATE, net, optimizer))
        # the schedule continues where the last whole epoch ended
        optimizer.global_step.set_data(ms.Tensor([progress.epoch * steps_per_epoch], ms.int32))
        self.report.resumed(progress)
        return progress

    def _optimizer(self, net, schedule: np.ndarray):
        import mindspore as ms
        import mindspore.nn as nn

        params = net.trainable_params()
        decay = [p for p in params if len(p.shape) > 1]  # no decay on biases and BatchNorm
        rest = [p for p in params if len(p.shape) <= 1]
        groups = [{"params": decay, "weight_decay": self.config.weight_decay}, {"params": rest, "weight_decay": 0.0}]
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


def compile_steps(net, optimizer, reduce_grads=None):
    """(train_step, predict): the jit-compiled step (soft-target cross-entropy, optimizer update)
    and eval-mode softmax; each sets the network's mode before it runs. `reduce_grads` (data
    parallel) averages the gradients over the workers before the update."""
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
        if reduce_grads is not None:
            grads = reduce_grads(grads)
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
    from fer_core.infer.predictor import predict_batches

    waiter = readback.Waiter()

    def run(x: np.ndarray) -> np.ndarray:
        return waiter.numpy(predict(ms.Tensor(x)))[0]

    probs = predict_batches(run, images, batch)
    if tta:
        probs = (probs + predict_batches(run, np.ascontiguousarray(images[..., ::-1]), batch)) / 2
    return probs


def train(run_dir: Path, resume: bool = False, lock: runlock.RunLock | None = None, foreground: bool = False) -> int:
    """Train the run; `lock` is the run's lock when the caller already holds it; `foreground`:
    stdout is the user's terminal, so what the run says is copied to train.log as well."""
    try:
        lock = lock or runlock.adopt_or_acquire(run_dir)
    except RunError as error:  # a second trainer for this run: it touches nothing
        print(f"error: {error}", file=sys.stderr, flush=True)
        return 2
    try:
        trainer = Trainer(run_dir, resume)
    except FerError as error:  # config.toml edited or unreadable after the launcher checked it
        print(f"error: {error}", file=sys.stderr, flush=True)
        rundir.update_status(run_dir, state="failed", message=str(error))
        lock.release()
        return 2
    if trainer.config.workers > 1:  # data-parallel: this process launches msrun and watches it
        return supervise(run_dir, resume, lock)
    trainer.lock = lock
    if foreground:
        trainer.report.keep_log_copy()
    return trainer.run()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fer_core.train")
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--resume", action="store_true")
    args = parser.parse_args(argv)
    if not (args.run_dir / rundir.CONFIG).exists():
        print(f"error: {args.run_dir}: no {rundir.CONFIG}", file=sys.stderr)
        return 2
    return train(args.run_dir, args.resume)
