"""Atomic writes: a reader sees the old file or the new one, never half of either.

And only fer-tui's own files: every file opened for writing here (or with `open_own`) is a
regular file or nothing, never followed through a symbolic link, never a FIFO that would hang
the open. Every temporary carries TEMP_MARK, so a clean-up removes only what fer-tui named.
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

import tomli_w
import tomllib

from fer_core.errors import ForeignFileError

# In every temporary's name: `.NAME.fer-tmp-XXXXXXXX.tmp` (or `.ckpt`, whose MindSpore's own
# temporary is the same name ending `.tmp`). A user's hidden file never looks like it.
TEMP_MARK = ".fer-tmp-"
_TEMPORARY = re.compile(r"\..+" + re.escape(TEMP_MARK) + r"[a-z0-9_]+\.[a-z0-9]+")
_KINDS = {
    stat.S_IFLNK: "a symbolic link",
    stat.S_IFIFO: "a FIFO",
    stat.S_IFDIR: "a folder",
    stat.S_IFCHR: "a device",
    stat.S_IFBLK: "a device",
    stat.S_IFSOCK: "a socket",
}


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


@contextmanager
def atomic_path(path: Path | str, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it over `path` if the block succeeds.

    The temporary name starts with a dot so listings of `*.ckpt` never show it.
    `suffix` keeps the extension some writers insist on (MindSpore adds `.ckpt`).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    refuse_foreign(path)  # the rename would replace a user's symbolic link or FIFO
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}{TEMP_MARK}", suffix=suffix or ".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o666 & ~_UMASK)  # mkstemp (and MindSpore) make files private
        with open(tmp_path, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_text(path: Path | str, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json(path: Path | str, data: Any) -> None:
    write_text(path, json.dumps(data, indent=2, sort_keys=False) + "\n")


def write_toml(path: Path | str, data: dict) -> None:
    write_text(path, tomli_w.dumps(data))


def append_line(path: Path | str, line: str) -> None:
    """Append one whole line and flush it to disk (metrics.jsonl)."""
    with open_append(path) as handle:
        handle.write((line.rstrip("\n") + "\n").encode("utf-8"))
        handle.flush()
        os.fsync(handle.fileno())


# ---------------------------------------------------------------- only our own files


def is_temporary(name: str) -> bool:
    """Whether `name` is a temporary fer-tui (or MindSpore, on its behalf) named."""
    return _TEMPORARY.fullmatch(name) is not None


def refuse_foreign(path: Path | str) -> None:
    """ForeignFileError if `path` exists and is not a regular file (a link is not followed)."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISREG(info.st_mode):
        raise ForeignFileError(_refusal(path, info.st_mode))


def refuse_foreign_folder(path: Path | str) -> None:
    """ForeignFileError if `path` exists and is not a real folder: a folder fer-tui fills (a
    sample set's class folder) is never a symbolic link out of the place the user named."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(info.st_mode):
        kind = "a file" if stat.S_ISREG(info.st_mode) else _KINDS.get(stat.S_IFMT(info.st_mode), "something else")
        raise ForeignFileError(
            f"{path} is {kind}, not a folder fer-tui made; nothing is written into it (move it away)"
        )


def open_own(path: Path | str, flags: int, mode: int = 0o666) -> int:
    """`os.open` for a file fer-tui writes: O_NOFOLLOW (a symbolic link is refused, not
    followed out of the folder), O_NONBLOCK (a FIFO cannot hang the open) and a check of what
    was opened: anything but a regular file is a ForeignFileError naming `path`."""
    try:
        fd = os.open(path, flags | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, mode)
    except OSError:
        refuse_foreign(path)  # ELOOP, ENXIO, EISDIR ...: say what the name really is
        raise
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise ForeignFileError(_refusal(path, info.st_mode))
    if not flags & os.O_NONBLOCK:
        os.set_blocking(fd, True)
    return fd


def open_append(path: Path | str) -> BinaryIO:
    """A regular file opened to append to (created if missing), never through a link."""
    return os.fdopen(open_own(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT), "ab")


def _refusal(path: Path | str, mode: int, what: str = "it is never written through (move it away)") -> str:
    kind = _KINDS.get(stat.S_IFMT(mode), "not a regular file")
    return f"{path} is {kind}, not a file fer-tui wrote; {what}"


# ---------------------------------------------------------------- reading what anyone may have edited

MAX_BYTES = 1 << 20  # a status, sidecar, preset or config is a few KB
MAX_DEPTH = 32  # brackets within brackets: fer-tui's own files nest three deep
# What can hide a bracket: strings (an unterminated one runs to the end) and TOML comments.
# Every alternative matches once started, so one pass is linear in the text.
_JSON_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*+"?|[\[\]{}]')
_TOML_TOKENS = re.compile(
    r'"""(?:\\[\s\S]|[^\\])*?(?:"""|\Z)'
    r"|'''[\s\S]*?(?:'''|\Z)"
    r'|"(?:[^"\\\n]|\\.)*+"?'
    r"|'[^'\n]*+'?"
    r"|#[^\n]*+"
    r"|[\[\]{}]"
)


def read_capped(path: Path | str, limit: int = MAX_BYTES) -> bytes:
    """A regular file's bytes, refused past `limit` (a ValueError saying so); a FIFO or device
    is refused, never waited on. A symbolic link is followed: reading writes nothing."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as handle:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, "is a folder", str(path))
        if not stat.S_ISREG(mode):
            raise ForeignFileError(_refusal(path, mode, "not read"))
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"larger than {limit // 1024} KB, too large for this kind of file")
    return data


def check_depth(text: str, tokens: re.Pattern = _JSON_TOKENS) -> None:
    """A ValueError if brackets outside strings nest deeper than MAX_DEPTH (the parsers recurse)."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return  # the common case, at the cost of two counts
    depth = 0
    for token in tokens.finditer(text):
        bracket = token.group()
        if bracket in ("[", "{"):
            depth += 1
            if depth > MAX_DEPTH:
                raise ValueError(f"brackets nested more than {MAX_DEPTH} deep")
        elif bracket in ("]", "}"):
            depth -= 1


def parse_json(text: str | bytes) -> Any:
    """json.loads, refusing nesting no file of fer-tui's has (ValueError, never RecursionError)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    check_depth(text, _JSON_TOKENS)
    return json.loads(text)


def parse_toml(text: str) -> dict[str, Any]:
    """tomllib.loads with parse_json's depth cap (tomllib.TOMLDecodeError is a ValueError too)."""
    check_depth(text, _TOML_TOKENS)
    if text.count(".") > MAX_DEPTH:  # dotted keys nest without a bracket (and tomllib is slow on them)
        for line in text.splitlines():
            key = line.split("=", 1)[0] if "=" in line else line
            if key.count(".") > MAX_DEPTH:
                raise ValueError(f"keys nested more than {MAX_DEPTH} deep")
    return tomllib.loads(text)


def read_json(path: Path | str, limit: int = MAX_BYTES) -> Any:
    """A JSON file anyone may have edited: OSError, or ValueError with a short reason."""
    return parse_json(read_capped(path, limit))
