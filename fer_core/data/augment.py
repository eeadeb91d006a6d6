"""Batch augmentation in numpy, vectorised over the batch: no per-image Python in the hot path.

Two policies. `crop_flip`: a random 48×48 crop of the face padded by 4 pixels, mirrored half
the time (light: what the full-resolution CPU nets train best with). `full`: one random
affine per image (rotation, scale, shift, flip) applied with a single bilinear gather, then
brightness/contrast jitter and random erasing (heavy: for nets that overfit).
"""

from __future__ import annotations

import numpy as np

MEAN, STD = 0.5, 0.5  # images are scaled to [0, 1], then normalised to [-1, 1]


def normalise(images: np.ndarray) -> np.ndarray:
    """uint8 or [0,1] float (B, H, W) -> float32 (B, 1, H, W) as the models expect."""
    x = images.astype(np.float32)
    if images.dtype == np.uint8:
        x *= 1.0 / 255.0
    return ((x - MEAN) / STD)[:, None, :, :]


def random_affine(
    images: np.ndarray,
    rng: np.random.Generator,
    max_rotate: float = 10.0,
    max_scale: float = 0.1,
    max_shift: float = 0.1,
    flip: bool = True,
) -> np.ndarray:
    """(B, H, W) uint8 -> (B, H, W) float32 in [0, 1], each image under its own random affine."""
    batch, height, width = images.shape
    angle = np.deg2rad(rng.uniform(-max_rotate, max_rotate, batch))
    scale = rng.uniform(1 - max_scale, 1 + max_scale, batch)
    shift = rng.uniform(-max_shift, max_shift, (batch, 2)) * (width, height)
    mirror = np.where(rng.random(batch) < 0.5, -1.0, 1.0) if flip else np.ones(batch)

    # inverse map: for every output pixel, where in the source it comes from
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    cx, cy = (width - 1) / 2, (height - 1) / 2
    u = (xs.ravel() - cx)[None, :] - shift[:, :1]
    v = (ys.ravel() - cy)[None, :] - shift[:, 1:]
    cos, sin = (np.cos(angle) / scale)[:, None], (np.sin(angle) / scale)[:, None]
    src_x = (cos * u + sin * v) * mirror[:, None] + cx
    src_y = (-sin * u + cos * v) + cy
    return bilinear(images, src_x, src_y).reshape(batch, height, width)


def bilinear(images: np.ndarray, src_x: np.ndarray, src_y: np.ndarray) -> np.ndarray:
    """Sample (B, H, W) images at (B, P) float coordinates, edges replicated."""
    batch, height, width = images.shape
    flat = images.reshape(batch, -1).astype(np.float32) * (1.0 / 255.0)
    src_x = np.clip(src_x, 0, width - 1)
    src_y = np.clip(src_y, 0, height - 1)
    x0 = np.minimum(np.floor(src_x).astype(np.int32), width - 2)
    y0 = np.minimum(np.floor(src_y).astype(np.int32), height - 2)
    fx, fy = src_x - x0, src_y - y0
    base = y0 * width + x0
    top = np.take_along_axis(flat, base, 1) * (1 - fx) + np.take_along_axis(flat, base + 1, 1) * fx
    bottom = np.take_along_axis(flat, base + width, 1) * (1 - fx) + np.take_along_axis(flat, base + width + 1, 1) * fx
    return (top * (1 - fy) + bottom * fy).astype(np.float32)


def jitter(x: np.ndarray, rng: np.random.Generator, brightness: float = 0.2, contrast: float = 0.2) -> np.ndarray:
    """Per-image brightness shift and contrast scale around the image mean, in [0, 1]."""
    batch = x.shape[0]
    mean = x.mean(axis=(1, 2), keepdims=True)
    c = rng.uniform(1 - contrast, 1 + contrast, (batch, 1, 1)).astype(np.float32)
    b = rng.uniform(-brightness, brightness, (batch, 1, 1)).astype(np.float32)
    return np.clip((x - mean) * c + mean + b, 0.0, 1.0)


def random_erase(
    x: np.ndarray, rng: np.random.Generator, p: float = 0.25, area: tuple[float, float] = (0.02, 0.15)
) -> np.ndarray:
    """Blank a random rectangle (random grey) in a share `p` of the images."""
    batch, height, width = x.shape
    share = rng.uniform(*area, batch) * height * width
    aspect = np.exp(rng.uniform(np.log(0.3), np.log(3.3), batch))
    h = np.clip(np.sqrt(share * aspect), 1, height).astype(np.int32)
    w = np.clip(np.sqrt(share / aspect), 1, width).astype(np.int32)
    top = (rng.random(batch) * (height - h + 1)).astype(np.int32)
    left = (rng.random(batch) * (width - w + 1)).astype(np.int32)
    ys = np.arange(height)[None, :, None]
    xs = np.arange(width)[None, None, :]
    inside = (
        (ys >= top[:, None, None])
        & (ys < (top + h)[:, None, None])
        & (xs >= left[:, None, None])
        & (xs < (left + w)[:, None, None])
    )
    inside &= (rng.random(batch) < p)[:, None, None]
    fill = rng.random((batch, 1, 1)).astype(np.float32)
    return np.where(inside, fill, x)


def crop_flip(images: np.ndarray, rng: np.random.Generator, pad: int = 4) -> np.ndarray:
    """(B, H, W) -> (B, H, W): a random H×W window of each image zero-padded by `pad`, mirrored
    with probability 1/2."""
    batch, height, width = images.shape
    padded = np.pad(images, ((0, 0), (pad, pad), (pad, pad)))
    top = rng.integers(0, 2 * pad + 1, batch)
    left = rng.integers(0, 2 * pad + 1, batch)
    cols = left[:, None] + np.arange(width)[None, :]
    cols = np.where((rng.random(batch) < 0.5)[:, None], cols[:, ::-1], cols)
    rows = top[:, None] + np.arange(height)[None, :]
    return padded[np.arange(batch)[:, None, None], rows[:, :, None], cols[:, None, :]]


POLICIES = ("crop_flip", "full")


def augment_batch(images: np.ndarray, rng: np.random.Generator, policy: str = "full") -> np.ndarray:
    """Training augmentation of one policy: uint8 (B, H, W) -> normalised float32 (B, 1, H, W)."""
    if policy == "crop_flip":
        return normalise(crop_flip(images, rng))
    x = random_affine(images, rng)
    x = jitter(x, rng)
    x = random_erase(x, rng)
    return normalise(x)


def soft_targets(labels: np.ndarray, num_classes: int, smoothing: float) -> np.ndarray:
    """One-hot labels with `smoothing` spread evenly over all classes."""
    targets = np.full((len(labels), num_classes), smoothing / num_classes, np.float32)
    targets[np.arange(len(labels)), labels] += 1.0 - smoothing
    return targets


def mixup(x: np.ndarray, targets: np.ndarray, rng: np.random.Generator, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Mix each image and its (already smoothed) target with a shuffled partner."""
    lam = np.float32(rng.beta(alpha, alpha))
    lam = max(lam, 1 - lam)  # keep the original image dominant so train accuracy stays meaningful
    order = rng.permutation(len(x))
    return lam * x + (1 - lam) * x[order], lam * targets + (1 - lam) * targets[order]
