"""Reading tensors back to numpy without stealing a core from the kernels.

MindSpore 2.8 waits for a step's result by busy-spinning (`AsyncRQueue::Wait`) in the thread
that calls `Tensor.asnumpy()`. On a 2-core machine that spin takes one core from the conv
kernels for the whole step. Two things keep it off the kernels' cores:

- the spin happens in one daemon thread at the lowest nice value (19): the kernels' threads
  outweigh it 68 to 1, and the caller sleeps on a queue meanwhile. Not SCHED_IDLE: an idle-class
  thread is starved by *any* other busy process, even a nice-19 one, and then every step waits
  for it (measured: the training process fell to 70 % of one core beside two niced test runs);
- a `Waiter` first sleeps through most of the step time it measured before, so the spin covers
  only the step's tail: under load the waiting thread is not competing for the whole step.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import mindspore as ms

SLEEP_SHARE = 0.85  # of the expected step time slept before spinning; the rest is spun
OVERSLEPT = 0.0005  # a wait shorter than this after the sleep: the results were already there
STALL_CAP = 2.0  # a step counts for at most this many times the estimate
_lock = threading.Lock()
_jobs: queue.SimpleQueue | None = None


def _lower_own_priority() -> None:
    try:  # this thread only (a Linux thread id), no privileges needed to lower it
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
    except (AttributeError, OSError):
        pass


def _serve(jobs: queue.SimpleQueue) -> None:
    _lower_own_priority()
    while True:
        work, reply = jobs.get()
        try:
            reply.put((True, work()))
        except BaseException as error:  # re-raised in the caller's thread
            reply.put((False, error))


def call(work: Callable[[], Any]) -> Any:
    """Run `work` in the low-priority waiting thread; the caller sleeps until it returns.

    FER_TUI_READBACK=direct runs it in the caller (the spin again): for bench/readback_speed.py.
    """
    global _jobs
    if os.environ.get("FER_TUI_READBACK") == "direct":
        return work()
    with _lock:
        if _jobs is None:
            _jobs = queue.SimpleQueue()
            threading.Thread(target=_serve, args=(_jobs,), name="fer-readback", daemon=True).start()
    reply: queue.SimpleQueue = queue.SimpleQueue()
    _jobs.put((work, reply))
    ok, value = reply.get()
    if not ok:
        raise value
    return value


def to_numpy(*tensors: ms.Tensor) -> tuple:
    """`asnumpy()` of every tensor, waited for by the low-priority thread."""
    return call(lambda: tuple(t.asnumpy() for t in tensors))


def _timed_numpy(tensors: tuple[ms.Tensor, ...]) -> tuple[tuple, float]:
    started = time.perf_counter()
    values = tuple(t.asnumpy() for t in tensors)
    return values, time.perf_counter() - started


class Waiter:
    """Reads back the outputs of one repeated computation (a training step, a predict batch):
    sleeps through most of the time it took before, then waits in the low-priority thread."""

    def __init__(self) -> None:
        self.expected = 0.0  # seconds from dispatch to results, smoothed

    def numpy(self, *tensors: ms.Tensor) -> tuple:
        started = time.perf_counter()
        if self.expected and os.environ.get("FER_TUI_READBACK") != "thread":
            time.sleep(SLEEP_SHARE * self.expected)
        values, spun = call(lambda: _timed_numpy(tensors))
        if self.expected and spun < OVERSLEPT:
            self.expected *= 0.8  # the results were ready before the sleep ended: sleep less
        else:
            took = time.perf_counter() - started
            if self.expected:
                # one stalled step (SIGSTOP, a suspended laptop) must not make the next ones
                # sleep for seconds: a measurement counts for at most twice the estimate
                took = min(took, STALL_CAP * self.expected)
            self.expected = took if not self.expected else 0.8 * self.expected + 0.2 * took
        return values
