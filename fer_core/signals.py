"""The stop signals (SIGINT, SIGTERM, SIGHUP) taken by one waiting thread, so MindSpore's own
handlers never see them and the trainer stops between steps."""

from __future__ import annotations

import _thread
import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
# what route_signals calls: (signum, None) here, signal.signal's handler shape for the callers
Handler = Callable[[int, FrameType | None], None]
_route: dict = {"handler": None, "waiting": False, "held": None}
_swap = threading.Lock()  # route_signals replays what was held; the waiting thread must not interleave


def block_stop_signals() -> None:
    """Block SIGINT, SIGTERM and SIGHUP in this thread (and every thread it starts later) and
    take them with sigwait in one waiting thread.

    Not signal.signal: every MindSpore graph run installs its own C handler, which turns
    SIGINT into SIGTERM (a ctrl+c was reported as signal 15). Call this before numpy starts its
    threads, so that none of them can receive a signal. Until `route_signals`, SIGINT raises
    KeyboardInterrupt in the main thread and the others end the process as they would have.
    """
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    if not _route["waiting"]:
        _route["waiting"] = True
        threading.Thread(target=_wait, name="signals", daemon=True).start()


def route_signals(handler: Handler) -> None:
    """From now on SIGINT, SIGTERM and SIGHUP call `handler(signum, None)`, as sent; the ones
    `hold_stop_signals` kept are given to it first."""
    with _swap:
        held, _route["held"] = _route["held"] or [], None
        _route["handler"] = handler
    block_stop_signals()
    for signum in held:
        handler(signum, None)


def hold_stop_signals() -> None:
    """`block_stop_signals`, and keep the stop signals that arrive until `route_signals` names a
    handler: a process told to stop while it starts up (a msrun worker importing MindSpore) stops
    once it can, instead of dying of a KeyboardInterrupt half-way through an import."""
    _route["held"] = []
    block_stop_signals()


def _wait() -> None:
    while True:
        signum = signal.sigwait(STOP_SIGNALS)
        with _swap:
            if _route["held"] is not None:
                _route["held"].append(signum)
                continue
            handler = _route["handler"]
        if handler is not None:
            handler(signum, None)
        elif signum == signal.SIGINT:
            _thread.interrupt_main()
        else:  # the default action: unblocked in this thread only, then raised here
            signal.pthread_sigmask(signal.SIG_UNBLOCK, (signum,))
            signal.raise_signal(signum)


@contextmanager
def mask_kept() -> Iterator[None]:
    """This thread's signal mask as it was before the block: a trainer run in-process (a test, a
    script calling `train()`) leaves its caller's signals as it found them, so the processes the
    caller starts later do not inherit the stop signals blocked."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, ())
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


@contextmanager
def signals_unblocked() -> Iterator[None]:
    """The stop signals unblocked in this thread for the block: a process started here (which
    inherits the mask through exec) must get its signals like any program."""
    previous = signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def pid_alive(pid: object) -> bool:
    """A live process has this pid (a zombie, exited but not reaped, is not)."""
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (exited, not yet reaped by its parent) is not alive
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().split(b") ")[-1][:1] != b"Z"
    except OSError:
        return True
