"""The one exception type every user-facing error uses: a one-line message, no traceback."""


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
