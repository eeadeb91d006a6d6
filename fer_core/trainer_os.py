"""What the trainer needs from the operating system beyond MindSpore: its temporaries, a full
disk, and a terminal that may hang up. (Its lock is `fer_core.runlock`.)"""

from __future__ import annotations

import _thread
import errno
import os
import signal
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

from fer_core import runlock


def remove_stale_temporaries(run_dir: Path) -> None:
    """Delete every half-written file in the run directory (hidden names: renames that never
    happened). Called only with the run's lock held, so no other writer can be mid-write."""
    for path in Path(run_dir).glob(".*"):
        if path.name == runlock.LOCK_NAME or not path.is_file():
            continue
        try:
            path.unlink()
        except OSError:
            continue


def out_of_space(run_dir: Path, say, set_status) -> int:
    """A full disk: free what our half-written files took (MindSpore's own `.tmp` too: the
    lock makes every temporary ours), then say so in status.json. Returns the exit status."""
    remove_stale_temporaries(run_dir)
    message = f"no space left on {run_dir}"
    try:
        say(f"error: {message}")
        set_status(state="failed", message=message)
    except OSError:  # not even a status fits: at least stderr says it
        print(f"error: {message} (status.json could not be written)", file=sys.stderr, flush=True)
    return 1


def no_space(error: BaseException | None) -> bool:
    """ENOSPC anywhere in the chain (MindSpore re-raises, and may wrap, the OSError)."""
    seen = 0
    while error is not None and seen < 10:
        if isinstance(error, OSError) and error.errno == errno.ENOSPC:
            return True
        if "No space left on device" in str(error):
            return True
        error, seen = error.__cause__ or error.__context__, seen + 1
    return False


class TerminalGuard:
    """stdout on a terminal that may hang up: the first write that fails calls `on_gone`
    (the trainer moves its output to train.log and keeps training) instead of raising EIO."""

    def __init__(self, stream, on_gone):
        self.stream, self.on_gone = stream, on_gone

    def write(self, text: str) -> int:
        try:
            return self.stream.write(text)
        except OSError:
            self.on_gone("output gone (terminal hung up or pipe closed)")
            return len(text)

    def flush(self) -> None:
        try:
            self.stream.flush()
        except OSError:
            self.on_gone("output gone (terminal hung up or pipe closed)")

    def __getattr__(self, name: str):
        return getattr(self.stream, name)


def redirect_output(log: Path, why: str) -> None:
    """stdout and stderr (the file descriptors, so C libraries follow) append to `log`."""
    try:
        fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    except OSError:
        fd = os.open(os.devnull, os.O_WRONLY)
    for target in (1, 2):
        os.dup2(fd, target)
    os.close(fd)
    try:
        os.write(1, f"{why}: the output goes on here\n".encode())
    except OSError:  # a full disk: the run goes on without its log
        pass


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
    """From now on SIGINT, SIGTERM and SIGHUP call `handler(signum, None)`, as sent."""
    _route["handler"] = handler
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
