"""The trainer's output on a terminal that may hang up: it moves to train.log and goes on."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from fer_core import fileio


class TerminalGuard:
    """stdout on a terminal that may hang up: the first write that fails calls `on_gone`
    (the trainer moves its output to train.log and keeps training) instead of raising EIO."""

    def __init__(self, stream: TextIO, on_gone: Callable[[str], None]):
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
    try:  # never through a link: a train.log pointing elsewhere gets nothing
        fd = fileio.open_own(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    except OSError:
        fd = os.open(os.devnull, os.O_WRONLY)
    for target in (1, 2):
        os.dup2(fd, target)
    os.close(fd)
    try:
        os.write(1, f"{why}: the output goes on here\n".encode())
    except OSError:  # a full disk: the run goes on without its log
        pass
