"""One exclusive lock per run directory, held by the live trainer for its whole life.

`RUN_DIR/trainer.lock` is locked with `flock` (a plain, lasting name: only names that carry
fileio.TEMP_MARK are temporaries a starting trainer deletes). The kernel drops the lock when the last descriptor
of it closes, so a trainer killed with -9 frees it and a stale lock cannot exist.
A launcher takes the lock before it checks the run and hands the locked descriptor to the
trainer it spawns (`pass_fds` + FER_TUI_LOCK_FD): there is no moment between "checked" and
"running" when a second resume could slip in. The file holds the holder's pid, as a hint for
messages; whether a process is the trainer is decided by the lock, never by that text.
The lock is opened with fileio.open_own: a symbolic link or a FIFO named trainer.lock is
refused in one line, never followed (a pid written outside the run) or waited on (a hang).
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

from fer_core import fileio
from fer_core.errors import ForeignFileError, RunError

LOCK_NAME = "trainer.lock"
LOCK_FD_ENV = "FER_TUI_LOCK_FD"
READY_FD_ENV = "FER_TUI_READY_FD"  # a pipe the launcher closes once its own writes are done
WAIT = 1.0  # seconds an acquire retries: a watcher's probe holds the lock for microseconds


class RunLock:
    """A held lock; `fd` is the locked descriptor (inherited by the trainer a launcher spawns)."""

    def __init__(self, run_dir: Path, fd: int):
        self.run_dir, self.fd = Path(run_dir), fd

    def record_pid(self, pid: int) -> None:
        """Write the holder's pid in place (the file keeps its inode, so the lock stays)."""
        try:
            os.ftruncate(self.fd, 0)
            os.pwrite(self.fd, f"{pid}\n".encode(), 0)
        except OSError:
            pass  # a hint only: a full disk must not stop the lock from working

    def release(self) -> None:
        """Close this descriptor; the lock lives on in any process that inherited it."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def lock_path(run_dir: Path | str) -> Path:
    return Path(run_dir) / LOCK_NAME


def _open(run_dir: Path) -> int:
    try:
        return fileio.open_own(lock_path(run_dir), os.O_RDWR | os.O_CREAT)
    except ForeignFileError as error:
        raise RunError(f"{error}; it is not the run's lock") from None
    except OSError as error:
        raise RunError(f"{lock_path(run_dir)}: cannot open the run's lock ({error.strerror})") from None


def busy_message(run_dir: Path) -> str:
    pid = holder_pid(run_dir)
    who = f"trainer pid {pid}" if pid else "another trainer"
    return f"{run_dir}: the run is in use by {who} (it holds {LOCK_NAME}); stop it first or wait for it to end"


def acquire(run_dir: Path | str, wait: float = WAIT) -> RunLock:
    """Take the run's lock or raise RunError naming the holder."""
    run_dir = Path(run_dir)
    fd = _open(run_dir)
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return RunLock(run_dir, fd)
        except BlockingIOError:
            if time.monotonic() >= deadline:
                os.close(fd)
                raise RunError(busy_message(run_dir)) from None
            time.sleep(0.05)


def adopt_or_acquire(run_dir: Path | str) -> RunLock:
    """The trainer's lock: the locked descriptor its launcher passed down, else a new acquire."""
    run_dir = Path(run_dir)
    raw = os.environ.pop(LOCK_FD_ENV, "")  # never handed on to the trainer's own children
    if raw.isdigit():
        fd = int(raw)
        try:
            mine, disk = os.fstat(fd), os.lstat(lock_path(run_dir))
            if (mine.st_dev, mine.st_ino) == (disk.st_dev, disk.st_ino):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # ours already: returns at once
                os.set_inheritable(fd, False)
                return RunLock(run_dir, fd)
        except OSError:
            pass
    return acquire(run_dir)


def wait_for_launcher(timeout: float = 30.0) -> None:
    """Block until the launcher that spawned this trainer has finished writing status.json
    (it closes the pipe's other end; a launcher that dies closes it too)."""
    raw = os.environ.pop(READY_FD_ENV, "")
    if not raw.isdigit():
        return
    fd = int(raw)
    try:
        import select

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if select.select([fd], [], [], 0.5)[0] and not os.read(fd, 4096):
                return
    except OSError:
        return
    finally:
        try:
            os.close(fd)
        except OSError:
            pass


def is_held(run_dir: Path | str) -> bool:
    """Whether a live process holds the run's lock (a probe, released at once)."""
    try:
        fd = fileio.open_own(lock_path(run_dir), os.O_RDONLY)
    except OSError:  # none, or not a lock a trainer could hold (a link, a FIFO)
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


def holder_pid(run_dir: Path | str) -> int | None:
    try:
        fd = fileio.open_own(lock_path(run_dir), os.O_RDONLY)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as handle:
        text = handle.read(32).decode("ascii", errors="replace").strip()
    return int(text) if text.isdigit() else None


def process_has_lock_open(pid: int, run_dir: Path | str) -> bool:
    """Whether process `pid` has this run's lock file open (/proc/PID/fd): proof it is the
    trainer (or its launcher), whatever a status file says about that pid."""
    try:
        target = os.lstat(lock_path(run_dir))  # a link to some other file proves nothing
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for name in fds:
        try:
            info = os.stat(f"/proc/{pid}/fd/{name}")
        except OSError:
            continue
        if (info.st_dev, info.st_ino) == (target.st_dev, target.st_ino):
            return True
    return False
