"""The waiting thread: results and errors come back to the caller; it runs at idle priority."""

import os
import threading

import pytest

from fer_core import readback


def test_results_and_errors_cross_back_to_the_caller():
    assert readback.call(lambda: threading.current_thread().name) == "fer-readback"

    def fail():
        raise ValueError("bad tensor")

    with pytest.raises(ValueError, match="bad tensor"):
        readback.call(fail)
    assert readback.call(lambda: 41 + 1) == 42  # the thread survives an error


@pytest.mark.skipif(not hasattr(os, "SCHED_IDLE"), reason="Linux scheduling classes")
def test_the_waiting_thread_is_idle_class_and_the_caller_is_not():
    assert readback.call(lambda: os.sched_getscheduler(0)) == os.SCHED_IDLE
    assert os.sched_getscheduler(0) != os.SCHED_IDLE


def test_to_numpy_reads_real_mindspore_tensors():
    import mindspore as ms
    import numpy as np

    a, b = ms.Tensor(np.arange(6, dtype=np.float32).reshape(2, 3)), ms.Tensor(np.ones(2, np.int32))
    x, y = readback.to_numpy(a * 2, b)
    assert x.tolist() == [[0, 2, 4], [6, 8, 10]] and y.tolist() == [1, 1]
