"""Small data the tests make themselves: FER-format CSVs and image folders."""

from __future__ import annotations

import gzip
from pathlib import Path

import cv2
import numpy as np

from fer_core import CLASS_NAMES
from fer_core.synthetic import draw_faces


def fer_rows(per_class: int = 2, seed: int = 0, usage: str = "Training") -> list[str]:
    images, labels = draw_faces(per_class, seed)
    return [f"{label},{' '.join(map(str, image.ravel()))},{usage}" for image, label in zip(images, labels)]


def write_csv(path: Path, rows: list[str], header: str = "emotion,pixels,Usage", gz: bool = False,
              newline: str = "\n") -> Path:
    text = newline.join([header, *rows]) + newline
    if gz:
        with gzip.open(path, "wt") as handle:
            handle.write(text)
    else:
        path.write_bytes(text.encode())
    return path


def small_csv(path: Path, train_per_class: int = 3, val_per_class: int = 1, gz: bool = False) -> Path:
    rows = fer_rows(train_per_class, 1, "Training") + fer_rows(val_per_class, 2, "PublicTest")
    return write_csv(path, rows, gz=gz)


def image_folder(root: Path, per_class: int = 2, split: str | None = "train", by_index: bool = False) -> Path:
    images, labels = draw_faces(per_class, 3)
    for n, (image, label) in enumerate(zip(images, labels)):
        name = str(label) if by_index else CLASS_NAMES[label]
        folder = (root / split / name) if split else (root / name)
        folder.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(folder / f"face_{n}.png"), image)
    return root
