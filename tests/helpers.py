"""Small data the tests make themselves: FER-format CSVs and image folders."""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Callable
from pathlib import Path

import cv2
import pytest
from filelock import FileLock

from fer_core import CLASS_NAMES, fileio
from fer_core.config import TrainConfig
from fer_core.data.synthetic import draw_faces
from fer_core.records import RunStatus
from fer_core.runs import rundir

NOW = 1_790_000_000.0  # a fixed "now" so ages in snapshots never move


def shared_once(tmp_path_factory: pytest.TempPathFactory, name: str, make: Callable[[Path], Path]) -> Path:
    """`make(folder)` run once per test session even under pytest-xdist: the first worker to
    ask builds it under a lock in the session's temporary folder, the others wait and reuse
    it (pytest-xdist's recipe). For expensive things the tests only read: a trained model, the
    compiled kernels."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):  # popen-gwN/..: the session's folder, all workers'
        base = base.parent
    folder, done = base / f"shared-{name}", base / f"shared-{name}.json"
    with FileLock(str(base / f"shared-{name}.lock")):
        if not done.is_file():
            made = make(folder)
            done.write_text(json.dumps({"path": str(made)}))
    return Path(json.loads(done.read_text())["path"])


def status_of(run_dir: Path) -> RunStatus:
    """The run's status; while status.json is missing or unreadable, one that knows nothing."""
    return rundir.read_status(run_dir) or RunStatus()


def fer_rows(per_class: int = 2, seed: int = 0, usage: str = "Training") -> list[str]:
    images, labels = draw_faces(per_class, seed)
    return [f"{label},{' '.join(map(str, image.ravel()))},{usage}" for image, label in zip(images, labels)]


def write_csv(
    path: Path, rows: list[str], header: str = "emotion,pixels,Usage", gz: bool = False, newline: str = "\n"
) -> Path:
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


def metrics_row(epoch: int, val_acc: float, is_best: bool = False, lr: float = 3e-3) -> dict:
    return {
        "epoch": epoch,
        "train_loss": round(2.0 - 0.15 * epoch, 4),
        "train_acc": round(val_acc + 0.04, 4),
        "val_loss": round(2.1 - 0.12 * epoch, 4),
        "val_acc": val_acc,
        "lr": lr,
        "seconds": 10.0,
        "images_per_second": 900.0,
        "is_best": is_best,
        "patience_left": 4,
    }


# PublicTest's faces per class, and how each class fares against the overall accuracy (FER2013's
# shape: happy and surprise easy, fear and disgust hard); a class's misses go mostly to its twin
VAL_FACES = (467, 56, 496, 895, 653, 415, 607)
CLASS_BIAS = (-0.06, -0.12, -0.2, 0.2, -0.08, 0.12, 0.0)
CONFUSED_WITH = (4, 0, 4, 6, 6, 2, 4)  # angry→sad, disgust→angry, fear→sad, happy→neutral, …


def confusion_for(val_acc: float) -> list[list[int]]:
    """A fixed, plausible 7x7 validation confusion matrix for an epoch with `val_acc`."""
    matrix = []
    for k, faces in enumerate(VAL_FACES):
        right = round(faces * min(0.97, max(0.0, val_acc + CLASS_BIAS[k])))
        wrong = faces - right
        twin = round(wrong * 0.6)
        row = [0] * len(VAL_FACES)
        row[k], row[CONFUSED_WITH[k]] = right, twin
        others = [j for j in range(len(VAL_FACES)) if j not in (k, CONFUSED_WITH[k])]
        rest = wrong - twin
        for n, j in enumerate(others):
            row[j] += rest // len(others) + (1 if n < rest % len(others) else 0)
        matrix.append(row)
    return matrix


def make_run(
    root: Path,
    run_id: str,
    *,
    state: str = "finished",
    preset: str = "demo",
    accs: tuple[float, ...] = (0.3, 0.42, 0.5),
    config: dict | None = None,
    pid: int | None = None,
    started: float = NOW - 3600,
    log: str = "",
    per_class: bool = False,
    train_accs: tuple[float, ...] | None = None,
) -> Path:
    """A run directory with fixed content (no clocks): for listings, compare and snapshots."""
    run_dir = root / run_id
    run_dir.mkdir(parents=True)
    cfg = TrainConfig(**{"data_csv": "demo", "arch": "tiny_cnn", "epochs": 8, "lr": 3e-3, **(config or {})})
    fileio.write_toml(run_dir / rundir.CONFIG, cfg.model_dump())
    best = max(accs) if accs else None
    for epoch, acc in enumerate(accs, 1):
        row = metrics_row(epoch, acc, is_best=acc == best, lr=cfg.lr * (1 - epoch / 10))
        if train_accs:
            row["train_acc"] = train_accs[epoch - 1]
        if per_class:  # the confusion matrix validation records since it counts per class
            row["confusion"] = confusion_for(acc)
        fileio.append_line(run_dir / rundir.METRICS, json.dumps(row))
    status = {
        "run_id": run_id,
        "preset": preset,
        "state": state,
        "pid": pid,
        "started": started,
        "updated": started + 600,
        "epoch": len(accs),
        "epochs": cfg.epochs,
        "step": 10,
        "steps": 10,
        "images_per_second": 900.0,
        "eta_seconds": None,
        "best_val_acc": best,
        "best_epoch": accs.index(best) + 1 if accs else None,
        "patience_left": 4,
        "message": "",
        "workers": 1,
    }
    fileio.write_json(run_dir / rundir.STATUS, status)
    (run_dir / rundir.LOG).write_text(
        log or "".join(f"Epoch {e}/{cfg.epochs} - Validation Accuracy: {a:.4f}\n" for e, a in enumerate(accs, 1))
    )
    return run_dir


# what every finished run directory holds (the run-directory contract)
CONTRACT = [
    "config.toml",
    "status.json",
    "metrics.jsonl",
    "train.log",
    "best_model.ckpt",
    "best_model.json",
    "final_model.ckpt",
    "final_model.json",
    "last_state.ckpt",
    "last_state.json",
]
