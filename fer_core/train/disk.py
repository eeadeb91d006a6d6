"""A full disk during training: free our temporaries, say so in status.json, exit 1."""

from __future__ import annotations

import errno
import sys
from collections.abc import Callable
from pathlib import Path

from fer_core.runs.rundir import remove_stale_temporaries


def out_of_space(run_dir: Path, say: Callable[[str], None], set_status: Callable[..., None]) -> int:
    """A full disk: free what our half-written files took (MindSpore's own `.tmp` too: it is
    named from ours), then say so in status.json. Returns the exit status."""
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
