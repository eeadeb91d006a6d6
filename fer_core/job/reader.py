"""Reading a job child (`python -m fer_core.job KIND …`): its environment, its stdout lines as
events up to the last one, and its stderr as a one-line reason when it dies without a word.

The dashboard's asyncio reader (`fer_tui.jobs`) and the deep check's child processes
(`fer_core.job.check`) both use it. No MindSpore and no numpy here.
"""

from __future__ import annotations

import os
import signal
from collections import deque

from fer_core.errors import one_line
from fer_core.job.events import Error, Progress, Result, Started, parse
from fer_core.mindspore_setup import quiet_logging

Event = Started | Progress | Result | Error
STDERR_LINES = 20  # of MindSpore's chatter, only the end says why a job died


def job_env() -> dict[str, str]:
    """The environment a job starts with: this one, MindSpore quiet unless the user said."""
    env = dict(os.environ)
    quiet_logging(env)
    return env


def exit_text(status: int) -> str:
    """`status 1` or `SIGSEGV` (a negative status is the signal that ended the child)."""
    if status >= 0:
        return f"status {status}"
    number = -status
    return signal.Signals(number).name if number in signal.Signals._value2member_map_ else f"signal {number}"


class StderrTail:
    """The last lines a child wrote on stderr, for the one line that says why it died."""

    def __init__(self, lines: int = STDERR_LINES) -> None:
        self.lines: deque[str] = deque(maxlen=lines)

    def add(self, raw: bytes | str) -> None:
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        self.lines.extend(line.strip() for line in text.splitlines() if line.strip())

    def last(self) -> str:
        """The last line it wrote (a traceback ends with the error), as one line; '' if none."""
        return one_line(self.lines[-1]) if self.lines else ""


class EventReader:
    """A job's stdout, line by line: its events up to and including the last (a Result or an
    Error); lines that are not events (a library's chatter) and anything after are skipped."""

    def __init__(self) -> None:
        self.ended = False

    def feed(self, raw: bytes | str) -> Event | None:
        event = parse(raw)
        if event is None or self.ended:
            return None
        self.ended = isinstance(event, (Result, Error))
        return event

    def unfinished(self, status: int, stderr: StderrTail) -> Error | None:
        """The Error a job that exited without its last event ends with, else None."""
        if self.ended:
            return None
        why = stderr.last()
        return Error(message=f"the job exited with {exit_text(status)}" + (f": {why}" if why else ""))
