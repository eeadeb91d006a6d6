"""Predictions drawn on pictures: face boxes, labels and probability bars, written to files.

No GUI window is ever opened (fer-tui is used over SSH): an image becomes an annotated
image, a video or a webcam stream an annotated mp4 (OpenCV's VideoWriter, `mp4v`).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from fer_core import CLASS_NAMES, fileio, locations
from fer_core.data.dataset import class_index
from fer_core.errors import DataError

if TYPE_CHECKING:
    import cv2

    from fer_core.infer.predictor import Predictor

FACE_BATCH = 8  # faces per forward pass in a frame: one compiled shape
FONT = 0  # cv2.FONT_HERSHEY_SIMPLEX
GREEN, WHITE, GREY, BLACK = (60, 200, 60), (255, 255, 255), (90, 90, 90), (0, 0, 0)


def draw_bars(
    image: np.ndarray,
    probs: np.ndarray,
    origin: tuple[int, int],
    width: int = 150,
    row: int = 16,
    highlight: int | None = None,
) -> None:
    """Seven labelled probability bars, in place, with a dark backing so they read on any frame."""
    import cv2

    x, y = origin
    label_w = 62
    cv2.rectangle(image, (x - 4, y - 4), (x + label_w + width + 48, y + row * len(CLASS_NAMES) + 2), BLACK, -1)
    best = int(np.argmax(probs)) if highlight is None else highlight
    for i, (name, p) in enumerate(zip(CLASS_NAMES, probs)):
        top = y + i * row
        colour = GREEN if i == best else GREY
        cv2.putText(image, name, (x, top + row - 5), FONT, 0.4, WHITE, 1, cv2.LINE_AA)
        cv2.rectangle(image, (x + label_w, top + 2), (x + label_w + int(width * float(p)), top + row - 3), colour, -1)
        cv2.putText(image, f"{p:.0%}", (x + label_w + width + 4, top + row - 5), FONT, 0.4, WHITE, 1, cv2.LINE_AA)


BARS_W, BARS_H = 62 + 150 + 48, 16 * len(CLASS_NAMES) + 6


def bars_origin(shape: tuple[int, ...], box: tuple[int, int, int, int]) -> tuple[int, int]:
    """Where the bars panel goes: beside the face if it fits (right, left, below), else a corner."""
    height, width = shape[:2]
    x, y, w, h = box
    for px, py in ((x + w + 10, y), (x - BARS_W - 6, y), (x, y + h + 10)):
        if px >= 4 and py >= 4 and px + BARS_W <= width and py + BARS_H <= height:
            return px, py
    return 8, 8


def annotate_face(face: np.ndarray, probs: np.ndarray, true: int | None = None, scale: int = 3) -> np.ndarray:
    """A 48×48 face enlarged, with its prediction and bars beside it (BGR)."""
    import cv2

    big = cv2.resize(face, (face.shape[1] * scale, face.shape[0] * scale), interpolation=cv2.INTER_NEAREST)
    panel = np.zeros((max(big.shape[0], 150), big.shape[1] + 290, 3), np.uint8)
    panel[: big.shape[0], : big.shape[1]] = cv2.cvtColor(big, cv2.COLOR_GRAY2BGR)
    best = int(np.argmax(probs))
    title = f"{CLASS_NAMES[best]} {probs[best]:.0%}" + (f" (true: {CLASS_NAMES[true]})" if true is not None else "")
    cv2.putText(panel, title, (big.shape[1] + 10, 16), FONT, 0.45, WHITE, 1, cv2.LINE_AA)
    draw_bars(panel, probs, (big.shape[1] + 12, 28))
    return panel


def annotate_frame(
    frame: np.ndarray, predictor: Predictor, fallback: bool = False, tta: str | None = "auto"
) -> tuple[np.ndarray, list[dict]]:
    """Boxes, labels and bars for every face in a BGR frame. With `fallback`, a frame where the
    cascade finds no face is classified as its centre square (and labelled so)."""
    import cv2

    from fer_core.infer.faces import Face, detect_faces, find_faces, to_face

    gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 else frame
    out = frame.copy() if frame.ndim == 3 else cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    if fallback:
        faces, note = find_faces(gray, all_faces=True)
    else:
        faces = [Face(to_face(gray, box), box) for box in detect_faces(gray)]
        note = f"{len(faces)} faces" if faces else "no face found"
    if not faces:
        cv2.putText(out, note, (8, 20), FONT, 0.5, (0, 0, 255), 1, cv2.LINE_AA)
        return out, []
    probs = predictor.predict(np.stack([f.image for f in faces]), tta=tta, batch_size=FACE_BATCH)
    detections = []
    thickness = max(1, min(out.shape[:2]) // 200)
    for face, p in zip(faces, probs):
        x, y, w, h = face.box
        best = int(np.argmax(p))
        cv2.rectangle(out, (x, y), (x + w, y + h), GREEN, thickness)
        label = f"{CLASS_NAMES[best]} {p[best]:.0%}"
        cv2.putText(out, label, (x, max(14, y - 6)), FONT, 0.5, GREEN, 1, cv2.LINE_AA)
        detections.append({"box": [int(v) for v in face.box], "pred": best, "probs": [float(v) for v in p]})
    draw_bars(out, probs[0], bars_origin(out.shape, faces[0].box))  # the largest face's bars
    if fallback and "centre square" in note:
        cv2.putText(
            out, "no face detected: centre square", (8, out.shape[0] - 8), FONT, 0.45, (0, 200, 255), 1, cv2.LINE_AA
        )
    return out, detections


def default_output(input_path: Path, suffix: str) -> tuple[Path, str]:
    """Where an annotated file goes without --output, and why when not beside the input:
    `INPUT_annotated.png` beside it, except that fer-tui's shipped data (site-packages in a
    wheel) is never written and a class folder (`happy/`, as `eval`, `infer` and the sample
    sets read them) would take the annotated picture for one more face: then the current folder."""
    name = f"{input_path.stem}_annotated{suffix}"
    folder = input_path.absolute().parent
    shipped = locations.in_shipped_data(folder)
    if shipped:
        why = f"{input_path.name} is in fer-tui's shipped {shipped}, which it never writes"
    elif class_index(folder.name) is not None:
        why = f"{input_path.name} is in the class folder {folder.name}/, where an annotated picture would be read as one more face"
    else:
        return input_path.with_name(name), ""
    here = Path.cwd()
    if locations.in_shipped_data(here) or class_index(here.name) is not None:
        raise DataError(f"{input_path}: {why}, and so is the current folder; choose where with --output")
    return Path(name), why


def refuse_shipped(path: Path) -> None:
    """An --output inside fer-tui's shipped data is refused: that folder is package data."""
    shipped = locations.in_shipped_data(path.absolute().parent)
    if shipped:
        raise DataError(
            f"--output {path}: inside fer-tui's shipped {shipped}, which it never writes; choose another place"
        )


def refuse_overwrite(path: Path, force: bool) -> None:
    if path.exists() and not force:
        raise DataError(f"{path}: already exists; choose another --output or add --force")


VIDEO_OUTPUTS = (".mp4", ".m4v", ".mov", ".avi", ".mkv")  # containers that take mp4v


def check_output_kind(path: Path, video: bool) -> None:
    """An --output whose extension OpenCV cannot write is one line before any work."""
    import cv2

    if video:
        if path.suffix.lower() not in VIDEO_OUTPUTS:
            raise DataError(
                f"{path}: cannot write a video with the extension '{path.suffix}'; use one of {', '.join(VIDEO_OUTPUTS)}"
            )
    elif not path.suffix or not cv2.haveImageWriter(str(path)):
        raise DataError(
            f"{path}: cannot write an image with the extension '{path.suffix}'; use .png or .jpg (or another OpenCV writes)"
        )


def image(
    predictor: Predictor, frame: np.ndarray, output: Path, force: bool = False, tta: str | None = "auto"
) -> list[dict]:
    """Annotate one decoded BGR image (imagefile.read_image) and write it to `output`."""
    import cv2

    refuse_overwrite(output, force)
    annotated, detections = annotate_frame(frame, predictor, fallback=True, tta=tta)
    with fileio.atomic_path(output, suffix=output.suffix or ".png") as tmp:
        if not cv2.imwrite(str(tmp), annotated):
            raise DataError(f"{output}: cannot write an image with this extension")
    return detections


def video(
    predictor: Predictor,
    capture: cv2.VideoCapture,
    output: Path,
    source: str,
    force: bool = False,
    max_frames: int | None = None,
    tta: str | None = "auto",
) -> dict:
    """Annotate every frame of an opened cv2.VideoCapture into an mp4 at `output`."""
    import cv2

    refuse_overwrite(output, force)
    ok, frame = capture.read()
    if not ok:
        raise DataError(f"{source}: no frames could be read")
    fps = capture.get(cv2.CAP_PROP_FPS)
    fps = fps if 0 < fps < 1000 else 25.0  # webcams and some files report 0
    height, width = frame.shape[:2]
    frames = faces = 0
    started = time.time()
    with fileio.atomic_path(output, suffix=output.suffix or ".mp4") as tmp:
        writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter.fourcc(*"mp4v"), fps, (width, height))
        if not writer.isOpened():
            raise DataError(f"{output}: OpenCV cannot write an mp4v video there")
        try:
            while ok:
                annotated, detections = annotate_frame(frame, predictor, tta=tta)
                writer.write(annotated)
                frames += 1
                faces += len(detections)
                if sys.stderr.isatty():
                    print(
                        f"\r{frames} frames, {faces} faces, {frames / (time.time() - started):.1f} fps",
                        end="",
                        file=sys.stderr,
                        flush=True,
                    )
                if max_frames and frames >= max_frames:
                    break
                ok, frame = capture.read()
        except KeyboardInterrupt:  # webcam: ctrl+c ends the recording, the file is kept
            pass
        finally:
            writer.release()
            capture.release()
            if sys.stderr.isatty():
                print(file=sys.stderr)
    return {"frames": frames, "faces": faces, "fps": fps, "size": [width, height]}


def open_video(path: Path) -> cv2.VideoCapture:
    import cv2

    if not path.is_file():
        raise DataError(f"{path}: no such video file")
    # FFmpeg prints its own complaint ("moov atom not found") before our one line; quiet it
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise DataError(f"{path}: not a video OpenCV can read")
    return capture


def open_camera(index: int) -> cv2.VideoCapture:
    import cv2

    previous = cv2.getLogLevel()
    cv2.setLogLevel(0)  # silent: our one line instead of OpenCV's WARN/ERROR lines
    try:
        capture = cv2.VideoCapture(index)
    finally:
        cv2.setLogLevel(previous)
    if not capture.isOpened():
        capture.release()
        raise DataError(f"camera {index}: cannot open it (no camera on this machine, or it is busy)")
    return capture
