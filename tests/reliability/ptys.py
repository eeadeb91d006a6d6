"""A pseudo-terminal session for tests: a program as the session leader of its own terminal."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import termios
import time

ANSI = re.compile(rb"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>78]|\x1b\][^\x07]*\x07")


class PtySession:
    """`argv` runs as the session leader with the pty slave as its controlling terminal
    (what sshd or a terminal emulator does); the test holds the master side."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: str, size=(24, 80)):
        pid, fd = pty.fork()
        if pid == 0:  # child: session leader already (pty.fork calls setsid)
            try:
                os.chdir(cwd)
                os.execvpe(argv[0], argv, env)
            finally:
                os._exit(127)
        self.pid, self.fd = pid, fd
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", size[0], size[1], 0, 0))
        self.raw = b""

    def write(self, data: str | bytes) -> None:
        os.write(self.fd, data.encode() if isinstance(data, str) else data)

    def drain(self, seconds: float = 0.0) -> None:
        """Read whatever the program printed (a terminal nobody reads blocks its writer)."""
        deadline = time.monotonic() + seconds
        while self.fd is not None:
            ready, _, _ = select.select([self.fd], [], [], max(0.0, min(0.05, deadline - time.monotonic())))
            if ready:
                try:
                    chunk = os.read(self.fd, 65536)
                except OSError:  # EIO: the slave side is gone
                    return
                if not chunk:
                    return
                self.raw += chunk
            elif time.monotonic() >= deadline:
                return

    @property
    def text(self) -> str:
        return ANSI.sub(b"", self.raw).decode("utf-8", "replace")

    def expect(self, pattern: str, timeout: float) -> re.Match:
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        while time.monotonic() < deadline:
            self.drain(0.1)
            match = regex.search(self.text)
            if match:
                return match
        raise AssertionError(f"no {pattern!r} within {timeout}s; the terminal showed:\n{self.text[-3000:]}")

    def hang_up(self, sig: int = signal.SIGHUP) -> None:
        """The terminal goes away: its session leader gets `sig` and the master side closes."""
        try:
            os.kill(self.pid, sig)
        except ProcessLookupError:
            pass
        self.close()

    def close(self) -> None:
        if self.fd is not None:
            try:
                os.close(self.fd)
            except OSError:
                pass
            self.fd = None

    def wait(self, timeout: float = 10.0) -> int | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done, status = os.waitpid(self.pid, os.WNOHANG)
            if done:
                return status
            self.drain(0.05)
        return None

    def kill(self) -> None:
        for sig_target in (lambda: os.killpg(self.pid, signal.SIGKILL), lambda: os.kill(self.pid, signal.SIGKILL)):
            try:
                sig_target()
            except (ProcessLookupError, PermissionError):
                pass
        self.close()
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass
