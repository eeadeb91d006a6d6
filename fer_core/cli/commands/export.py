"""`fer-tui export --ckpt X.ckpt --format ONNX|MINDIR --output F`: the file a deployment loads."""

from __future__ import annotations

import argparse
from pathlib import Path

from fer_core import locations
from fer_core.cli.commands import add_model_arguments
from fer_core.errors import DataError
from fer_core.infer.export import MAX_BATCH, default_output
from fer_core.mindspore_setup import quiet_logging
from fer_core.text import shown


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ckpt", "--ckpt_path", dest="ckpt", required=True, help="checkpoint (.ckpt)")
    parser.add_argument(
        "--format",
        dest="file_format",
        default="ONNX",
        type=str.upper,
        choices=("ONNX", "MINDIR"),
        help="ONNX (ONNX Runtime, default) or MINDIR (MindSpore / MindSpore Lite)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        help="file to write (default: beside the checkpoint; for a "
        "shipped one, which is package data, NAME.onnx/.mindir in the current folder)",
    )
    parser.add_argument(
        "--batch", type=int, default=1, help=f"the batch size the graph takes (default 1, at most {MAX_BATCH})"
    )
    parser.add_argument("--force", action="store_true", help="replace an existing output file")
    add_model_arguments(parser, arch=True)


def make(args: argparse.Namespace) -> tuple[Path, str]:
    """The export the flags ask for (the verb and the `export` job alike): the file, and a line
    that says what it takes and gives."""
    from fer_core.ckpt.arch import check_checkpoint
    from fer_core.infer.export import FORMATS, export

    if not 1 <= args.batch <= MAX_BATCH:
        raise DataError(f"--batch must be between 1 and {MAX_BATCH}, got {args.batch}")
    ckpt = Path(args.ckpt)
    _, arch = check_checkpoint(ckpt, args.arch)  # a broken checkpoint is its triage line, before MindSpore loads
    suffix = FORMATS[args.file_format]
    output = args.output or default_output(ckpt, suffix)
    if output.suffix.lower() in {s for s in FORMATS.values() if s != suffix}:
        raise DataError(
            f"--output {output}: a {output.suffix} name for a {args.file_format} file; "
            f"name it *{suffix} or pass --format {output.suffix[1:].upper()}"
        )
    check_clashes(ckpt, output, args.force)
    quiet_logging()
    written = export(ckpt, output, args.file_format, arch, args.batch)
    return written, (
        f"{written} ({args.file_format}, input {args.batch}x1x48x48 float32 normalised as "
        f"(x/255 - 0.5)/0.5, output {args.batch}x7 probabilities); sidecar {written.name}.json"
    )


def check_clashes(ckpt: Path, output: Path, force: bool) -> None:
    """Every file the export writes (the model and its sidecar) must be free, or replaceable
    with --force; the checkpoint and its own sidecar are never replaced, even then."""
    from fer_core.infer.export import sidecar_path

    sidecar = sidecar_path(output)
    shipped = locations.in_shipped_data(output.absolute().parent)
    if shipped:
        raise DataError(
            f"--output {output}: inside fer-tui's shipped {shipped}, which it never writes; choose another place"
        )
    if not output.absolute().parent.is_dir():  # a mistyped folder is not made: it is said
        raise DataError(f"--output {output}: no folder {output.parent}; make it first or choose another place")
    if output.resolve() == ckpt.resolve():
        raise DataError(f"--output {output}: is the checkpoint itself; choose another name")
    if output.suffix.lower() in (".ckpt", ".json"):  # a checkpoint's name, or a sidecar's
        raise DataError(f"--output {output}: a {output.suffix} name for an export; choose another name")
    if sidecar.with_suffix(".ckpt").exists():  # RUN/best_model -> RUN/best_model.json
        raise DataError(
            f"--output {output}: its sidecar {sidecar} would replace the sidecar of "
            f"{sidecar.with_suffix('.ckpt').name}; choose another name"
        )
    for path in (output, sidecar):
        if path.is_dir():
            raise DataError(f"--output {output}: {path} is a folder")
        if (path.exists() or path.is_symlink()) and not force:
            what = "exists" if path == output else f"its sidecar {path} exists"
            raise DataError(f"--output {output}: {what}; pass --force to replace it")


def run(args: argparse.Namespace) -> int:
    print(shown(make(args)[1]))  # names the --output the user gave
    return 0
