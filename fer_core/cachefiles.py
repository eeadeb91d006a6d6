"""Entries of fer-tui's cache folder that run as code or as a model: ONNX exports, the kernel
library. Each is written owner-only (files 0o600, folders 0o700) with the SHA-256 of its bytes
recorded beside it (`<entry>.sha256`), and is used only while its bytes still hash to that
record. Anything else at an entry's name (another file copied over it, a truncated or junk
file, a folder, a link) is a miss: the caller rebuilds it, never loads it.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fer_core import locations
from fer_core.errors import CacheError

RECORD_SUFFIX = ".sha256"
RECORD_LIMIT = 256  # a record is 64 hex digits and a newline; anything longer is not ours


def record_of(path: Path) -> Path:
    return path.with_name(path.name + RECORD_SUFFIX)


def folder(name: str) -> Path:
    """The cache's `name` folder, made owner-only when fer-tui makes it; CacheError when there
    is none and none can be made (a read-only cache, a file where the cache should be)."""
    root = locations.cache_dir()
    path = root / name
    try:
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.mkdir(mode=0o700, exist_ok=True)
        info = os.lstat(path)
    except OSError as error:
        raise CacheError(f"cache folder {path}: {error.strerror or error}") from None
    if not stat.S_ISDIR(info.st_mode):
        raise CacheError(f"cache folder {path}: not a folder")
    if info.st_uid == os.getuid() and stat.S_IMODE(info.st_mode) != 0o700:
        try:  # made by an older fer-tui with the umask's mode
            os.chmod(path, 0o700)
        except OSError:
            pass  # read-only: it can still be read
    return path


def _read_own(path: Path, limit: int | None = None) -> bytes | None:
    """A regular file of ours, read whole without following a link or blocking on a FIFO."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid():
            return None
        if limit is not None and info.st_size > limit:
            return None
        with os.fdopen(os.dup(fd), "rb") as handle:
            return handle.read()
    except OSError:
        return None
    finally:
        os.close(fd)


def read_verified(path: Path) -> bytes | None:
    """The entry's bytes when they hash to the record written beside them, else None (a miss).
    Callers that can take bytes (ONNX Runtime) use these, so what runs is what was checked."""
    data = _read_own(path)
    record = _read_own(record_of(path), RECORD_LIMIT)
    if data is None or record is None:
        return None
    return data if hashlib.sha256(data).hexdigest() == record.decode("ascii", "replace").strip() else None


def is_verified(path: Path) -> bool:
    return read_verified(path) is not None


def fsync_folder(path: Path) -> None:
    """Make a rename in `path` durable (the folder's entry, not only the file's bytes)."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_record(path: Path, digest: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)  # 0o600
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(digest + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)


def store(built: Path, path: Path) -> None:
    """Make `built` (a finished file on the cache's file system) the entry `path`: owner-only,
    on disk before the rename, its hash recorded beside it. CacheError when it cannot be kept."""
    try:
        os.chmod(built, 0o600)
        digest = hashlib.sha256()
        with open(built, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
            os.fsync(handle.fileno())
        # the record first: a crash between the two renames leaves a mismatch (a miss), never a
        # wrong file that verifies
        _write_record(record_of(path), digest.hexdigest())
        if os.path.isdir(path) and not os.path.islink(path):
            os.rmdir(path)  # only an empty folder: one with files in it is not ours to delete
        os.replace(built, path)
        fsync_folder(path.parent)
    except OSError as error:
        raise CacheError(f"cache entry {path}: {error.strerror or error}") from None


@contextmanager
def entry(path: Path) -> Iterator[Path]:
    """A private temporary beside `path` to write the entry into; stored as `path` (see
    `store`) when the block succeeds, removed whatever happens."""
    try:
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as error:
        raise CacheError(f"cache folder {path.parent}: {error.strerror or error}") from None
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        store(tmp, path)
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)


def discard(path: Path) -> None:
    """Forget an entry of ours (pruning): the file and its record."""
    for file in (path, record_of(path)):
        try:
            os.unlink(file)
        except OSError:
            pass
