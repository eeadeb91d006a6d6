"""A checkpoint as a file to deploy: ONNX (for ONNX Runtime) or MINDIR (for MindSpore Lite).

The exported graph is the network in eval mode followed by a softmax: it takes normalised
faces (N, 1, 48, 48) float32 and gives class probabilities (N, 7). Its sidecar (`<file>.json`)
says the input shape, the preprocessing and the class names, so a deployment needs nothing
else. Exports for fer-tui's own inference are cached by the checkpoint's bytes
(`cached_onnx`), so a changed checkpoint never meets a stale export, and each is verified
against the hash recorded when it was written (`fer_core.cachefiles`) before it is served.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from fer_core import CLASS_NAMES, IMAGE_SIZE, cachefiles, fileio, locations
from fer_core.ckpt.sidecar import PREPROCESSING
from fer_core.errors import CacheError, CheckpointError, FerError
from fer_core.signals import pid_alive

if TYPE_CHECKING:
    import mindspore as ms
    from mindspore import nn

FORMATS = {"ONNX": ".onnx", "MINDIR": ".mindir"}
CACHE_KEEP = 32  # cached exports kept (newest first); each is about the checkpoint's size
MAX_BATCH = 4096  # the example input MindSpore traces is batch × 9 KB: 4096 is 38 MB
# the private folder an export is written in (MindSpore names the file itself); the pid says
# whether the export that made it is still running
TEMP_PREFIX = ".fer-tui-export-"
_TEMP_FOLDER = re.compile(re.escape(TEMP_PREFIX) + r"(\d+)-[A-Za-z0-9_]+")


def sidecar_path(output: Path) -> Path:
    """The sidecar an export writes beside its file: `<file>.json`."""
    return output.with_name(output.name + ".json")


class ExportSidecar(BaseModel):
    """`<file>.json` beside an export: everything a deployment needs to feed it faces."""

    model_config = ConfigDict(extra="forbid")

    format: str = Field(description="The graph's file format: ONNX or MINDIR")
    file: str = Field(description="The export's file name")
    arch: str = Field(description="Architecture from the model registry")
    source: str = Field(description="The checkpoint it was exported from")
    source_sha256: str = Field(description="That checkpoint's SHA-256 when it was exported")
    input: dict[str, Any] = Field(description="The input tensor: name, shape, dtype")
    output: dict[str, Any] = Field(description="The output tensor: shape, meaning")
    preprocessing: dict[str, Any] = Field(PREPROCESSING, description="How a face becomes the input")
    class_names: list[str] = Field(list(CLASS_NAMES), description="Output classes, in order")


def default_output(ckpt: Path, suffix: str) -> Path:
    """Where an export goes without --output: beside the checkpoint, except for a shipped one:
    package data (site-packages in a wheel install) is never written, so its export goes to the
    current folder, named after it."""
    if locations.in_shipped_data(ckpt):
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
    try:
        _write_graph(net, output, file_format, batch)
        sidecar = ExportSidecar(
            format=file_format,
            file=output.name,
            arch=arch,
            source=str(ckpt),
            source_sha256=file_digest(ckpt),
            input={"name": "x", "shape": [batch, 1, IMAGE_SIZE, IMAGE_SIZE], "dtype": "float32"},
            output={"shape": [batch, len(CLASS_NAMES)], "meaning": "class probabilities (softmax)"},
        )
        fileio.write_json(sidecar_path(output), sidecar.model_dump(mode="json"))
    except OSError as error:  # named after the output, not the temporary the system refused
        raise FerError(f"{output}: cannot write ({error.strerror or error})") from None
    return output


def _write_graph(net: nn.Cell, output: Path, file_format: str, batch: int) -> None:
    import mindspore as ms
    import mindspore.nn as nn
    import mindspore.ops as ops
    import numpy as np

    class WithSoftmax(nn.Cell):
        def __init__(self, inner: nn.Cell):
            super().__init__()
            self.inner = inner

        def construct(self, x: ms.Tensor) -> ms.Tensor:
            return ops.softmax(self.inner(x), -1)

    clean_stale_exports(output.parent)
    # MindSpore appends the extension itself: export into a private folder, then rename
    folder = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{os.getpid()}-", dir=output.parent))
    try:
        stem = folder / "model"
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
        with open(written, "rb") as handle:  # on disk before the rename: a crash leaves old or new
            os.fsync(handle.fileno())
        os.replace(written, output)
        cachefiles.fsync_folder(output.parent)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def clean_stale_exports(folder: Path) -> None:
    """Remove the private folders of exports killed midway (kill -9 leaves them): only folders
    named as fer-tui names them, owned by this user, whose process is gone."""
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        match = _TEMP_FOLDER.fullmatch(name)
        if match is None or pid_alive(int(match.group(1))):
            continue
        try:
            info = os.lstat(folder / name)
        except OSError:
            continue
        if stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid():
            shutil.rmtree(folder / name, ignore_errors=True)


def file_digest(path: Path | str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cached_onnx(ckpt: Path, arch: str, batch: int) -> bytes:
    """The ONNX export of `ckpt` at a fixed batch, made once and kept in the cache folder:
    its bytes, as verified against the hash recorded when it was written (a mismatch is
    exported anew). CacheError when the cache can neither give it nor keep a new one."""
    from fer_core.ckpt.io import load_network

    folder = cachefiles.folder("onnx")
    path = folder / f"{file_digest(ckpt)[:24]}-{arch}-b{batch}.onnx"
    model = cachefiles.read_verified(path)
    if model is not None:
        try:
            path.touch()  # recently used: kept by the pruning below
        except OSError:
            pass  # a read-only cache still serves what it holds
        return model
    net = load_network(ckpt, arch)
    with cachefiles.entry(path) as built:
        try:
            _write_graph(net, built, "ONNX", batch)
        except OSError as error:
            raise CacheError(f"cache folder {folder}: {error.strerror or error}") from None
    model = cachefiles.read_verified(path)
    if model is None:
        raise CacheError(f"cache entry {path}: changed while it was written")
    _prune(folder)
    return model


def _prune(folder: Path) -> None:
    try:
        exports = sorted(folder.glob("*.onnx"), key=lambda p: p.stat().st_mtime, reverse=True)
    except OSError:
        return
    for old in exports[CACHE_KEEP:]:
        cachefiles.discard(old)
        sidecar_path(old).unlink(missing_ok=True)  # what an older fer-tui kept beside its exports
