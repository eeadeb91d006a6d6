"""Data-parallel training inside msrun's workers: the `Cluster` the loop's hooks talk to.

msrun (started by msrun.py) runs `python -m fer_core.train.parallel.worker RUN_DIR [--resume]` once per
worker and once as its scheduler (worker.py). Every worker runs the ordinary training loop (fer_core.train.loop.Trainer) with a `Cluster` in place
of the default `Solo`; the loop calls the hooks below and stays the same for one process or many.

What data-parallel means here:
- `batch_size` is the *global* batch. Every rank draws the same epoch permutation and builds the
  same augmented global batch from the same seed, then trains on its equal shard of it; the
  gradients are averaged by MindSpore (DATA_PARALLEL, gradients_mean, DistributedGradReducer),
  so a step is the one-process step on the same batch, up to BatchNorm and float summation order.
- BatchNorm normalises each shard with that shard's own statistics (no SyncBatchNorm: MindSpore
  has none on CPU); the running statistics are averaged over the workers before every
  validation, so every rank holds the same model and rank 0 saves it.
- Dropout masks differ per rank (rank 0 keeps the one-process seeds).
- Validation is sharded and summed: the logged val_acc is the whole split's, and equals
  `fer-tui eval` on the saved best_model (same weights, same batches of `batch_size`).
- Rank 0 alone writes status.json, metrics.jsonl, train.log lines and checkpoints; the others
  report into a folder of their own (msrun/rank-<k>/, read only by their node's supervisor, to
  learn that they trained to the end) and print to their own msrun/worker_<rank>.log.
- A stop (SIGINT/SIGTERM to any worker, or the launcher gone) is agreed by all ranks at the next
  step, so they stop together and rank 0 saves last_state.ckpt.
MindSpore 2.8's CPU AllReduce sums float32 only, and a rank waits at most ~30 s for the others
in a collective: nothing here makes one rank wait long for another.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from fer_core import NUM_CLASSES
from fer_core.runs import rundir
from fer_core.train import readback

if TYPE_CHECKING:
    from mindspore import nn

    from fer_core.train.checkpoint_policy import CheckpointPolicy

SUPERVISOR_ENV = "FER_TUI_SUPERVISOR_PID"  # the launcher's pid: when it is gone, the workers stop
LOCAL_WORKERS_ENV = "FER_TUI_LOCAL_WORKERS"  # workers on this node, to share its cores

Batch = tuple[np.ndarray, np.ndarray, np.ndarray]  # one step's (index, images, soft targets)
# validation of some images: (loss, accuracy, confusion matrix)
Validation = Callable[[np.ndarray, np.ndarray], tuple[float, float, np.ndarray]]


class Solo:
    """One process: every hook leaves the loop as it is (the default)."""

    size, rank, writes = 1, 0, True

    def prepare(self, net: nn.Cell) -> None:
        pass

    def grad_reducer(self, optimizer: nn.Optimizer) -> nn.DistributedGradReducer | None:
        return None

    def checkpoints(self, policy: CheckpointPolicy) -> CheckpointPolicy | NoCheckpoints:
        return policy

    def shard(self, batch: Batch) -> Batch:
        return batch

    def agree(self, signum: int | None, save_due: bool) -> tuple[int | None, bool]:
        return signum, save_due

    def epoch_totals(self, losses: list[float], correct: int, seen: int) -> tuple[list[float], int, int]:
        return losses, correct, seen

    def validate(
        self, net: nn.Cell, run: Validation, images: np.ndarray, labels: np.ndarray
    ) -> tuple[float, float, np.ndarray]:
        """(loss, accuracy, confusion matrix) of the validation split."""
        return run(images, labels)


class NoCheckpoints:
    """What a rank other than 0 saves: nothing (rank 0 saves the model they all hold)."""

    def end_of_epoch(self, *args, **kwargs) -> None:
        pass

    def save_state(self, *args, **kwargs) -> None:
        pass

    def finish(self, *args, **kwargs) -> None:
        pass


class Cluster(Solo):
    """One rank of an msrun job, after `mindspore.communication.init()`."""

    def __init__(self, rank: int, size: int, supervisor: int | None = None):
        import mindspore as ms
        import mindspore.ops as ops

        self.rank, self.size, self.writes = rank, size, rank == 0
        self.supervisor = supervisor
        allreduce = ops.AllReduce()  # SUM: the only reduction MindSpore's CPU build has

        def total(x: ms.Tensor) -> ms.Tensor:
            return allreduce(x)

        self._allreduce = ms.jit(total)
        self._ms = ms

    def total(self, values: npt.ArrayLike) -> np.ndarray:
        """Element-wise sum over all ranks (float32 on the wire: the CPU AllReduce takes no other)."""
        tensor = self._ms.Tensor(np.ascontiguousarray(values, np.float32).reshape(-1))
        return readback.to_numpy(self._allreduce(tensor))[0].astype(np.float64)

    def prepare(self, net: nn.Cell) -> None:
        """Give every rank other than 0 its own dropout masks (the same seed made them equal)."""
        import mindspore.nn as nn
        import mindspore.ops as ops

        if self.rank == 0:
            return
        for _, cell in net.cells_and_names():
            if isinstance(cell, nn.Dropout) and hasattr(cell, "dropout"):
                attrs = cell.dropout.attrs
                cell.dropout = ops.Dropout(attrs["keep_prob"], attrs["Seed0"], attrs["Seed1"] + 7919 * self.rank)

    def grad_reducer(self, optimizer: nn.Optimizer) -> nn.DistributedGradReducer:
        """Averages the gradients over the ranks inside the compiled step (gradients_mean and the
        group size come from the DATA_PARALLEL context set in `join`)."""
        import mindspore.nn as nn

        return nn.DistributedGradReducer(optimizer.parameters)

    def checkpoints(self, policy: CheckpointPolicy) -> CheckpointPolicy | NoCheckpoints:
        return policy if self.writes else NoCheckpoints()

    def shard(self, batch: Batch) -> Batch:
        """This rank's equal slice of the global batch (index, images, targets)."""
        index, x, targets = batch
        part = slice(*_bounds(len(index), self.rank, self.size))
        return index[part], x[part], targets[part]

    def agree(self, signum: int | None, save_due: bool) -> tuple[int | None, bool]:
        """The stop every rank takes at this step (asked of any rank, or the launcher is gone),
        and whether the timed state save is due (on any rank's clock): one collective a step."""
        if signum is None and self.supervisor and not rundir.pid_alive(self.supervisor):
            print("the launcher is gone: stopping (last_state.ckpt is saved)", flush=True)
            signum = signal.SIGTERM
        votes = self.total([signum == signal.SIGINT, signum == signal.SIGTERM, save_due])
        due = bool(votes[2])
        if votes[0]:
            return signal.SIGINT, due
        return (signal.SIGTERM if votes[1] else None), due

    def epoch_totals(self, losses: list[float], correct: int, seen: int) -> tuple[list[float], int, int]:
        """Per-step losses of the global batch (the mean of the ranks' shard losses), and the
        images and correct predictions of all ranks."""
        summed = self.total([*losses, correct, seen])
        return list(summed[:-2] / self.size), int(round(summed[-2])), int(round(summed[-1]))

    def validate(
        self, net: nn.Cell, run: Validation, images: np.ndarray, labels: np.ndarray
    ) -> tuple[float, float, np.ndarray]:
        """Average the BatchNorm running statistics, then validate this rank's share of the
        split and sum: every rank gets the whole split's loss, accuracy and confusion matrix."""
        self._average_statistics(net)
        start, stop = _bounds(len(labels), self.rank, self.size)
        loss, acc, count = 0.0, 0.0, stop - start
        confusion = np.zeros((NUM_CLASSES, NUM_CLASSES), np.int64)
        if count:
            loss, acc, confusion = run(images[start:stop], labels[start:stop])
        # counts stay exact in float32 up to 2**24 faces
        summed = self.total([loss * count, round(acc * count), count, *confusion.ravel().tolist()])
        loss_sum, correct, total = summed[:3]
        matrix = np.rint(summed[3:]).astype(np.int64).reshape(NUM_CLASSES, NUM_CLASSES)
        return float(loss_sum / max(1, total)), float(round(correct) / max(1, total)), matrix

    def _average_statistics(self, net: nn.Cell) -> None:
        import mindspore.ops as ops

        stats = [p for p in net.get_parameters() if not p.requires_grad and "moving_" in p.name]
        if not stats:
            return
        values = [p.asnumpy() for p in stats]
        mean = self.total(np.concatenate([v.reshape(-1) for v in values])) / self.size
        offset = 0
        for param, value in zip(stats, values):
            # ops.assign writes into the parameter the compiled step updates; set_data would
            # swap in a new tensor and leave the step updating the old one (measured: frozen)
            ops.assign(param, self._ms.Tensor(mean[offset : offset + value.size].reshape(value.shape), param.dtype))
            offset += value.size


def _bounds(n: int, rank: int, size: int) -> tuple[int, int]:
    """[start, stop) of rank's share of n items: equal when size divides n, else off by one."""
    return rank * n // size, (rank + 1) * n // size


class NoLock:
    """A worker's stand-in for the run's lock: the launcher holds the real one for the run."""

    def record_pid(self, pid: int) -> None:
        pass

    def release(self) -> None:
        pass


def share_cores() -> None:
    """Pin this worker to its share of the node's cores (before MindSpore counts them for its
    kernel threads): N workers each with every core would oversubscribe the machine."""
    local = int(os.environ.get(LOCAL_WORKERS_ENV) or 1)
    local_rank = int(os.environ.get("DEVICE_ID") or 0)  # msrun's local rank
    cores = sorted(os.sched_getaffinity(0))
    if 1 < local <= len(cores):
        os.sched_setaffinity(0, cores[local_rank::local])


def join(device_target: str) -> Cluster:
    """`init()` into msrun's cluster with DATA_PARALLEL and averaged gradients."""
    import mindspore as ms
    from mindspore.communication import get_group_size, get_rank, init

    from fer_core.mindspore_setup import configure

    share_cores()
    configure(device_target)
    init()
    ms.set_auto_parallel_context(parallel_mode=ms.ParallelMode.DATA_PARALLEL, gradients_mean=True)
    supervisor = os.environ.get(SUPERVISOR_ENV, "")
    return Cluster(get_rank(), get_group_size(), int(supervisor) if supervisor.isdigit() else None)
