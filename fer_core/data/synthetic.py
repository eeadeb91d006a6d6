"""Drawn 48×48 faces whose seven expressions differ in mouth, brows and eyes.

Deterministic for a seed, varied in pose, scale, lighting and noise, so a small model has to
learn the expression and not the pixels: the whole product runs with no download.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from fer_core import IMAGE_SIZE, NUM_CLASSES

CANVAS = 96  # drawn at twice the size, then area-downsampled: smooth strokes
INK = 40

Scale = Callable[[float], float]  # face units -> canvas pixels, at this face's scale
# pixel coordinates from the centre, in face widths: the lighting gradient's axes, made once
_YS, _XS = np.mgrid[0:IMAGE_SIZE, 0:IMAGE_SIZE] / IMAGE_SIZE - 0.5


def draw_faces(per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`per_class` faces of each class, shuffled: (N, 48, 48) uint8 and (N,) int64 labels."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(NUM_CLASSES), per_class)
    rng.shuffle(labels)
    images = np.stack([_draw_face(int(label), rng) for label in labels])
    return images, labels.astype(np.int64)


def _draw_face(label: int, rng: np.random.Generator) -> np.ndarray:
    background = int(rng.integers(20, 200))
    canvas: np.ndarray = np.full((CANVAS, CANVAS), background, np.uint8)  # cv2's stubs: any dtype
    skin = int(np.clip(background + rng.choice([-1, 1]) * rng.integers(50, 110), 90, 235))
    cx, cy = 48 + rng.normal(0, 3), 50 + rng.normal(0, 3)
    scale = rng.uniform(0.85, 1.1)
    s = lambda v: v * scale  # noqa: E731 - local shorthand for face-relative sizes

    cv2.ellipse(canvas, _pt(cx, cy), _sz(s(30), s(38)), 0, 0, 360, (skin,), -1, cv2.LINE_AA)
    eye_dx, eye_y = s(13), cy - s(8)
    brow_y = eye_y - s(9)
    mouth_y = cy + s(18)
    ink = int(max(0, skin - rng.integers(110, 170)))

    _eyes(canvas, label, cx, eye_dx, eye_y, s, ink, skin)
    _brows(canvas, label, cx, eye_dx, brow_y, s, ink, rng)
    _mouth(canvas, label, cx, mouth_y, s, ink, rng)
    cv2.line(canvas, _pt(cx, cy - s(2)), _pt(cx - s(2), cy + s(7)), (ink,), 1, cv2.LINE_AA)  # nose

    angle = rng.normal(0, 7)
    matrix: np.ndarray = cv2.getRotationMatrix2D((48, 48), angle, 1.0)
    matrix[:, 2] += rng.normal(0, 2, size=2)
    canvas = cv2.warpAffine(canvas, matrix, (CANVAS, CANVAS), borderMode=cv2.BORDER_REPLICATE)
    face = cv2.resize(canvas, (IMAGE_SIZE, IMAGE_SIZE), interpolation=cv2.INTER_AREA).astype(np.float32)

    # lighting: a random linear gradient, global contrast, then sensor noise
    gx, gy = rng.normal(0, 0.35, size=2)
    face = face * (1 + gx * _XS + gy * _YS) * rng.uniform(0.75, 1.2) + rng.normal(0, 7, face.shape)
    return np.clip(face, 0, 255).astype(np.uint8)


def _pt(x: float, y: float) -> tuple[int, int]:
    return int(round(x)), int(round(y))


def _sz(a: float, b: float) -> tuple[int, int]:
    return max(1, int(round(a))), max(1, int(round(b)))


def _eyes(canvas: np.ndarray, label: int, cx: float, dx: float, y: float, s: Scale, ink: int, skin: int) -> None:
    # fear and surprise: wide open eyes; angry and disgust: narrowed; others: normal
    height = {2: 5.0, 5: 6.0, 0: 1.5, 1: 2.0}.get(label, 3.0)
    for side in (-1, 1):
        centre = _pt(cx + side * dx, y)
        cv2.ellipse(canvas, centre, _sz(s(5.5), s(height)), 0, 0, 360, (ink,), -1, cv2.LINE_AA)
        if height >= 5:
            cv2.ellipse(canvas, centre, _sz(s(3.5), s(height - 2)), 0, 0, 360, (skin,), -1, cv2.LINE_AA)
            cv2.circle(canvas, centre, max(1, int(s(1.8))), (ink,), -1, cv2.LINE_AA)


def _brows(
    canvas: np.ndarray, label: int, cx: float, dx: float, y: float, s: Scale, ink: int, rng: np.random.Generator
) -> None:
    # (inner end dy, outer end dy) in face units; negative is up
    inner, outer = {
        0: (5, -3),  # angry: inner ends pulled down, a V
        1: (3, -1),  # disgust: lowered, one side raised below
        2: (-5, 0),  # fear: inner ends raised
        3: (0, 0),  # happy: relaxed
        4: (-4, 2),  # sad: inner raised, outer dropped
        5: (-7, -6),  # surprise: both high
        6: (0, 0),  # neutral
    }[label]
    jitter = rng.normal(0, 0.7, size=2)
    for side in (-1, 1):
        lift = -6 if (label == 1 and side == 1) else 0  # disgust: asymmetric
        p_in = _pt(cx + side * s(5), y + s(inner + lift + jitter[0]))
        p_out = _pt(cx + side * s(20), y + s(outer + lift + jitter[1]))
        cv2.line(canvas, p_in, p_out, (ink,), max(2, int(s(3))), cv2.LINE_AA)


def _mouth(canvas: np.ndarray, label: int, cx: float, y: float, s: Scale, ink: int, rng: np.random.Generator) -> None:
    width = s(rng.uniform(11, 15))
    thick = max(2, int(s(2.5)))
    if label == 3:  # happy: a wide smile
        cv2.ellipse(canvas, _pt(cx, y - s(4)), _sz(width + s(2), s(9)), 0, 20, 160, (ink,), thick, cv2.LINE_AA)
    elif label == 4:  # sad: a frown
        cv2.ellipse(canvas, _pt(cx, y + s(6)), _sz(width, s(7)), 0, 200, 340, (ink,), thick, cv2.LINE_AA)
    elif label == 5:  # surprise: a big open O
        cv2.ellipse(canvas, _pt(cx, y + s(2)), _sz(s(7), s(10)), 0, 0, 360, (ink,), -1, cv2.LINE_AA)
    elif label == 2:  # fear: stretched, open
        cv2.ellipse(canvas, _pt(cx, y + s(1)), _sz(width, s(4)), 0, 0, 360, (ink,), -1, cv2.LINE_AA)
    elif label == 0:  # angry: short, tight, turned down at the corners
        pts = np.array([_pt(cx - s(9), y + s(3)), _pt(cx - s(6), y), _pt(cx + s(6), y), _pt(cx + s(9), y + s(3))])
        cv2.polylines(canvas, [pts], False, (ink,), thick + 1, cv2.LINE_AA)
    elif label == 1:  # disgust: lopsided, wavy
        pts = np.array(
            [_pt(cx - width, y + s(2)), _pt(cx - s(4), y - s(2)), _pt(cx + s(3), y + s(2)), _pt(cx + width, y - s(5))]
        )
        cv2.polylines(canvas, [pts], False, (ink,), thick, cv2.LINE_AA)
    else:  # neutral: a straight line
        cv2.line(canvas, _pt(cx - width, y), _pt(cx + width, y), (ink,), thick, cv2.LINE_AA)
