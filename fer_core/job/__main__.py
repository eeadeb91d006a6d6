"""`python -m fer_core.job KIND …`: run one job, its events on stdout (see fer_core.job)."""

from __future__ import annotations

import os
import sys
from typing import TextIO

from fer_core.errors import FerError, error_line
from fer_core.job import kinds
from fer_core.job.events import Error, Event, dump
from fer_core.mindspore_setup import quiet_logging


def main(argv: list[str] | None = None, out: TextIO | None = None) -> int:
    args = kinds.build_parser().parse_args(argv)
    quiet_logging()
    if out is None:  # the events alone on stdout: anything else printed goes to stderr
        out = os.fdopen(os.dup(1), "w")
        os.dup2(2, 1)

    def emit(event: Event) -> None:
        out.write(dump(event) + "\n")
        out.flush()

    try:
        args.kind_run(args, emit)
        return 0
    except FerError as error:
        emit(Error(message=str(error)))
        return 2
    except OSError as error:  # a path the system refused (not a folder, no space, no permission)
        where = f"{error.filename}: " if error.filename else ""
        emit(Error(message=f"{where}{error.strerror or error}"))
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # the stream must end with an event the reader understands
        emit(Error(message=error_line(error)))
        return 1


if __name__ == "__main__":
    sys.exit(main())
