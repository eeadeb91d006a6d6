"""`fer-tui visualize --mode image|video|webcam --ckpt P --input PATH [--output PATH]`."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import TYPE_CHECKING

from fer_core.cli.commands import add_model_arguments
from fer_core.data.imagefile import image_kind, read_image
from fer_core.errors import DataError
from fer_core.mindspore_setup import quiet_logging
from fer_core.text import counted, shown

if TYPE_CHECKING:
    from fer_core.infer.predictor import Predictor

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--mode", choices=("image", "video", "webcam"), default="image", help="what --input is (default image)"
    )
    parser.add_argument("--ckpt", "--ckpt_path", dest="ckpt", required=True, help="checkpoint (.ckpt)")
    parser.add_argument("--input", help="image or video file; for webcam a camera index (default 0)")
    parser.add_argument(
        "--output",
        type=Path,
        help="annotated file (default: INPUT_annotated.png / .mp4 beside the input, or in the current "
        "folder when the input is in fer-tui's shipped data or a class folder; webcam_<time>.mp4)",
    )
    parser.add_argument("--max_frames", type=int, help="stop after this many frames (webcam default 300)")
    add_model_arguments(parser, backend=True)
    parser.add_argument("--force", action="store_true", help="overwrite --output if it exists")


def run(args: argparse.Namespace) -> int:
    from fer_core.infer import visualize

    if args.mode != "webcam" and not args.input:
        raise DataError(f"--input is required for --mode {args.mode}")
    if args.max_frames is not None and args.max_frames < 1:
        raise DataError(f"--max_frames must be >= 1, got {args.max_frames}")
    # open the input and check the output before loading MindSpore: bad input fails fast
    if args.mode == "image":
        source = Path(args.input)
        if source.is_dir():
            raise DataError(
                f"{source}: is a folder; visualize annotates one image "
                f"(for a prediction per image in a folder: fer-tui infer --image_path {source})"
            )
        if source.is_file() and source.suffix.lower() in VIDEO_SUFFIXES:
            raise DataError(f"{source}: a video; --mode image annotates one image (add --mode video)")
        frame = read_image(source, color=True)  # decoded before MindSpore loads: too large, cut short
        output, why = _output(args.output, source, ".png")
        visualize.check_output_kind(output, video=False)
        visualize.refuse_overwrite(output, args.force)
        predictor = _predictor(args)
        detections = visualize.image(predictor, frame, output, args.force)
        print(f"{counted(len(detections), 'face')} annotated: {_where(output, why)}")
        return 0
    if args.mode == "video":
        video = Path(args.input)
        kind = image_kind(video)
        if kind:
            raise DataError(
                f"{shown(video)}: is an image ({kind}); --mode video annotates a video (for an image: --mode image)"
            )
        capture = visualize.open_video(video)
        output, why = _output(args.output, video, ".mp4")
        source_name, max_frames = str(video), args.max_frames
    else:
        index = args.input or "0"
        if not index.isdigit():
            raise DataError(f"--input for webcam must be a camera index like 0, got {index!r}")
        capture = visualize.open_camera(int(index))
        output, why = args.output or Path(f"webcam_{time.strftime('%Y%m%d-%H%M%S')}.mp4"), ""
        visualize.refuse_shipped(output)
        source_name, max_frames = f"camera {index}", args.max_frames or 300
    try:
        visualize.check_output_kind(output, video=True)
        visualize.refuse_overwrite(output, args.force)
        predictor = _predictor(args)
    except BaseException:
        capture.release()
        raise
    facts = visualize.video(predictor, capture, output, source_name, args.force, max_frames)
    print(f"{counted(facts['frames'], 'frame')}, {counted(facts['faces'], 'face')} annotated: {_where(output, why)}")
    return 0


def _output(given: Path | None, source: Path, suffix: str) -> tuple[Path, str]:
    """--output (never inside fer-tui's shipped data), else the default and why it is not beside the input."""
    from fer_core.infer import visualize

    if given is None:
        return visualize.default_output(source, suffix)
    visualize.refuse_shipped(given)
    return given, ""


def _where(output: Path, why: str) -> str:
    """The written file; when it is not beside the input, its full path and why."""
    if not why:
        return shown(output)
    return f"{shown(output.absolute())} (in the current folder: {shown(why)})"


def _predictor(args: argparse.Namespace) -> Predictor:
    quiet_logging()
    from fer_core.infer.predictor import Predictor

    return Predictor(args.ckpt, arch=args.arch, device_target=args.device_target, batch_size=8, backend=args.backend)
