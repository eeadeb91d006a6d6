"""Reading tensors back to numpy without stealing a core from the kernels.

MindSpore 2.8 waits for a step's result by busy-spinning (`AsyncRQueue::Wait`) in the thread
that calls `Tensor.asnumpy()`. On a 2-core machine that spin takes one core from the conv
kernels for the whole step. Here the spin happens in one daemon thread that set itself to
SCHED_IDLE (the lowest priority Linux has, no privileges needed): the kernels preempt it, and
the calling thread sleeps on a queue. Measured 1.6-1.7x on fer_cnn, 3.3-3.6x on tiny_cnn.
"""

from __future__ import annotations

import os
import queue
import threading
from typing import Any, Callable

_lock = threading.Lock()
_jobs: queue.SimpleQueue | None = None


def _lower_own_priority() -> None:
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))  # 0: this thread only
    except (AttributeError, OSError):
        try:  # no SCHED_IDLE (not Linux): the lowest nice value of this thread id
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


def to_numpy(*tensors) -> tuple:
    """`asnumpy()` of every tensor, waited for by the low-priority thread."""
    return call(lambda: tuple(t.asnumpy() for t in tensors))
