"""The stop signals (SIGINT, SIGTERM, SIGHUP) taken by one waiting thread, so MindSpore's own
handlers never see them and the trainer stops between steps."""

from __future__ import annotations

import _thread
import signal
import threading
from contextlib import contextmanager

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_route: dict = {"handler": None, "waiting": False}


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


def route_signals(handler) -> None:
    """From now on SIGINT, SIGTERM and SIGHUP call `handler(signum, None)`, as sent; the
    signals `hold_signals` kept are delivered to it first, in order."""
    held, _route["held"] = _route.get("held") or [], None
    _route["handler"] = handler
    block_stop_signals()
    for signum in held:
        handler(signum, None)


def hold_signals() -> None:
    """Keep the stop signals that arrive until `route_signals` names their handler (a worker
    joining its cluster has no trainer yet, and a stop then must not be lost)."""
    held: list[int] = []
    _route["held"] = held
    _route["handler"] = lambda signum, _frame: held.append(signum)
    block_stop_signals()


def _wait() -> None:
    while True:
        signum = signal.sigwait(STOP_SIGNALS)
        handler = _route["handler"]
        if handler is not None:
            handler(signum, None)
        elif signum == signal.SIGINT:
            _thread.interrupt_main()
        else:  # the default action: unblocked in this thread only, then raised here
            signal.pthread_sigmask(signal.SIG_UNBLOCK, (signum,))
            signal.raise_signal(signum)


@contextmanager
def signals_unblocked():
    """The stop signals unblocked in this thread for the block: a process started here (which
    inherits the mask through exec) must get its signals like any program."""
    previous = signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
