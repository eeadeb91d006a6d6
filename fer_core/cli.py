"""`fer-tui VERB …`: every action of the dashboard, headless.

Each verb lives in `fer_core/commands/<verb>.py` with `add_arguments(parser)` and
`run(args) -> int`; this module only dispatches and turns FerError into one line + exit 2.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from importlib import import_module

from fer_core.errors import FerError

VERBS = {
    "train": "train a model (a preset, any field as --flag), or --resume a run",
    "runs": "list runs: id, preset, state, epoch, best val acc",
    "stop": "stop a live run (it saves last_state.ckpt first)",
    "data": "rows per split and class of a CSV, image folder or 'demo'",
    "presets": "list presets, or save one",
    "eval": "accuracy, per-class precision/recall and confusion matrix of a checkpoint",
    "checkpoints": "triage every checkpoint under a folder: size, structure, behaviour",
    "infer": "predict the expression of one image",
    "samples": "save correctly classified faces per class (the sample folder)",
    "visualize": "draw face boxes and predictions on an image, video or webcam",
    "export": "write a checkpoint as ONNX or MINDIR, with a sidecar, for deployment",
}


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a bad flag as one line (no usage dump) and exits 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="fer-tui", description="Train and triage FER2013 expression models. "
                           "Run without a verb for the full-screen dashboard.")
    sub = parser.add_subparsers(dest="verb", metavar="VERB", parser_class=OneLineParser)
    for verb, help_text in VERBS.items():
        module = import_module(f"fer_core.commands.{verb}")
        verb_parser = sub.add_parser(verb, help=help_text, description=help_text)
        module.add_arguments(verb_parser)
        # not `run`: a verb's own argument of that name (`fer-tui stop RUN`) would replace it
        verb_parser.set_defaults(_handler=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    if (sys.argv[1:] if argv is None else argv)[:1] != ["train"]:
        return _main(argv)
    # a foreground run trains in this process: its signals are taken by one thread from the
    # start, before numpy's threads exist (MindSpore would turn ctrl+c into SIGTERM)
    from fer_core import trainer_os

    previous = signal.pthread_sigmask(signal.SIG_BLOCK, trainer_os.STOP_SIGNALS)
    trainer_os.block_stop_signals()
    try:
        return _main(argv)
    finally:  # a caller that goes on (tests call main in-process) gets its mask back
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "verb", None):
        parser.print_help()
        return 0
    try:
        return int(args._handler(args) or 0)
    except FerError as error:
        print(f"fer-tui {args.verb}: error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `fer-tui runs | head`: the reader left; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as error:  # a path the system refused (not a folder, no space, no permission)
        where = f"{error.filename}: " if error.filename else ""
        print(f"fer-tui {args.verb}: error: {where}{error.strerror or error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
