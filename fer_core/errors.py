"""The one exception type every user-facing error uses: a one-line message, no traceback;
and `one_line`, how any other error's text becomes one."""

import difflib
from collections.abc import Iterable

MESSAGE_LIMIT = 300  # characters of a foreign error kept (status.json, an error event, a row)


def one_line(text: object, limit: int = MESSAGE_LIMIT) -> str:
    """The first non-blank line of `text` (a library's error runs to pages of C++ stack; its
    first line says what happened), whitespace collapsed, cut to `limit` characters with "…"."""
    first = next((line for line in str(text).splitlines() if line.strip()), "")
    flat = " ".join(first.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def error_line(error: BaseException, limit: int = MESSAGE_LIMIT) -> str:
    """`ValueError: what it said`, as `one_line`."""
    return one_line(f"{type(error).__name__}: {one_line(error, limit)}", limit)


class FerError(Exception):
    """An error the user caused or can fix; its str() is one line that names the thing."""

    def __str__(self) -> str:  # always one line, whatever was passed in
        return " ".join(str(self.args[0] if self.args else "").split())


class ConfigError(FerError):
    """A bad hyperparameter, preset or config file."""


class DataError(FerError):
    """A bad data file, folder or image."""


class CheckpointError(FerError):
    """A checkpoint that cannot be read as one."""


class RunError(FerError):
    """A run directory that is missing, busy or not resumable."""


class ForeignFileError(FerError, OSError):
    """A name fer-tui would write that holds something it never writes (a symbolic link, a
    FIFO, a folder, a device): refused, never written through. An OSError too, so code that
    already copes with a path the system refused copes with this one."""


class CacheError(FerError):
    """The cache folder can neither give nor keep an entry (read-only, not a folder, in the way)."""


def closest_name(given: str, names: Iterable[str]) -> str | None:
    """The name a misspelt one most likely meant (`trian` -> `train`, `cpu_fast` -> `cpu-fast`)."""
    by_key = {name.lower().replace("_", "-"): name for name in names}
    wanted = given.lower().replace("_", "-")
    if wanted in by_key:
        return by_key[wanted]
    close = difflib.get_close_matches(wanted, list(by_key), n=1, cutoff=0.6)
    return by_key[close[0]] if close else None


def did_you_mean(given: str, names: Iterable[str]) -> str:
    """`; did you mean cpu-fast?` for an error line, or "" when nothing is close."""
    best = closest_name(given, names)
    return f"; did you mean {best}?" if best else ""
