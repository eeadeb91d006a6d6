"""What architecture a checkpoint is, and whether its tensors are that architecture's.

The architecture comes from the sidecar, else from matching parameter names and shapes
against every registered architecture (their manifests are built with MindSpore once, then
cached on disk keyed by the model code). `check_checkpoint` is what every load calls first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from fer_core import fileio, locations
from fer_core.ckpt import index as records
from fer_core.ckpt.index import OPTIMIZER_PREFIXES, Index, is_optimizer_name
from fer_core.ckpt.sidecar import Sidecar, read_sidecar
from fer_core.ckpt.verdict import MIN_ARCH_MATCH
from fer_core.errors import CheckpointError
from fer_core.models import ARCHITECTURES


@dataclass(frozen=True)
class Manifest:
    shapes: dict[str, tuple[int, ...]]  # every tensor of a weights checkpoint
    trainable: tuple[str, ...]  # the ones an optimizer keeps moments for


_manifests: dict[str, Manifest] = {}


def arch_manifest(arch: str) -> Manifest:
    """Parameter names and shapes of a registered architecture (built once, cached on disk)."""
    if arch in _manifests:
        return _manifests[arch]
    cache = _manifest_cache()
    stored = _read_manifests(cache).get(arch)
    if stored is None:
        from fer_core.models import build_model

        net = build_model(arch)
        stored = {
            "shapes": {p.name: list(p.shape) for p in net.get_parameters()},
            "trainable": [p.name for p in net.trainable_params()],
        }
        try:
            fileio.write_json(cache, {**_read_manifests(cache), arch: stored})
        except OSError:
            pass  # no cache is slower, not wrong
    manifest = Manifest({k: tuple(v) for k, v in stored["shapes"].items()}, tuple(stored["trainable"]))
    _manifests[arch] = manifest
    return manifest


# Every architecture's manifest, written beside this module (`write_shipped_manifests`) and held
# to the built networks by tests/unit/test_checkpoints.py: the quick listing, which never imports
# MindSpore, reads it to tell a sidecar's architecture from the one the tensors are.
SHIPPED_MANIFESTS = Path(__file__).with_name("arch_manifests.json")
_shipped: dict[str, Manifest] | None = None


def shipped_manifests() -> dict[str, Manifest]:
    """The registered architectures' manifests as shipped (no MindSpore); {} if unreadable."""
    global _shipped
    if _shipped is None:
        stored = _read_manifests(SHIPPED_MANIFESTS)
        _shipped = {
            arch: Manifest({k: tuple(v) for k, v in m["shapes"].items()}, tuple(m["trainable"]))
            for arch, m in stored.items()
        }
    return _shipped


def write_shipped_manifests() -> Path:
    """Build every architecture (MindSpore) and write SHIPPED_MANIFESTS: after a model change."""
    data = {
        arch: {"shapes": {k: list(v) for k, v in m.shapes.items()}, "trainable": list(m.trainable)}
        for arch in ARCHITECTURES
        for m in [arch_manifest(arch)]
    }
    fileio.write_text(SHIPPED_MANIFESTS, json.dumps(data, indent=1, sort_keys=True) + "\n")
    return SHIPPED_MANIFESTS


def weights_identity(index: Index) -> tuple[str | None, int | None]:
    """Without MindSpore: the architecture the tensors' names and shapes are (shipped manifests,
    MIN_ARCH_MATCH of them), and, when they are exactly that architecture's, the size the file
    must have; (None, None) when they match none. A file with missing or extra tensors has no
    size to hold a sidecar to: the size and structure rules judge it."""
    found = {n: e.shape for n, e in index.weights.items()}
    best, score = None, (0.0, 0.0)
    for arch, manifest in shipped_manifests().items():
        matched = sum(1 for n, s in found.items() if manifest.shapes.get(n) == s)
        candidate = (matched / max(1, len(found)), matched / max(1, len(manifest.shapes)))
        if candidate > score and candidate[0] >= MIN_ARCH_MATCH:
            best, score = arch, candidate
    if best is None:
        return None, None
    manifest = shipped_manifests()[best]
    exact = found == manifest.shapes
    return best, _expected_bytes(index, manifest, index.kind) if exact else None


def _manifest_cache() -> Path:
    """Keyed by the model code and the MindSpore version: a changed layout is rebuilt."""
    import hashlib

    from fer_core import models

    try:
        version = metadata.version("mindspore")
    except metadata.PackageNotFoundError:
        version = "none"
    digest = hashlib.sha256(version.encode())
    for source in sorted(Path(models.__file__).parent.glob("*.py")):
        digest.update(source.read_bytes())
    return locations.cache_dir() / f"arch-manifests-{digest.hexdigest()[:16]}.json"


def _read_manifests(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in data.items() if k in ARCHITECTURES} if isinstance(data, dict) else {}


@dataclass
class Identity:
    arch: str | None
    source: str | None  # "sidecar" | "weights"
    match: float = 0.0


def identify(index: Index, side: Sidecar | None = None) -> Identity:
    """The architecture of a checkpoint: its sidecar's word, else the best name+shape match."""
    if side is not None and side.arch in ARCHITECTURES:
        return Identity(side.arch, "sidecar", 1.0)
    found = {n: e.shape for n, e in index.weights.items()}
    if not found:
        return Identity(None, None)
    best = Identity(None, None)
    for arch in ARCHITECTURES:
        shapes = arch_manifest(arch).shapes
        matched = sum(1 for n, s in found.items() if shapes.get(n) == s)
        # precision first (a truncated file holds a prefix of its arch), then coverage
        score = (matched / len(found), matched / len(shapes))
        if score > (best.match, 0) and score[0] >= MIN_ARCH_MATCH:
            best = Identity(arch, "weights", score[0])
    return best


def unknown_arch_message(index: Index) -> str:
    names = list(index.weights)[:5]
    return (
        f"unknown architecture (none of {', '.join(ARCHITECTURES)}); "
        f"{len(index.weights)} parameters found, e.g. {', '.join(names) or 'none'}"
    )


def open_index(path: Path | str) -> Index:
    """The record index of a readable, complete checkpoint, or a one-line CheckpointError."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"{path}: no such checkpoint file")
    if path.is_dir():
        raise CheckpointError(f"{path}: is a folder, not a checkpoint file")
    if not path.is_file():  # /dev/zero, a FIFO: reading one never ends
        raise CheckpointError(f"{path}: not a regular file, not a checkpoint file")
    index = records.read_index(path)
    if index.error:
        raise CheckpointError(f"{path}: {index.error}")
    return index


def _examples(names: list[str], count: int = 3) -> str:
    shown = ", ".join(names[:count])
    return shown + (f", … ({len(names)} in all)" if len(names) > count else "")


def structure_problems(index: Index, arch: str) -> list[str]:
    """What is missing, misshapen or unexpected in a checkpoint for this architecture."""
    shapes = arch_manifest(arch).shapes
    weights = index.weights
    problems = []
    missing = [n for n in shapes if n not in weights]
    wrong = [
        f"{n} {list(weights[n].shape)} (expected {list(s)})"
        for n, s in shapes.items()
        if n in weights and weights[n].shape != s
    ]
    unexpected = [n for n in weights if n not in shapes]
    for name, entry in index.tensors.items():
        prefix = next((p for p in OPTIMIZER_PREFIXES if name.startswith(p)), None)
        if prefix and shapes.get(name[len(prefix) :]) != entry.shape:
            unexpected.append(name)
    if missing:
        problems.append(f"missing {len(missing)} parameters: {_examples(missing)}")
    if wrong:
        problems.append(f"{len(wrong)} with the wrong shape: {_examples(wrong, 2)}")
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected: {_examples(unexpected)}")
    return problems


def expected_bytes(index: Index, arch: str, kind: str) -> int:
    """Exact file size for this arch and kind; a training state adds one moment per trainable
    parameter for each optimizer prefix it uses, and its scalars and strings as found."""
    return _expected_bytes(index, arch_manifest(arch), kind)


def _expected_bytes(index: Index, manifest: Manifest, kind: str) -> int:
    total = records.file_bytes(manifest.shapes)
    if kind != "train_state":
        return total
    prefixes = {p for p in OPTIMIZER_PREFIXES if any(n.startswith(p) for n in index.entries)} or {"adam_m.", "adam_v."}
    for prefix in sorted(prefixes):
        total += sum(records.record_bytes(prefix + n, manifest.shapes[n]) for n in manifest.trainable)
    for name, entry in index.entries.items():
        if entry.dtype == "str" or (is_optimizer_name(name) and not name.startswith(OPTIMIZER_PREFIXES)):
            count = entry.nbytes // records.DTYPE_BYTES[entry.dtype]
            total += records.record_bytes(name, entry.shape, entry.dtype, count)
    return total


def check_checkpoint(path: Path, arch: str | None) -> tuple[Path, str]:
    """The checkpoint's architecture, after its records were checked against it (no MindSpore).
    Every load (inference, export) calls this first, once."""
    index = open_index(path)
    arch = arch or identify(index, read_sidecar(path)).arch
    if arch is None:
        raise CheckpointError(f"{path}: {unknown_arch_message(index)}; pass --arch")
    problems = structure_problems(index, arch)
    if problems:
        raise CheckpointError(f"{path}: not a {arch} checkpoint: {'; '.join(problems[:3])}")
    return path, arch
