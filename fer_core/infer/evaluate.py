"""Evaluation of a checkpoint on a split: accuracy, per-class precision/recall, confusion matrix.

The numbers are the trainer's: same preprocessing, same eval-mode network, same batches, so
`evaluate(best_model.ckpt, data, "PublicTest")` reproduces the val_acc it logged.
`write_report` adds a confusion-matrix PNG (drawn with OpenCV) and a per-class table.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from fer_core import CLASS_NAMES, NUM_CLASSES, fileio
from fer_core.ckpt.sidecar import read_sidecar
from fer_core.errors import DataError

REPORT_FILES = ("confusion_matrix.png", "per_class.csv", "report.json", "report.txt")


@dataclass
class EvalResult:
    ckpt: str
    data: str
    split: str
    tta: str | None
    arch: str
    confusion: np.ndarray  # (7, 7) counts, rows true class, columns predicted

    @property
    def total(self) -> int:
        return int(self.confusion.sum())

    @property
    def accuracy(self) -> float:
        return float(np.trace(self.confusion) / max(1, self.total))

    @property
    def support(self) -> np.ndarray:
        return self.confusion.sum(1)

    @property
    def precision(self) -> np.ndarray:
        predicted = self.confusion.sum(0)
        return np.divide(np.diag(self.confusion), predicted, out=np.zeros(NUM_CLASSES), where=predicted > 0)

    @property
    def recall(self) -> np.ndarray:
        return np.divide(np.diag(self.confusion), self.support, out=np.zeros(NUM_CLASSES), where=self.support > 0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ckpt": self.ckpt,
            "data": self.data,
            "split": self.split,
            "tta": self.tta,
            "arch": self.arch,
            "total": self.total,
            "accuracy": self.accuracy,
            "per_class": {
                name: {"precision": float(p), "recall": float(r), "support": int(s)}
                for name, p, r, s in zip(CLASS_NAMES, self.precision, self.recall, self.support)
            },
            "confusion": self.confusion.tolist(),
        }

    def lines(self) -> list[str]:
        """The text report `fer-tui eval` prints."""
        out = [
            f"{Path(self.ckpt).name} ({self.arch}) on {self.data} {self.split}: {self.total} faces, "
            f"{'TTA ' + self.tta if self.tta else 'no TTA'}",
            f"Accuracy: {self.accuracy:.4f}",
            "",
            f"{'class':<10}{'precision':>10}{'recall':>8}{'support':>9}",
        ]
        for name, p, r, s in zip(CLASS_NAMES, self.precision, self.recall, self.support):
            out.append(f"{name:<10}{p:>10.4f}{r:>8.4f}{s:>9}")
        out += [
            "",
            "Confusion matrix (rows: true class, columns: predicted)",
            " " * 10 + "".join(f"{n:>9}" for n in CLASS_NAMES),  # "surprise" whole, a space before
        ]
        for name, row in zip(CLASS_NAMES, self.confusion):
            out.append(f"{name:<10}" + "".join(f"{v:>9}" for v in row))
        return out


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    return np.bincount(labels * NUM_CLASSES + predicted, minlength=NUM_CLASSES**2).reshape(NUM_CLASSES, NUM_CLASSES)


def evaluate(
    ckpt: Path | str,
    data: str,
    split: str = "PublicTest",
    tta: str | None = "auto",
    batch_size: int | None = None,
    arch: str | None = None,
    device_target: str = "CPU",
    backend: str = "auto",
) -> EvalResult:
    from fer_core.data.dataset import load_dataset
    from fer_core.infer.predictor import Predictor

    faces = load_dataset(data).split(split)  # bad data fails before MindSpore loads
    side = read_sidecar(ckpt)
    # the trainer's batch size by default: same batches, same numbers
    trained = ((side.config if side is not None else None) or {}).get("batch_size")
    batch = batch_size or (trained if isinstance(trained, int) and trained > 0 else 64)
    predictor = Predictor(
        ckpt, arch=arch, device_target=device_target, batch_size=min(batch, len(faces)), backend=backend
    )
    tta = predictor.resolve_tta(tta)  # the report names the views really used
    probs = predictor.predict(faces.images, tta=tta)
    return EvalResult(str(ckpt), str(data), split, tta, predictor.arch, confusion_matrix(faces.labels, probs.argmax(1)))


# ---------------------------------------------------------------- the report folder


def check_report_dir(folder: Path, force: bool = False) -> None:
    """Refuse to overwrite an earlier report unless asked to."""
    if folder.exists() and not folder.is_dir():
        raise DataError(f"{folder}: exists and is not a folder")
    clash = [name for name in REPORT_FILES if (folder / name).exists()]
    if clash and not force:
        raise DataError(f"{folder / clash[0]}: already exists; choose another --report folder or add --force")


def write_report(result: EvalResult, folder: Path | str, force: bool = False) -> list[Path]:
    import json

    import cv2

    folder = Path(folder)
    check_report_dir(folder, force)
    folder.mkdir(parents=True, exist_ok=True)
    image = draw_confusion(result)
    png = folder / "confusion_matrix.png"
    with fileio.atomic_path(png, suffix=".png") as tmp:
        if not cv2.imwrite(str(tmp), image):
            raise DataError(f"{png}: cannot write the image")
    table = io.StringIO()
    writer = csv.writer(table)
    writer.writerow(["class", "precision", "recall", "support"])
    for name, p, r, s in zip(CLASS_NAMES, result.precision, result.recall, result.support):
        writer.writerow([name, f"{p:.4f}", f"{r:.4f}", int(s)])
    writer.writerow(["all (accuracy)", "", f"{result.accuracy:.4f}", result.total])
    fileio.write_text(folder / "per_class.csv", table.getvalue())
    fileio.write_text(folder / "report.json", json.dumps(result.to_dict(), indent=2) + "\n")
    fileio.write_text(folder / "report.txt", "\n".join(result.lines()) + "\n")
    return [folder / name for name in REPORT_FILES]


def draw_confusion(result: EvalResult, cell: int = 72) -> np.ndarray:
    """A row-normalised confusion matrix as a BGR image: counts and row shares in each cell."""
    import cv2

    left, top = 110, 90
    size = cell * NUM_CLASSES
    image = np.full((top + size + 60, left + size + 20, 3), 255, np.uint8)
    rows = result.confusion / np.maximum(1, result.confusion.sum(1, keepdims=True))
    shades = cv2.applyColorMap((255 - rows * 255).astype(np.uint8), cv2.COLORMAP_BONE)
    font = cv2.FONT_HERSHEY_SIMPLEX
    cv2.putText(
        image,
        f"{Path(result.ckpt).name} on {result.split}: accuracy {result.accuracy:.4f}",
        (10, 24),
        font,
        0.5,
        (0, 0, 0),
        1,
        cv2.LINE_AA,
    )
    cv2.putText(image, "predicted", (left + size // 2 - 35, top - 40), font, 0.45, (80, 80, 80), 1, cv2.LINE_AA)
    cv2.putText(image, "true", (10, top - 10), font, 0.45, (80, 80, 80), 1, cv2.LINE_AA)
    for i, name in enumerate(CLASS_NAMES):
        cv2.putText(image, name[:8], (left + i * cell + 6, top - 12), font, 0.42, (0, 0, 0), 1, cv2.LINE_AA)
        cv2.putText(image, name[:9], (10, top + i * cell + cell // 2 + 5), font, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
        for j in range(NUM_CLASSES):
            x, y = left + j * cell, top + i * cell
            colour = tuple(int(c) for c in shades[i, j])
            cv2.rectangle(image, (x, y), (x + cell - 1, y + cell - 1), colour, -1)
            ink = (255, 255, 255) if rows[i, j] > 0.5 else (0, 0, 0)
            cv2.putText(image, str(int(result.confusion[i, j])), (x + 8, y + 30), font, 0.55, ink, 1, cv2.LINE_AA)
            cv2.putText(image, f"{rows[i, j]:.0%}", (x + 8, y + 54), font, 0.4, ink, 1, cv2.LINE_AA)
        cv2.rectangle(
            image,
            (left + i * cell, top + i * cell),
            (left + (i + 1) * cell - 1, top + (i + 1) * cell - 1),
            (0, 160, 0),
            2,
        )
    return image
