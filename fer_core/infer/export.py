"""A checkpoint as a file to deploy: ONNX (for ONNX Runtime) or MINDIR (for MindSpore Lite).

The exported graph is the network in eval mode followed by a softmax: it takes normalised
faces (N, 1, 48, 48) float32 and gives class probabilities (N, 7). Its sidecar (`<file>.json`)
says the input shape, the preprocessing and the class names, so a deployment needs nothing
else. Exports for fer-tui's own inference are cached by the checkpoint's bytes
(`cached_onnx`), so a changed checkpoint never meets a stale export.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from fer_core import CLASS_NAMES, IMAGE_SIZE, fileio, locations
from fer_core.ckpt.sidecar import PREPROCESSING
from fer_core.errors import CheckpointError

FORMATS = {"ONNX": ".onnx", "MINDIR": ".mindir"}
CACHE_KEEP = 32  # cached exports kept (newest first); each is about the checkpoint's size


def default_output(ckpt: Path, suffix: str) -> Path:
    """Where an export goes without --output: beside the checkpoint, except for a shipped one:
    package data (site-packages in a wheel install) is never written, so its export goes to the
    current folder, named after it."""
    if ckpt.resolve().is_relative_to(locations.shipped_data("shipped")):
        return Path(f"{ckpt.parent.name}-{ckpt.stem}{suffix}")
    return ckpt.with_suffix(suffix)


def export(ckpt: Path | str, output: Path | str, file_format: str, arch: str, batch: int = 1) -> Path:
    """Write `output` (atomically) and its sidecar; MindSpore builds the graph. `arch` as
    `ckpt.arch.check_checkpoint` returned it."""
    from fer_core.ckpt.io import load_network

    file_format = file_format.upper()
    if file_format not in FORMATS:
        raise CheckpointError(f"--format must be one of {', '.join(FORMATS)}, got {file_format}")
    output = Path(output)
    net = load_network(Path(ckpt), arch)
    _write_graph(net, output, file_format, batch)
    fileio.write_json(
        output.with_name(output.name + ".json"),
        {
            "format": file_format,
            "file": output.name,
            "arch": arch,
            "source": str(ckpt),
            "source_sha256": file_digest(ckpt),
            "input": {"name": "x", "shape": [batch, 1, IMAGE_SIZE, IMAGE_SIZE], "dtype": "float32"},
            "output": {"shape": [batch, len(CLASS_NAMES)], "meaning": "class probabilities (softmax)"},
            "preprocessing": PREPROCESSING,
            "class_names": list(CLASS_NAMES),
        },
    )
    return output


def _write_graph(net, output: Path, file_format: str, batch: int) -> None:
    import mindspore as ms
    import mindspore.nn as nn
    import mindspore.ops as ops
    import numpy as np

    class WithSoftmax(nn.Cell):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def construct(self, x):
            return ops.softmax(self.inner(x), -1)

    output.parent.mkdir(parents=True, exist_ok=True)
    # MindSpore appends the extension itself: export into a private folder, then rename
    with tempfile.TemporaryDirectory(prefix=".export-", dir=output.parent) as folder:
        stem = Path(folder) / "model"
        example = ms.Tensor(np.zeros((batch, 1, IMAGE_SIZE, IMAGE_SIZE), np.float32))
        written = stem.with_suffix(FORMATS[file_format])
        if file_format == "ONNX":
            from mindspore import onnx

            onnx.export(WithSoftmax(net), example, file_name=str(written), input_names=["x"], output_names=["probs"])
        else:
            ms.export(WithSoftmax(net), example, file_name=str(stem), file_format=file_format)
        if not written.exists():
            raise CheckpointError(f"{output}: MindSpore wrote no {file_format} file")
        os.chmod(written, 0o644)
        os.replace(written, output)


def file_digest(path: Path | str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cached_onnx(ckpt: Path, arch: str, batch: int) -> Path:
    """The ONNX export of `ckpt` at a fixed batch, made once and kept in the cache folder."""
    folder = locations.cache_dir() / "onnx"
    path = folder / f"{file_digest(ckpt)[:24]}-{arch}-b{batch}.onnx"
    if path.exists():
        path.touch()  # recently used: kept by the pruning below
        return path
    export(ckpt, path, "ONNX", arch, batch)
    _prune(folder)
    return path


def _prune(folder: Path) -> None:
    exports = sorted(folder.glob("*.onnx"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in exports[CACHE_KEEP:]:
        old.unlink(missing_ok=True)
        old.with_name(old.name + ".json").unlink(missing_ok=True)
