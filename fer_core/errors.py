"""The one exception type every user-facing error uses: a one-line message, no traceback;
and `one_line`, how any other error's text becomes one."""

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
