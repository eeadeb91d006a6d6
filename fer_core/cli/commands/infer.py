"""`fer-tui infer --ckpt_path P --image_path IMG`: the classic one-image prediction line.

A folder as --image_path predicts every image in it and in its class sub-folders (`happy/`,
as `eval` reads them; their true class is shown), one line (or JSON object) per image, the
model loaded once. A sample set's overview.png, a picture of many faces, is left out; what is
left out is said in one line.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from fer_core import CLASS_NAMES
from fer_core.cli.commands import add_model_arguments
from fer_core.data.imagefile import read_image
from fer_core.infer.predictor import TTA_CHOICES
from fer_core.mindspore_setup import quiet_logging
from fer_core.text import shown

if TYPE_CHECKING:
    import numpy as np


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ckpt_path", "--ckpt", dest="ckpt_path", required=True, help="checkpoint (.ckpt)")
    parser.add_argument(
        "--image_path",
        "--image",
        dest="image_path",
        required=True,
        help="a 48×48 face crop or a photo (the face is found with a Haar cascade), "
        "or a folder: every image in it and in its class sub-folders (happy/, ...)",
    )
    add_model_arguments(parser, backend=True)
    parser.add_argument("--all", action="store_true", help="also print all 7 probabilities")
    parser.add_argument(
        "--tta",
        default="auto",
        choices=TTA_CHOICES,
        help="test-time augmentation (default auto: as the checkpoint's run validated)",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object instead of text")


def warn_if_untrained(ckpt: str) -> None:
    """A last_state.ckpt of a run stopped in its first epoch predicts, but says so first."""
    from fer_core.ckpt import verdict
    from fer_core.ckpt.sidecar import read_sidecar

    side = read_sidecar(ckpt)
    judged = verdict.untrained(side.epoch if side else None)
    if judged.level != "ok":
        print(shown(f"warning: {Path(ckpt).name}: {judged.text}"), file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    quiet_logging()
    if Path(args.image_path).is_dir():
        return run_folder(args, Path(args.image_path))
    from fer_core.infer.faces import find_faces
    from fer_core.infer.predictor import Predictor, top_class

    gray = read_image(args.image_path)  # a bad image (too large, cut short) fails before MindSpore loads
    faces, note = find_faces(gray)
    predictor = Predictor(
        args.ckpt_path, arch=args.arch, device_target=args.device_target, batch_size=1, backend=args.backend
    )
    warn_if_untrained(args.ckpt_path)
    probs = predictor.predict(faces[0].image, tta=args.tta)[0]
    best, probability = top_class(probs)
    if args.json:
        print(json.dumps(prediction_record(probs, faces[0].box, note, predictor.arch)))
        return 0
    if not note.endswith("face crop"):
        print(f"note: {note}", file=sys.stderr)
    print(f"Prediction: {CLASS_NAMES[best]} Probability: {probability:.4f}")
    if args.all:
        for name, p in zip(CLASS_NAMES, probs):
            print(f"  {name:<9} {p:.4f}")
    return 0


def folder_images(folder: Path) -> tuple[list[tuple[Path, int | None]], list[str]]:
    """The images to predict in `folder`: those directly in it (true class unknown), then those in
    its class sub-folders (true class from the folder's name); and what was left out, named."""
    from fer_core.data.dataset import class_index, image_files
    from fer_core.data.samples import montages

    top, _ = image_files(folder)  # other files are not images: nothing to say about them
    left_out = montages(folder)
    found: list[tuple[Path, int | None]] = [(image, None) for image in top if image not in left_out]
    skipped = [f"{image.name} (a sample set's overview of many faces)" for image in top if image in left_out]
    for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        images = image_files(sub)[0]
        label = class_index(sub.name)
        if label is None:
            if images:  # a folder of other things (a cache, notes) is no image left out
                skipped.append(f"{sub.name}/ (not a class folder: {len(images)} image{'s' * (len(images) > 1)})")
            continue
        found += [(image, label) for image in images]
    return found, skipped


def run_folder(args: argparse.Namespace, folder: Path) -> int:
    """Every image of `folder` (folder_images): `NAME: Prediction: … Probability: …` per line,
    `(true: CLASS)` added for a class folder's image and a count of those right at the end; an
    unreadable one is a line on stderr and exit 2 once the others are done."""
    from fer_core.data.dataset import IMAGE_SUFFIXES
    from fer_core.errors import DataError
    from fer_core.infer.faces import find_faces
    from fer_core.infer.predictor import Predictor, top_class

    images, skipped = folder_images(folder)
    if not images:
        raise DataError(
            f"{folder}: a folder with no images in it or in class sub-folders like happy/ "
            f"({', '.join(IMAGE_SUFFIXES)}); give an image or a folder of images"
        )
    if skipped:
        print(f"note: not predicted: {shown(', '.join(skipped))}", file=sys.stderr)
    predictor = Predictor(
        args.ckpt_path, arch=args.arch, device_target=args.device_target, batch_size=1, backend=args.backend
    )
    warn_if_untrained(args.ckpt_path)
    failed = right = labelled = 0
    for image, true in images:
        name = image.relative_to(folder).as_posix()
        try:
            faces, note = find_faces(read_image(image))
        except DataError as error:
            print(f"fer-tui infer: error: {shown(error)}", file=sys.stderr)
            failed += 1
            continue
        probs = predictor.predict(faces[0].image, tta=args.tta)[0]
        best, probability = top_class(probs)
        if true is not None:
            labelled += 1
            right += best == true
        if args.json:
            truth = {"true": CLASS_NAMES[true] if true is not None else None}
            record = {"image": str(image), **prediction_record(probs, faces[0].box, note, predictor.arch), **truth}
            print(json.dumps(record), flush=True)
            continue
        shown_true = f" (true: {CLASS_NAMES[true]})" if true is not None else ""
        print(f"{shown(name)}: Prediction: {CLASS_NAMES[best]} Probability: {probability:.4f}{shown_true}", flush=True)
        if args.all:
            for class_name, p in zip(CLASS_NAMES, probs):
                print(f"  {class_name:<9} {p:.4f}")
    if labelled and not args.json:
        print(f"{right} of {labelled} faces in class folders predicted as their folder's class")
    return 2 if failed else 0


def prediction_record(probs: np.ndarray, box: tuple[int, int, int, int], note: str, arch: str) -> dict:
    """One face's prediction as `--json` prints it (for a folder, each line adds its image)."""
    best = int(probs.argmax())
    return {
        "prediction": CLASS_NAMES[best],
        "probability": float(probs[best]),
        "probabilities": dict(zip(CLASS_NAMES, map(float, probs))),
        "box": list(box),
        "face": note,
        "arch": arch,
    }
