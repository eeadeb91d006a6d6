"""The waiting thread: results and errors come back to the caller; it runs at idle priority."""

import os
import threading
import time

import pytest

from fer_core.train import readback


def test_results_and_errors_cross_back_to_the_caller():
    assert readback.call(lambda: threading.current_thread().name) == "fer-readback"

    def fail():
        raise ValueError("bad tensor")

    with pytest.raises(ValueError, match="bad tensor"):
        readback.call(fail)
    assert readback.call(lambda: 41 + 1) == 42  # the thread survives an error


def test_the_waiting_thread_runs_at_nice_19_and_the_caller_keeps_its_own():
    caller = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    waiting = readback.call(lambda: os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
    assert waiting == 19 and os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == caller


class Slow:
    """Stands in for a tensor whose step takes `seconds` (50 ms unless told)."""

    def __init__(self, seconds: float = 0.05):
        self.ready = time.perf_counter() + seconds

    def asnumpy(self):
        remaining = self.ready - time.perf_counter()
        if remaining > 0:
            time.sleep(remaining)
        return 1


def test_a_waiter_learns_the_step_time_and_shrinks_an_estimate_that_is_too_long():
    waiter = readback.Waiter()
    for _ in range(5):
        assert waiter.numpy(Slow()) == (1,)
    # learned: of the order of the 50 ms step. Not tighter: on a loaded machine a sleep
    # overshoots, the waiter counts that as having overslept and trims its estimate by a fifth
    assert 0.02 < waiter.expected < 0.08
    waiter.expected = 0.5  # far too long: the next calls bring it down
    for _ in range(15):
        waiter.numpy(Slow())
    assert waiter.expected < 0.1


def test_one_stalled_step_does_not_make_the_next_ones_sleep_long():
    # a trainer paused with SIGSTOP for a minute used to sleep ~10 s before its next steps
    waiter = readback.Waiter()
    for _ in range(3):
        waiter.numpy(Slow(0.02))
    before = waiter.expected
    waiter.numpy(Slow(0.5))  # the stall
    assert waiter.expected <= 1.2 * before + 0.005


def test_to_numpy_reads_real_mindspore_tensors():
    import mindspore as ms
    import numpy as np

    a, b = ms.Tensor(np.arange(6, dtype=np.float32).reshape(2, 3)), ms.Tensor(np.ones(2, np.int32))
    x, y = readback.to_numpy(a * 2, b)
    assert x.tolist() == [[0, 2, 4], [6, 8, 10]] and y.tolist() == [1, 1]
