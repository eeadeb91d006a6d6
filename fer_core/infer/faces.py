"""Faces in photos: OpenCV's Haar cascade, or the centre square when it finds none."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from fer_core import IMAGE_SIZE
from fer_core.errors import DataError

CASCADE = "haarcascade_frontalface_default.xml"


@dataclass
class Face:
    image: np.ndarray  # 48×48 uint8
    box: tuple[int, int, int, int]  # x, y, w, h in the source image


_cascade: Any = None  # cv2.CascadeClassifier, loaded on first use


def detect_faces(gray: np.ndarray, min_size: int = 30) -> list[tuple[int, int, int, int]]:
    """Face boxes (x, y, w, h) from OpenCV's bundled Haar cascade, largest first."""
    import cv2

    global _cascade
    if _cascade is None:
        cascade = cv2.data.haarcascades + CASCADE  # type: ignore[attr-defined]  # cv2.data: not in its stubs
        _cascade = cv2.CascadeClassifier(cascade)
        if _cascade.empty():
            raise DataError(f"{cascade}: Haar cascade missing from OpenCV")
    boxes = _cascade.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5, minSize=(min_size, min_size))
    found = [(int(x), int(y), int(w), int(h)) for x, y, w, h in boxes]
    return sorted(found, key=lambda b: -b[2] * b[3])


def to_face(gray: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    import cv2

    x, y, w, h = box
    crop = gray[y : y + h, x : x + w]
    if crop.shape == (IMAGE_SIZE, IMAGE_SIZE):
        return np.ascontiguousarray(crop)
    return cv2.resize(crop, (IMAGE_SIZE, IMAGE_SIZE), interpolation=cv2.INTER_AREA)


def is_crop(gray: np.ndarray) -> bool:
    """A face crop already (FER's 48×48, or a small square), not a photo to search."""
    h, w = gray.shape[:2]
    return (h, w) == (IMAGE_SIZE, IMAGE_SIZE) or (h == w and h <= 2 * IMAGE_SIZE)


def find_faces(gray: np.ndarray, all_faces: bool = False) -> tuple[list[Face], str]:
    """The face(s) to classify in a grayscale image, and how they were found.

    A crop is used whole; a photo goes through the Haar cascade; when the cascade finds
    nothing (drawn faces, odd angles) the centre square is used and the note says so.
    """
    h, w = gray.shape[:2]
    if is_crop(gray):
        return [Face(to_face(gray, (0, 0, w, h)), (0, 0, w, h))], f"{w}x{h} face crop"
    boxes = detect_faces(gray)  # one finder, one setting: infer and visualize see the same faces
    if boxes:
        found = f"{len(boxes)} face{'s' if len(boxes) > 1 else ''} found by the Haar cascade"
        if len(boxes) > 1 and not all_faces:  # say how many there are, not how many are classified
            found += "; the largest is classified (visualize annotates every one)"
        chosen = boxes if all_faces else boxes[:1]
        return [Face(to_face(gray, b), b) for b in chosen], found
    side = min(h, w)
    box = ((w - side) // 2, (h - side) // 2, side, side)
    return [Face(to_face(gray, box), box)], f"no face found by the Haar cascade in {w}x{h}; using the centre square"
