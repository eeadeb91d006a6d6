"""Checkpoint triage: what a .ckpt is (architecture, kind, parameters) and whether it is any good.

    report = inspect("best_model.ckpt", samples="demo")   # or a sample folder, or None
    report.verdict   # "ok" | "warning: uniform output …" | "broken: truncated …"

Three checks, in the order they are judged:
  structure  every parameter of the architecture present with the right shape, nothing else
             (optimizer moments allowed in a training state); truncated/foreign files named
  size       bytes on disk vs the exact size MindSpore writes for this arch + kind (the classic
             "~1.3 MB, under 500 KB is broken" rule, generalised)
  behaviour  predictions on real faces: near-uniform (top probability ≈ 1/7) or one class for
             every face is a warning

The architecture comes from the sidecar, else from matching parameter names and shapes
against every registered architecture. Listing needs no MindSpore (`fer_core.ckpt_index`);
the architecture manifests and the behaviour check import it inside functions.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from fer_core import CLASS_NAMES, NUM_CLASSES, ckpt_index, fileio, locations, sidecar
from fer_core.ckpt_index import OPTIMIZER_PREFIXES, Index, human_bytes, is_optimizer_name
from fer_core.errors import CheckpointError, DataError
from fer_core.models import ARCHITECTURES

LEVELS = ("ok", "skipped", "warning", "broken")  # worst last
UNIFORM_MARGIN = 0.05  # top probability within 5 points of 1/7 on average: the net says nothing
MIN_ARCH_MATCH = 0.8  # share of a file's weights that must match an architecture to call it that
DEMO_FACES = 70  # behaviour check on the demo set: ~10 faces per class (enough to see uniform output)


@dataclass
class Check:
    name: str
    level: str
    text: str


@dataclass
class Report:
    path: Path
    size: int
    kind: str | None = None
    arch: str | None = None
    arch_source: str | None = None  # "sidecar" | "weights"
    params: int | None = None
    expected: int | None = None
    epoch: int | None = None
    val_acc: float | None = None
    checks: list[Check] = field(default_factory=list)
    behaviour: dict[str, Any] | None = None  # faces, accuracy, mean_top, classes predicted

    @property
    def level(self) -> str:
        return max((c.level for c in self.checks), key=LEVELS.index, default="ok")

    @property
    def verdict(self) -> str:
        worst = self.level
        if worst in ("ok", "skipped"):
            return "ok"
        first = next(c for c in self.checks if c.level == worst)
        return f"{worst}: {first.text}"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["path"] = str(self.path)
        data["verdict"] = self.verdict
        return data


# ---------------------------------------------------------------- architecture manifests

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
        stored = {"shapes": {p.name: list(p.shape) for p in net.get_parameters()},
                  "trainable": [p.name for p in net.trainable_params()]}
        try:
            fileio.write_json(cache, {**_read_manifests(cache), arch: stored})
        except OSError:
            pass  # no cache is slower, not wrong
    manifest = Manifest({k: tuple(v) for k, v in stored["shapes"].items()}, tuple(stored["trainable"]))
    _manifests[arch] = manifest
    return manifest


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
    source: str | None
    match: float = 0.0


def identify(index: Index, side: dict | None = None) -> Identity:
    """The architecture of a checkpoint: its sidecar's word, else the best name+shape match."""
    if side and side.get("arch") in ARCHITECTURES:
        return Identity(side["arch"], "sidecar", 1.0)
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
    return (f"unknown architecture (none of {', '.join(ARCHITECTURES)}); "
            f"{len(index.weights)} parameters found, e.g. {', '.join(names) or 'none'}")


def open_index(path: Path | str) -> Index:
    """The record index of a readable, complete checkpoint, or a one-line CheckpointError."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"{path}: no such checkpoint file")
    if not path.is_file():
        raise CheckpointError(f"{path}: is a folder, not a checkpoint file")
    index = ckpt_index.read_index(path)
    if index.error:
        raise CheckpointError(f"{path}: {index.error}")
    return index


# ---------------------------------------------------------------- structure and size

def _examples(names: list[str], count: int = 3) -> str:
    shown = ", ".join(names[:count])
    return shown + (f", … ({len(names)} in all)" if len(names) > count else "")


def structure_problems(index: Index, arch: str) -> list[str]:
    """What is missing, misshapen or unexpected in a checkpoint for this architecture."""
    shapes = arch_manifest(arch).shapes
    weights = index.weights
    problems = []
    missing = [n for n in shapes if n not in weights]
    wrong = [f"{n} {list(weights[n].shape)} (expected {list(s)})" for n, s in shapes.items()
             if n in weights and weights[n].shape != s]
    unexpected = [n for n in weights if n not in shapes]
    for name, entry in index.tensors.items():
        prefix = next((p for p in OPTIMIZER_PREFIXES if name.startswith(p)), None)
        if prefix and shapes.get(name[len(prefix):]) != entry.shape:
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
    manifest = arch_manifest(arch)
    total = ckpt_index.file_bytes(manifest.shapes)
    if kind != "train_state":
        return total
    prefixes = {p for p in OPTIMIZER_PREFIXES if any(n.startswith(p) for n in index.entries)} or {"adam_m.", "adam_v."}
    for prefix in sorted(prefixes):
        total += sum(ckpt_index.record_bytes(prefix + n, manifest.shapes[n]) for n in manifest.trainable)
    for name, entry in index.entries.items():
        if entry.dtype == "str" or (is_optimizer_name(name) and not name.startswith(OPTIMIZER_PREFIXES)):
            count = entry.nbytes // ckpt_index.DTYPE_BYTES[entry.dtype]
            total += ckpt_index.record_bytes(name, entry.shape, entry.dtype, count)
    return total


# ---------------------------------------------------------------- behaviour

@dataclass
class Samples:
    images: np.ndarray  # (N, 48, 48) uint8
    labels: np.ndarray | None  # (N,) or None when the folder has no class sub-folders
    files: list[str]
    skipped: list[str]  # "path: why"
    source: str


def load_samples(spec: Path | str | None = "demo", limit: int | None = None) -> Samples:
    """Faces for the behaviour check: 'demo', ROOT/<class>/*.png, or a flat folder of images."""
    from fer_core.data import IMAGE_SUFFIXES, demo_dataset, read_face, scan_class_folder

    if spec is None or str(spec) == "demo":
        split = demo_dataset().split("PublicTest")
        count = min(limit or DEMO_FACES, len(split))
        return Samples(split.images[:count], split.labels[:count], [f"demo:{i}" for i in range(count)], [], "demo")
    root = Path(spec)
    if not root.is_dir():
        raise DataError(f"{root}: no such sample folder")
    pairs, skipped = scan_class_folder(root)
    labelled = bool(pairs)
    if not labelled:  # a flat folder: faces without a true class
        for file in sorted(root.iterdir()):
            if file.is_file() and file.suffix.lower() in IMAGE_SUFFIXES:
                pairs.append((file, -1))
            elif file.is_file() and not file.name.startswith("."):
                skipped.append(f"{file}: not an image file")
    images, labels, files = [], [], []
    for file, label in pairs[:limit] if limit else pairs:
        try:
            images.append(read_face(file))
        except DataError as error:
            skipped.append(str(error))
            continue
        labels.append(label)
        files.append(str(file))
    if not images:
        raise DataError(f"{root}: no readable face images (expected ROOT/<class>/*.png or ROOT/*.png)")
    return Samples(np.stack(images), np.array(labels, np.int64) if labelled else None, files, skipped, str(root))


def judge_outputs(probs: np.ndarray, labels: np.ndarray | None) -> tuple[Check, dict[str, Any]]:
    """Near-uniform or single-class outputs are a warning; NaN is broken."""
    faces = len(probs)
    if not np.isfinite(probs).all():
        return Check("behaviour", "broken", f"output is NaN/inf on {faces} faces"), {"faces": faces}
    top = probs.max(1)
    predicted = probs.argmax(1)
    counts = np.bincount(predicted, minlength=NUM_CLASSES)
    facts: dict[str, Any] = {"faces": faces, "mean_top": float(top.mean()),
                             "predicted_counts": dict(zip(CLASS_NAMES, counts.tolist()))}
    accuracy = None
    if labels is not None and len(labels) == faces:
        accuracy = float((predicted == labels).mean())
        facts["accuracy"] = accuracy
    acc_text = f", accuracy {accuracy:.3f}" if accuracy is not None else ""
    if top.mean() < 1 / NUM_CLASSES + UNIFORM_MARGIN:
        return Check("behaviour", "warning", f"uniform output: mean top probability {top.mean():.3f} "
                     f"≈ 1/7 on {faces} faces{acc_text}"), facts
    if faces >= NUM_CLASSES and (counts > 0).sum() == 1:
        return Check("behaviour", "warning", f"one class ({CLASS_NAMES[int(predicted[0])]}) for every face "
                     f"({faces} faces{acc_text})"), facts
    return Check("behaviour", "ok", f"{faces} faces: mean top probability {top.mean():.3f}{acc_text}"), facts


# ---------------------------------------------------------------- the whole inspection

def inspect(path: Path | str, samples: Path | str | Samples | None = "demo", behaviour: bool = True,
            device_target: str = "CPU") -> Report:
    """Every check on one checkpoint. A file that is not a checkpoint is a broken report,
    not an exception; only a missing path raises CheckpointError."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        index = ckpt_index.read_index(path)
    except OSError as error:  # one unreadable file is one broken row, not the end of the table
        report = Report(path, path.stat().st_size)
        report.checks.append(Check("structure", "broken", ckpt_index.unreadable(error)))
        return report
    side = sidecar.read_sidecar(path)
    report = Report(path, index.size, kind=index.kind if index.entries else (side or {}).get("kind"),
                    epoch=(side or {}).get("epoch"), val_acc=(side or {}).get("val_acc"))
    if not index.entries:  # empty, text, or some other format
        report.checks.append(Check("structure", "broken", index.error or "no tensors"))
        return report
    identity = identify(index, side)
    report.arch, report.arch_source = identity.arch, identity.source
    report.params = index.params
    if index.error:
        report.checks.append(Check("structure", "broken", index.error))
    if identity.arch is None:
        report.checks.append(Check("structure", "broken", unknown_arch_message(index)))
        return report
    if not index.error:
        problems = structure_problems(index, identity.arch)
        report.checks.append(Check("structure", "broken" if problems else "ok",
                                   f"not a {identity.arch} {report.kind}: {'; '.join(problems)}" if problems else
                                   f"{len(index.weights)} tensors of {identity.arch}, {report.params:,} parameters"))
    report.checks.append(_size_check(index, identity.arch, report, side))
    if behaviour and report.level != "broken":
        report.checks.append(_behaviour_check(path, identity.arch, samples, report, device_target))
    return report


def _size_check(index: Index, arch: str, report: Report, side: dict | None) -> Check:
    kind = report.kind or "weights"
    if index.error and side and side.get("expected_bytes"):
        report.expected = int(side["expected_bytes"])  # a truncated file no longer shows its strings
    else:
        report.expected = expected_bytes(index, arch, kind)
    verdict = ckpt_index.size_verdict(index.size, report.expected)
    level, _, text = verdict.partition(": ")
    numbers = f"{human_bytes(index.size)} ({index.size:,} B), expected {human_bytes(report.expected)} " \
              f"({report.expected:,} B) for {arch} {kind}"
    if level == "ok":
        return Check("size", "ok", numbers)
    return Check("size", level, f"size {numbers}")


def _behaviour_check(path: Path, arch: str, samples, report: Report, device_target: str) -> Check:
    from fer_core.infer import Predictor

    try:
        faces = samples if isinstance(samples, Samples) else load_samples(samples)
        # A new network per file: weights loaded into an already compiled graph do not reach
        # it (MindSpore 2.8 graph mode keeps its own copy), so each file compiles once.
        probs = Predictor(path, arch=arch, device_target=device_target).predict(faces.images)
    except (CheckpointError, DataError) as error:
        return Check("behaviour", "broken" if isinstance(error, CheckpointError) else "skipped", str(error))
    check, facts = judge_outputs(probs, faces.labels)
    report.behaviour = {**facts, "source": faces.source, "skipped": faces.skipped}
    return check


def inspect_all(root: Path | str, samples: Path | str | None = "demo", behaviour: bool = True,
                device_target: str = "CPU", isolated: bool = True) -> list[Report]:
    """Every .ckpt under root (samples loaded once). `isolated`: the loads run in a worker
    process, so a file that crashes MindSpore is one broken row, not the end of the table."""
    paths = ckpt_index.find_checkpoints(root)
    faces = load_samples(samples) if behaviour else None  # a bad sample folder: one line, here
    if isolated and paths:
        from fer_core.checkpoint_worker import inspect_isolated

        return inspect_isolated(paths, None if samples is None else str(samples), behaviour, device_target)
    return [inspect(p, faces, behaviour, device_target) for p in paths]


def params_of(shapes: dict[str, tuple[int, ...]]) -> int:
    return sum(math.prod(s) for s in shapes.values())
