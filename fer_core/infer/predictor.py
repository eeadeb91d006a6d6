"""Inference: a `Predictor` that loads any .ckpt and returns class probabilities, plus faces.

    predictor = Predictor("best_model.ckpt")           # arch from the sidecar or the weights
    probs = predictor.predict(images_uint8_48x48)        # (N, 7), rows sum to 1
    probs = predictor.predict(images, tta="flip")        # mean with the mirrored face
    probs = predictor.predict(images, tta=None)          # one view; the default (AUTO) is the
                                                         # TTA the checkpoint's run validated with
    faces, note = find_faces(photo_gray)                 # Haar cascade, or the centre square

The prediction path is the trainer's: `augment.normalise`, net in eval mode, a jit-compiled
softmax, fixed-size batches with the last one padded so the graph compiles once.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from fer_core import IMAGE_SIZE, NUM_CLASSES
from fer_core.ckpt.sidecar import read_sidecar
from fer_core.data import augment

TTA_MODES = (None, "flip", "ten_crop")
AUTO = "auto"  # the TTA the checkpoint's run validated with (its config's `tta`), so the accuracy
# a run logged is what eval, infer and the dashboard give by default
TTA_CHOICES = ("auto", "none", "flip", "ten_crop")  # as flags say them
CROP = 44  # ten-crop: corners + centre of 44×44 and mirrors, resized to 48×48: a 1.09 zoom and
# 4-pixel shifts, inside what --augment trains on (scale ±10 %, shift ±10 %); a model trained
# without augmentation has never seen such views, and ten-crop can make it worse


class Predictor:
    """A network loaded from a checkpoint, ready to classify 48×48 uint8 faces."""

    def __init__(
        self,
        ckpt: Path | str,
        arch: str | None = None,
        device_target: str = "CPU",
        batch_size: int = 64,
        backend: str = "auto",
    ):
        from fer_core.ckpt.arch import check_checkpoint
        from fer_core.infer.backends import choose_backend, make_runner

        self.batch_size = max(1, int(batch_size))
        self.path, self.arch = check_checkpoint(Path(ckpt), arch)
        side = read_sidecar(self.path)
        self.trained_tta = side.trained_tta if side is not None else None
        chosen = choose_backend(backend, device_target)
        self._runner = make_runner(chosen, self.path, self.arch, device_target, fallback=backend == "auto")

    @property
    def backend(self) -> str:
        """What runs the network, "onnx" or "mindspore" (after any fallback)."""
        return self._runner.name

    def resolve_tta(self, tta: str | None) -> str | None:
        """AUTO -> the checkpoint's own TTA; a flag's "none" -> None."""
        if tta == AUTO:
            return self.trained_tta
        return None if tta == "none" else tta

    def predict(self, images: np.ndarray, tta: str | None = AUTO, batch_size: int | None = None) -> np.ndarray:
        """uint8 (N, 48, 48) -> float32 probabilities (N, 7)."""
        tta = self.resolve_tta(tta)
        if tta not in TTA_MODES:
            raise ValueError(f"tta must be one of {TTA_MODES}, got {tta!r}")
        images = np.asarray(images)
        if images.ndim == 2:
            images = images[None]
        if len(images) == 0:
            return np.zeros((0, NUM_CLASSES), np.float32)
        views = _views(images, tta)
        probs = [self._probs(view, batch_size or self.batch_size) for view in views]
        return np.mean(probs, axis=0).astype(np.float32)

    def _probs(self, images: np.ndarray, batch: int) -> np.ndarray:
        return predict_batches(self._runner, images, batch)


def predict_batches(run: Callable[[np.ndarray], np.ndarray], images: np.ndarray, batch: int) -> np.ndarray:
    """`run` (normalised (batch, 1, 48, 48) -> probabilities) over uint8 faces in fixed-size
    batches, the last one padded, so a compiled graph or an export never sees a new shape.
    The trainer's validation and every Predictor go through here: they agree by construction."""
    out = []
    for start in range(0, len(images), batch):
        chunk = images[start : start + batch]
        pad = batch - len(chunk)
        if pad:
            chunk = np.concatenate([chunk, np.repeat(chunk[-1:], pad, 0)])
        out.append(run(np.ascontiguousarray(augment.normalise(chunk)))[: len(chunk) - pad])
    return np.concatenate(out) if out else np.zeros((0, NUM_CLASSES), np.float32)


def _views(images: np.ndarray, tta: str | None) -> list[np.ndarray]:
    if tta is None:
        return [images]
    if tta == "flip":
        return [images, np.ascontiguousarray(images[..., ::-1])]
    import cv2

    offset = IMAGE_SIZE - CROP
    corners = [(0, 0), (0, offset), (offset, 0), (offset, offset), (offset // 2, offset // 2)]
    views = []
    for top, left in corners:
        crops = images[:, top : top + CROP, left : left + CROP]
        resized = np.stack([cv2.resize(c, (IMAGE_SIZE, IMAGE_SIZE), interpolation=cv2.INTER_LINEAR) for c in crops])
        views += [resized, np.ascontiguousarray(resized[..., ::-1])]
    return views


def top_class(probs: np.ndarray) -> tuple[int, float]:
    best = int(np.argmax(probs))
    return best, float(probs[best])
