"""`fer-tui VERB …`: every action of the dashboard, headless.

Each verb lives in `fer_core/cli/commands/<verb>.py` with `add_arguments(parser)` and
`run(args) -> int`; this module only dispatches and turns FerError into one line + exit 2.
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import signal
import sys
from collections.abc import Callable, Iterable
from importlib import import_module
from pathlib import Path
from typing import TypeVar, overload

from fer_core.errors import FerError, did_you_mean
from fer_core.text import shown

_N = TypeVar("_N")

VERBS = {
    "train": "train a model (a preset, any field as --flag), or --resume a run",
    "runs": "list runs: id, preset, state, epoch, step, ETA, best val acc, last update (--all: from anywhere; --table: the leaderboard)",
    "stop": "stop a live run (it saves last_state.ckpt at its current step first)",
    "wait": "wait until a run ends; exit 0 finished, 1 failed, 3 stopped, 4 lost",
    "diagnose": "what a run's curves say (over-fitting, plateau, divergence …) and the config changes for it",
    "queue": "runs one after another in a detached runner: list, add, start, stop, resume, move, remove, clear",
    "sweep": "a grid of settings × seeds over a preset, queued as one sweep folder",
    "data": "rows per split and class of a CSV, image folder or 'demo'",
    "presets": "list presets, or save one",
    "eval": "accuracy, per-class precision/recall and confusion matrix of a checkpoint",
    "checkpoints": "triage every checkpoint under a folder: size, structure, behaviour",
    "infer": "predict the expression of one image, or of every image directly in a folder",
    "samples": "save correctly classified faces per class (the sample folder)",
    "visualize": "draw face boxes and predictions on an image, video or webcam",
    "export": "write a checkpoint as ONNX or MINDIR, with a sidecar, for deployment",
}


GLOBAL_FLAGS = ("--root",)  # flags of `fer-tui` itself, given before the verb


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a bad flag as one line (no usage dump) and exits 2, takes
    `--no-cache` and `--no_cache` alike, takes choices in any case (`--device_target gpu`),
    and names the closest flag when one is misspelt."""

    _given: tuple[str, ...] = ()  # the arguments being parsed (respelt)

    def take_choices_in_any_case(self) -> None:
        """Every string `choices` of this parser (argument groups and sub-verbs such as
        `queue add` included) in any case."""
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub_verb in action.choices.values():
                    if isinstance(sub_verb, OneLineParser):
                        sub_verb.take_choices_in_any_case()
                continue
            if action.choices and action.type is None and all(isinstance(c, str) for c in action.choices):
                action.type = _any_case(tuple(action.choices))

    @overload
    def parse_known_args(
        self, args: Iterable[str] | None = None, namespace: None = None
    ) -> tuple[argparse.Namespace, list[str]]: ...
    @overload
    def parse_known_args(self, args: Iterable[str] | None, namespace: _N) -> tuple[_N, list[str]]: ...
    @overload
    def parse_known_args(self, *, namespace: _N) -> tuple[_N, list[str]]: ...
    def parse_known_args(
        self, args: Iterable[str] | None = None, namespace: _N | None = None
    ) -> tuple[_N | argparse.Namespace, list[str]]:
        args = self._respell(sys.argv[1:] if args is None else list(args))
        self._given = tuple(args)  # for error(): what a misspelt flag left behind
        parsed, extras = super().parse_known_args(args, namespace)
        if extras:  # argparse would report them at the top, without the verb or a hint
            self.error(
                f"unrecognized argument{'s' if len(extras) > 1 else ''}: {' '.join(extras)}" + self._hint(extras)
            )
        return parsed, extras

    def error(self, message: str) -> None:  # type: ignore[override]
        stray = self._stray_flag(message)
        if stray:  # `fer-tui --roots /tmp runs`: the flag is the mistake, not the verb '/tmp'
            message = f"unrecognized argument: {stray}{self._hint([stray])}"
        self.exit(2, f"{self.prog}: error: {shown(message)}{_choice_hint(message)}\n")

    def _stray_flag(self, message: str) -> str | None:
        """The unknown `--flag` whose value argparse then refused as an invalid choice (the
        verb, mostly): argparse sets an unknown flag aside and reads its value as the next
        positional."""
        found = re.match(r"argument [^:]*: invalid choice: '([^']*)'", message)
        given = self._given
        known = set(self._option_string_actions)
        for flag, value in zip(given, given[1:]):
            if found and value == found.group(1) and flag.startswith("--") and flag not in known:
                return flag
        return None

    def _long_options(self) -> list[str]:
        return [o for o in self._option_string_actions if o.startswith("--")]

    def _respell(self, args: list[str]) -> list[str]:
        """`--no_cache` for `--no-cache` and `--batch-size` for `--batch_size`: one spelling
        is defined, both are understood (only before `--`, only for flags of this parser)."""
        known, out = set(self._long_options()), list[str]()
        for k, arg in enumerate(args):
            if arg == "--":
                return out + args[k:]
            name, eq, value = arg.partition("=")
            if arg.startswith("--") and name not in known:
                for other in (name[:2] + name[2:].replace("-", "_"), name[:2] + name[2:].replace("_", "-")):
                    if other in known:
                        arg = other + eq + value
                        break
            out.append(arg)
        return out

    def _hint(self, extras: list[str]) -> str:
        flag = next((e.partition("=")[0] for e in extras if e.startswith("--")), None)
        if flag in GLOBAL_FLAGS and flag not in self._option_string_actions:  # `fer-tui runs --root DIR`
            return f"; {flag} goes before the verb: fer-tui {flag} DIR {self.prog.removeprefix('fer-tui ')} …"
        best = closest_flag(flag, self._long_options()) if flag else None
        return f"; did you mean {best}?" if best else ""


def _choice_hint(message: str) -> str:
    """`; did you mean train?` after argparse's "invalid choice: 'trian' (choose from …)"."""
    found = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
    if not found:
        return ""
    options = re.findall(r"'([^']*)'", found.group(2)) or [o.strip() for o in found.group(2).split(",")]
    return did_you_mean(found.group(1), options)


def _any_case(choices: tuple[str, ...]) -> Callable[[str], str]:
    """argparse `type` that turns `gpu` into `GPU`; anything else goes on to argparse's own
    'invalid choice' message."""
    canonical = {c.lower(): c for c in choices}

    def convert(value: str) -> str:
        return canonical.get(value.lower(), value)

    convert.__name__ = "choice"  # argparse names the type in some messages
    return convert


def closest_flag(given: str, options: list[str]) -> str | None:
    """The defined flag a misspelt one most likely meant: the same initials
    (`--learning_rate` -> `--lr`, `--bs` -> `--batch_size`), else the nearest spelling."""

    def norm(flag: str) -> str:
        return flag.lstrip("-").replace("-", "_").lower()

    def initials(name: str) -> str:
        return "".join(part[0] for part in name.split("_") if part)

    by_name = {norm(o): o for o in options if norm(o) not in ("help",)}
    wanted = norm(given)
    for name, option in by_name.items():
        if ("_" in wanted and initials(wanted) == name) or ("_" in name and initials(name) == wanted):
            return option
    close = difflib.get_close_matches(wanted, list(by_name), n=1, cutoff=0.6)
    return by_name[close[0]] if close else None


def after_global_flags(argv: list[str]) -> list[str]:
    """What follows a leading `--root DIR` / `--root=DIR` (all of argv if there is none; a
    `--root` without its DIR is left for the parser, whose error is one line)."""
    if argv[:1] == ["--root"] and len(argv) > 1:
        return argv[2:]
    if argv and argv[0].startswith("--root="):
        return argv[1:]
    return argv


def verb_named(argv: list[str]) -> str | None:
    """The verb `argv` names after fer-tui's own flags, if it is one exactly."""
    rest = after_global_flags(argv)
    return rest[0] if rest and rest[0] in VERBS else None


def build_parser(verbs: Iterable[str] = VERBS) -> argparse.ArgumentParser:
    """The parser of `verbs`: every verb for the help and for a misspelt one, else only the
    verb given, so that `fer-tui stop` does not import what `infer` needs (numpy, OpenCV)."""
    parser = OneLineParser(
        prog="fer-tui",
        description="Train and triage FER2013 expression models. "
        "Run without a verb (or with `ui`) for the full-screen dashboard.",
    )
    # dest differs from the verbs' own `root` arguments (`runs DIR`), which would overwrite it
    parser.add_argument(
        "--root",
        dest="global_root",
        type=Path,
        metavar="DIR",
        help="checkpoints root: where runs are written and listed "
        "(default: $FER_TUI_CHECKPOINTS, else ./checkpoints in the current directory)",
    )
    sub = parser.add_subparsers(dest="verb", metavar="VERB", parser_class=OneLineParser)
    for verb in verbs:
        help_text = VERBS[verb]
        module = import_module(f"fer_core.cli.commands.{verb}")
        verb_parser = sub.add_parser(verb, help=help_text, description=help_text)
        module.add_arguments(verb_parser)
        verb_parser.take_choices_in_any_case()
        # not `run`: a verb's own argument of that name (`fer-tui stop RUN`) would replace it
        verb_parser.set_defaults(_handler=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] != ["train"]:
        return _main(argv)
    # a foreground run trains in this process: its signals are taken by one thread from the
    # start, before numpy's threads exist (MindSpore would turn ctrl+c into SIGTERM)
    from fer_core import signals

    previous = signal.pthread_sigmask(signal.SIG_BLOCK, signals.STOP_SIGNALS)
    signals.block_stop_signals()
    try:
        return _main(argv)
    finally:  # a caller that goes on (tests call main in-process) gets its mask back
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _main(argv: list[str]) -> int:
    verb = verb_named(argv)
    parser = build_parser([verb] if verb else VERBS)
    args = parser.parse_args(argv)
    if args.global_root:
        use_root(args.global_root)
    if not getattr(args, "verb", None):
        parser.print_help()
        return 0
    try:
        return int(args._handler(args) or 0)
    except FerError as error:  # the one place a FerError is printed: escaped here, once
        print(f"fer-tui {args.verb}: error: {shown(error)}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `fer-tui runs | head`: the reader left; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as error:  # a path the system refused (not a folder, no space, no permission)
        where = f"{error.filename}: " if error.filename else ""
        print(f"fer-tui {args.verb}: error: {shown(where)}{shown(error.strerror or error)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def use_root(root: Path) -> None:
    """`--root DIR`: the checkpoints root of this process and of the runs it launches."""
    os.environ["FER_TUI_CHECKPOINTS"] = str(root.expanduser().resolve())
