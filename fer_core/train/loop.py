"""The training loop: `python -m fer_core.train RUN_DIR [--resume]`.

Reads RUN_DIR/config.toml, trains, and keeps the run directory's contract (fer_core.runs.rundir):
status.json heartbeats and one metrics.jsonl line per epoch (reporter.py), best/final/
periodic checkpoints with sidecars and last_state.ckpt for resume (checkpoint_policy.py). SIGINT and
SIGTERM finish the current step, save last_state.ckpt at that step and end with status `stopped`;
`--resume` trains the steps that remained, on the same batches (EpochPass).
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
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType, ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

from fer_core import IMAGE_SIZE, NUM_CLASSES, fileio, signals
from fer_core.ckpt.io import load_train_state
from fer_core.config import TrainConfig
from fer_core.data import augment
from fer_core.data.dataset import Split, load_dataset
from fer_core.errors import FerError, RunError, error_line
from fer_core.records import EpochRow, TrainProgress
from fer_core.runs import registry, rundir, runlock
from fer_core.runs.rundir import remove_stale_temporaries
from fer_core.text import shown
from fer_core.train import disk, readback, terminal
from fer_core.train.checkpoint_policy import CheckpointPolicy
from fer_core.train.parallel.cluster import Batch, NoLock, Solo
from fer_core.train.parallel.msrun import supervise
from fer_core.train.reporter import Reporter

if TYPE_CHECKING:
    import mindspore as ms
    from mindspore import nn

    # the compiled step: (images, soft targets) -> (loss, logits), the parameters updated
    TrainStep = Callable[[ms.Tensor, ms.Tensor], tuple[ms.Tensor, ms.Tensor]]
    Predict = Callable[[ms.Tensor], ms.Tensor]  # images -> class probabilities, in eval mode


def lr_schedule(config: TrainConfig, steps_per_epoch: int) -> np.ndarray:
    """Per-step learning rate: linear warm-up, then cosine decay from lr to min_lr."""
    total = config.epochs * steps_per_epoch
    warmup = config.warmup_epochs * steps_per_epoch
    steps = np.arange(total, dtype=np.float64)
    progress = np.clip((steps - warmup) / max(1, total - warmup - 1), 0, 1)  # last step at min_lr
    cosine = config.min_lr + 0.5 * (config.lr - config.min_lr) * (1 + np.cos(np.pi * progress))
    warm = config.lr * (steps + 1) / max(1, warmup)
    return np.where(steps < warmup, warm, cosine).astype(np.float32)


def make_optimizer(net: nn.Cell, schedule: np.ndarray, weight_decay: float) -> nn.AdamWeightDecay:
    """AdamW over `schedule` (a rate per step), with no decay on biases and BatchNorm."""
    import mindspore as ms
    import mindspore.nn as nn

    params = net.trainable_params()
    decay = [p for p in params if len(p.shape) > 1]
    rest = [p for p in params if len(p.shape) <= 1]
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": rest, "weight_decay": 0.0}]
    # a run of one step: MindSpore warns on the terminal about a one-rate schedule, so the rate
    # is given twice (the second is never reached)
    rates = np.repeat(schedule, 2) if len(schedule) == 1 else schedule
    return nn.AdamWeightDecay(groups, learning_rate=ms.Tensor(rates))


class StopRequested(Exception):
    """Raised between steps after SIGINT/SIGTERM, once last_state.ckpt is saved at `progress`
    (where the run resumes; str(): `epoch 3 after step 120`)."""

    def __init__(self, progress: TrainProgress):
        super().__init__(progress.where())
        self.progress = progress


# Tests only: a file the loop appends `epoch step index index …` to for every step it trains
# (single process), so a test can check which images an interrupted and resumed epoch saw.
TRACE_ENV = "FER_TUI_TRACE_BATCHES"


def epoch_order(seed: int, epoch: int, n: int) -> np.ndarray:
    """The epoch's data order: a function of the seed and the epoch alone, so a resume at any
    step of the epoch replays the same order."""
    return np.random.default_rng([seed, 0, epoch]).permutation(n)


def step_rng(seed: int, epoch: int, step: int) -> np.random.Generator:
    """The augmentation and mixup randomness of one step (from 0): the prefetch thread draws
    each step's from its own generator, so the stream does not depend on where a run resumed."""
    return np.random.default_rng([seed, 1, epoch, step])


class Trainer:
    """One run: set up from the run directory, train epoch by epoch, keep the contract.

    Collaborators come in: `lock` (the run's lock when the caller holds it; taken in `run`
    otherwise), `cluster` (`Solo` for one process, msrun's workers pass theirs), `report` (the
    run directory's Reporter; a worker of rank > 0 passes one of its own folder).
    """

    def __init__(
        self,
        run_dir: Path,
        resume: bool = False,
        *,
        lock: runlock.RunLock | NoLock | None = None,
        cluster: Solo | None = None,
        report: Reporter | None = None,
    ):
        self.run_dir = Path(run_dir)
        self.resume = resume
        self.config = rundir.read_config(self.run_dir)
        self.lock = lock
        self.cluster = cluster or Solo()
        self.report = report or Reporter(self.run_dir, self.config.epochs)
        self.stop_signal: int | None = None

    def on_signal(self, signum: int, _frame: FrameType | None = None) -> None:
        """A stop signal: stop after the current step (SIGHUP: the terminal is gone, go on)."""
        if signum == signal.SIGHUP:  # keep training, write to train.log
            self.report.leave_terminal("terminal hung up")
            return
        self.stop_signal = signum

    # ------------------------------------------------------------ the run

    def run(self) -> int:
        # one trainer per run directory, for its whole life (train() refuses a second one)
        lock = self.lock or runlock.adopt_or_acquire(self.run_dir)
        stdout = sys.stdout
        try:
            runlock.wait_for_launcher()  # its status write must land before ours
            lock.record_pid(os.getpid())
            with signals.mask_kept():
                signals.route_signals(self.on_signal)  # a dropped SSH session never stops a run
                # a terminal that hangs up or a pipe whose reader left: output moves to train.log
                sys.stdout = terminal.TerminalGuard(stdout, self.report.leave_terminal)
                return self._guarded_run()
        finally:
            sys.stdout = stdout
            lock.release()

    def _guarded_run(self) -> int:
        report = self.report
        try:
            report.set_status(state="starting", pid=os.getpid(), message="")
            if self.cluster.writes:  # we hold the lock: no other writer is alive
                remove_stale_temporaries(self.run_dir)
                registry.register(self.run_dir)  # `runs --all` finds it from any folder
            return self._run()
        except StopRequested as stop:
            assert self.stop_signal is not None  # raised only once a signal arrived
            name = signal.Signals(self.stop_signal).name
            report.say(f"Stopped by {name} ({stop}); resume with `fer-tui train --resume {self.run_dir}`")
            report.stopped(name, stop.progress)
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
        if config.fast_kernels:  # same Parameters, so checkpoints are the stock layout
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
        report.running(progress, steps_per_epoch)

        epoch_pass = EpochPass(self, train_split, train_step, schedule, batch, steps_per_epoch)
        end_state = "finished"
        for epoch in range(progress.epoch + 1, config.epochs + 1):
            # the epoch's steps (all of them, or those a stop left); raises StopRequested
            progress = epoch_pass.train(epoch, progress, lambda state: saver.save_state(net, optimizer, state))
            validation_started = time.time()
            val_loss, val_acc, confusion = self.cluster.validate(
                net, lambda x, y: self._validate(predict, x, y, batch), val_split.images, val_split.labels
            )
            row = progress.end_epoch(
                EpochRow(
                    epoch=epoch,
                    train_loss=progress.loss_sum / max(1, steps_per_epoch),
                    train_acc=progress.correct / max(1, progress.seen),
                    val_loss=val_loss,
                    val_acc=val_acc,
                    lr=float(schedule[epoch * steps_per_epoch - 1]),
                    seconds=progress.train_seconds + (time.time() - validation_started),
                    images_per_second=progress.seen / max(progress.train_seconds, 1e-9),
                    confusion=confusion.tolist(),
                ),
                config.patience,
            )
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

    def _start(self, net: nn.Cell, optimizer: nn.Optimizer, steps_per_epoch: int) -> TrainProgress:
        """Where training begins: before epoch 1, or (resuming) where last_state.ckpt ended."""
        fresh = TrainProgress(patience_left=self.config.patience)
        if not self.resume:
            return fresh
        if not (self.run_dir / rundir.LAST_STATE).exists():
            self.report.resumed(None)
            return fresh
        import mindspore as ms

        progress = TrainProgress.model_validate(load_train_state(self.run_dir / rundir.LAST_STATE, net, optimizer))
        # the schedule continues at the step the state was saved at
        optimizer.global_step.set_data(ms.Tensor([progress.epoch * steps_per_epoch + progress.step], ms.int32))
        self.report.resumed(progress)
        return progress

    def _optimizer(self, net: nn.Cell, schedule: np.ndarray) -> nn.AdamWeightDecay:
        return make_optimizer(net, schedule, self.config.weight_decay)

    def make_batch(self, images: np.ndarray, labels: np.ndarray, index: np.ndarray, rng: np.random.Generator) -> Batch:
        """(index, images, soft targets) of one step, augmented with the step's own `rng`."""
        config = self.config
        if config.augment:
            x = augment.augment_batch(images[index], rng, config.augment_policy)
        else:
            x = augment.normalise(images[index])
        targets = augment.soft_targets(labels[index], NUM_CLASSES, config.label_smoothing)
        if config.mixup:
            x, targets = augment.mixup(x, targets, rng, config.mixup_alpha)
        return index, np.ascontiguousarray(x, np.float32), targets

    def _validate(
        self, predict: Predict, images: np.ndarray, labels: np.ndarray, batch: int
    ) -> tuple[float, float, np.ndarray]:
        """Loss, accuracy and the confusion matrix, all from the one set of predictions."""
        import mindspore as ms

        from fer_core.infer.evaluate import confusion_matrix

        probs = predict_all(predict, ms, images, batch, tta=self.config.tta)
        picked = np.clip(probs[np.arange(len(labels)), labels], 1e-7, 1.0)
        predicted = probs.argmax(1)
        confusion = confusion_matrix(labels.astype(np.int64), predicted.astype(np.int64))
        return float(-np.log(picked).mean()), float((predicted == labels).mean()), confusion


class EpochPass:
    """The training steps of one epoch, from wherever `progress` left it.

    The data order and each step's augmentation come from (data_seed, epoch, step), so a
    resumed epoch trains exactly the steps that remained, on the batches they would have had.
    The state is saved at a stop and every `state_every_minutes` (a kill -9 loses at most that).
    """

    def __init__(
        self, trainer: Trainer, split: Split, train_step: TrainStep, schedule: np.ndarray, batch: int, steps: int
    ):
        self.trainer, self.split, self.train_step = trainer, split, train_step
        self.schedule, self.batch, self.steps = schedule, batch, steps
        trace = os.environ.get(TRACE_ENV)
        self.trace = Path(trace) if trace and trainer.cluster.writes else None

    def train(self, epoch: int, progress: TrainProgress, save_state: Callable[[dict[str, Any]], None]) -> TrainProgress:
        """Train the epoch's remaining steps; returns the progress with the epoch's totals.
        `save_state(dict)` writes last_state.ckpt. Raises StopRequested after saving."""
        import mindspore as ms

        trainer, cluster, report = self.trainer, self.trainer.cluster, self.trainer.report
        seed = trainer.config.seed if progress.data_seed is None else progress.data_seed
        images, labels, batch, first = self.split.images, self.split.labels, self.batch, progress.step
        order = epoch_order(seed, epoch, len(labels))
        batches = Prefetcher(
            lambda step: cluster.shard(  # a worker's share of the global batch
                trainer.make_batch(
                    images, labels, order[step * batch : (step + 1) * batch], step_rng(seed, epoch, step)
                )
            ),
            self.steps,
            start=first,
        )
        every = trainer.config.state_every_minutes * 60
        waiter = readback.Waiter()
        started = last_save = time.time()
        losses: list[float] = []
        correct = seen = 0

        def state(done: int) -> TrainProgress:  # totals of all workers: a collective, every rank calls it
            total_losses, total_correct, total_seen = cluster.epoch_totals(losses, correct, seen)
            return progress.evolve(
                step=done,
                data_seed=seed,
                loss_sum=progress.loss_sum + float(np.sum(total_losses)),
                correct=progress.correct + total_correct,
                seen=progress.seen + total_seen,
                train_seconds=progress.train_seconds + (time.time() - started),
            )

        try:
            for step, (index, x, targets) in enumerate(batches, first + 1):
                due = every > 0 and time.time() - last_save >= every
                # every rank takes the stop any rank was sent, at the same step; a signal that lands
                # while the ranks agree is kept for the next step's vote, never voted away
                asked, due = cluster.agree(trainer.stop_signal, due)
                if asked is not None or due:
                    saved = state(step - 1)
                    save_state(saved.model_dump())
                    if asked is not None:
                        trainer.stop_signal = asked
                        raise StopRequested(saved)
                    last_save = time.time()
                loss, logits = waiter.numpy(*self.train_step(ms.Tensor(x), ms.Tensor(targets)))
                hits = int((logits.argmax(1) == labels[index]).sum())
                losses.append(float(loss))
                correct, seen = correct + hits, seen + len(index)
                if self.trace is not None:
                    fileio.append_line(self.trace, f"{epoch} {step} " + " ".join(map(str, index)))
                report.sample(float(loss), hits, len(index), float(self.schedule[(epoch - 1) * self.steps + step - 1]))
                report.step(epoch, step, self.steps, cluster.size * seen, started, first)  # all workers'
        finally:
            batches.close()
        return state(self.steps)


def compile_steps(
    net: nn.Cell, optimizer: nn.Optimizer, reduce_grads: nn.Cell | None = None
) -> tuple[TrainStep, Predict]:
    """(train_step, predict): the jit-compiled step (soft-target cross-entropy, optimizer update)
    and eval-mode softmax; each sets the network's mode before it runs. `reduce_grads` (data
    parallel) averages the gradients over the workers before the update."""
    import mindspore as ms
    import mindspore.ops as ops

    def forward(x: ms.Tensor, targets: ms.Tensor) -> tuple[ms.Tensor, ms.Tensor]:
        logits = net(x)
        loss = -(targets * ops.log_softmax(logits, -1)).sum(-1).mean()
        return loss, logits

    grad_fn = ms.value_and_grad(forward, None, optimizer.parameters, has_aux=True)

    @ms.jit
    def train_step(x: ms.Tensor, targets: ms.Tensor) -> tuple[ms.Tensor, ms.Tensor]:
        (loss, logits), grads = grad_fn(x, targets)
        if reduce_grads is not None:
            grads = reduce_grads(grads)
        optimizer(grads)
        return loss, logits

    @ms.jit
    def predict(x: ms.Tensor) -> ms.Tensor:
        return ops.softmax(net(x), -1)

    def train_mode(x: ms.Tensor, targets: ms.Tensor) -> tuple[ms.Tensor, ms.Tensor]:
        net.set_train(True)
        return train_step(x, targets)

    def eval_mode(x: ms.Tensor) -> ms.Tensor:
        net.set_train(False)
        return predict(x)

    return train_mode, eval_mode


class Prefetcher:
    """Makes the next batches (augmentation included) in a thread while the network trains.

    `make(step)` builds step `step` (from 0) of the steps `start`..`steps - 1`.
    """

    def __init__(self, make: Callable[[int], Batch], steps: int, depth: int = 3, start: int = 0):
        self.queue: queue.Queue = queue.Queue(maxsize=depth)
        self.closed = threading.Event()
        self.thread = threading.Thread(target=self._produce, args=(make, start, steps), daemon=True)
        self.thread.start()

    def _produce(self, make: Callable[[int], Batch], start: int, steps: int) -> None:
        try:
            for step in range(start, steps):
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

    def __iter__(self) -> Iterator[Batch]:
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


def predict_all(predict: Predict, ms: ModuleType, images: np.ndarray, batch: int, tta: bool = False) -> np.ndarray:
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
        print(f"error: {shown(error)}", file=sys.stderr, flush=True)
        return 2
    try:
        trainer = Trainer(run_dir, resume, lock=lock)
    except FerError as error:  # config.toml edited or unreadable after the launcher checked it
        print(f"error: {shown(error)}", file=sys.stderr, flush=True)
        rundir.update_status(run_dir, state="failed", message=str(error))
        lock.release()
        return 2
    if trainer.config.workers > 1:  # data-parallel: this process launches msrun and watches it
        return supervise(run_dir, resume, lock)
    if foreground:
        trainer.report.keep_log_copy()
    return trainer.run()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fer_core.train")
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--resume", action="store_true")
    args = parser.parse_args(argv)
    if not (args.run_dir / rundir.CONFIG).exists():
        print(f"error: {shown(args.run_dir)}: no {rundir.CONFIG}", file=sys.stderr)
        return 2
    return train(args.run_dir, args.resume)
