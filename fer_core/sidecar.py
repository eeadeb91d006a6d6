"""Checkpoint sidecars: `x.ckpt` + `x.json`, so listing and size checks need no mindspore.

A sidecar says what the checkpoint holds and what it should weigh:
    format, arch, params, kind ("weights" | "train_state"), bytes, expected_bytes,
    epoch, step, val_acc, config_hash, config, preprocessing, class_names,
    mindspore_version, run_id, created
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from fer_core import CLASS_NAMES, IMAGE_SIZE, fileio

FORMAT = 1
PREPROCESSING = {"input_size": IMAGE_SIZE, "channels": 1, "scale": "x / 255", "normalise": "(x - 0.5) / 0.5"}
# MindSpore's checkpoint is protobuf: per tensor a name, dims, a dtype tag and the raw bytes.
# Measured on real tiny_cnn / fer_cnn / resnet18_attn files: 22.9 / 24.3 / 24.7 bytes per
# tensor beyond its name and data (the old estimate of 40 was high). ckpt_index.record_bytes
# computes the exact figure; this average is only for a quick guess from counts.
TENSOR_OVERHEAD = 24


def sidecar_path(ckpt: Path | str) -> Path:
    return Path(ckpt).with_suffix(".json")


def expected_bytes(tensors: dict[str, int | tuple[int, ...]]) -> int:
    """File size for float32 tensors {name: shape} (exact) or {name: element count} (±4 B each)."""
    from fer_core.ckpt_index import record_bytes

    total = 0
    for name, value in tensors.items():
        if isinstance(value, int):  # count only: the dims' few bytes are estimated as one dim
            total += record_bytes(name, (value,))
        else:
            total += record_bytes(name, tuple(value))
    return total


def write_sidecar(ckpt: Path | str, info: dict[str, Any]) -> Path:
    ckpt = Path(ckpt)
    record = {
        "format": FORMAT,
        "file": ckpt.name,
        "bytes": ckpt.stat().st_size if ckpt.exists() else None,
        "preprocessing": PREPROCESSING,
        "class_names": list(CLASS_NAMES),
        "created": time.time(),
        **info,
    }
    path = sidecar_path(ckpt)
    fileio.write_json(path, record)
    return path


def read_sidecar(ckpt: Path | str) -> dict[str, Any] | None:
    try:
        data = json.loads(sidecar_path(ckpt).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
