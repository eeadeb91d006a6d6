"""The deep check of one checkpoint: what it is (architecture, kind, parameters) and whether it
is any good.

    report = inspect("best_model.ckpt", samples="demo")   # or a sample folder, or None
    report.verdict   # Verdict("ok") | Verdict("warning", "uniform output …") | …

Three checks, in the order they are judged (the rules are `fer_core.ckpt.verdict`'s):
  structure  every parameter of the architecture present with the right shape, nothing else
             (optimizer moments allowed in a training state); truncated/foreign files named
  size       bytes on disk vs the exact size MindSpore writes for this arch + kind
  behaviour  predictions on real faces: near-uniform or one class for every face
Only the behaviour check imports MindSpore (through `fer_core.infer.predictor`). Many files, each in a
worker process so a crash is one broken row: `fer_core.ckpt.worker.inspect_all`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fer_core.ckpt import index as records
from fer_core.ckpt import verdict
from fer_core.ckpt.arch import expected_bytes, identify, structure_problems, unknown_arch_message
from fer_core.ckpt.index import Index
from fer_core.ckpt.listing import CheckLine, CheckpointRow, run_name
from fer_core.ckpt.sidecar import Sidecar, load_sidecar
from fer_core.ckpt.verdict import Check, Verdict, human_bytes
from fer_core.errors import CheckpointError, DataError

if TYPE_CHECKING:
    import numpy as np

DEMO_FACES = 70  # behaviour check on the demo set: ~10 faces per class (enough to see uniform output)


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
    def verdict(self) -> Verdict:
        return verdict.overall(self.checks)

    def add(self, name: str, judged: Verdict) -> None:
        self.checks.append(Check(name, judged))

    def lines(self) -> list[str]:
        """`structure: ok · 12 tensors of tiny_cnn, …`: one line per check."""
        return [f"{c.name}: {c.verdict.level} · {c.verdict.text}" for c in self.checks]

    def to_row(self, root: Path | str | None = None) -> CheckpointRow:
        """The report as `fer-tui checkpoints --json` prints it (the run named against `root`)."""
        return CheckpointRow.of(
            self.path,
            self,
            run_name(self.path, root),
            arch_source=self.arch_source,
            params=self.params,
            checks=[CheckLine(name=c.name, level=c.verdict.level, text=c.verdict.text) for c in self.checks],
            behaviour=self.behaviour,
        )

    @classmethod
    def from_row(cls, row: CheckpointRow) -> Report:
        """The report a check job's progress event carried."""
        facts = row.model_dump(include=set(cls.__dataclass_fields__) - {"path", "checks"})
        checks = [Check(c.name, Verdict(c.level, c.text)) for c in row.checks or []]
        return cls(path=Path(row.path), checks=checks, **facts)


# ---------------------------------------------------------------- faces for the behaviour check


@dataclass
class Samples:
    images: np.ndarray  # (N, 48, 48) uint8
    labels: np.ndarray | None  # (N,) or None when the folder has no class sub-folders
    files: list[str]
    skipped: list[str]  # "path: why"
    source: str


def load_samples(spec: Path | str | None = "demo", limit: int | None = None) -> Samples:
    """Faces for the behaviour check: 'demo', ROOT/<class>/*.png, or a flat folder of images."""
    import numpy as np

    from fer_core.data.dataset import demo_dataset, read_face, sample_files

    if spec is None or str(spec) == "demo":
        split = demo_dataset().split("PublicTest")
        count = min(limit or DEMO_FACES, len(split))
        return Samples(split.images[:count], split.labels[:count], [f"demo:{i}" for i in range(count)], [], "demo")
    root = Path(spec)
    pairs, skipped = sample_files(root)
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
    labelled = all(label is not None for label in labels)
    return Samples(np.stack(images), np.array(labels, np.int64) if labelled else None, files, skipped, str(root))


# ---------------------------------------------------------------- the whole inspection


def inspect(
    path: Path | str, samples: Path | str | Samples | None = "demo", behaviour: bool = True, device_target: str = "CPU"
) -> Report:
    """Every check on one checkpoint. A file that is not a checkpoint is a broken report,
    not an exception; only a missing path raises CheckpointError."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        index = records.read_index(path)
    except OSError as error:  # one unreadable file is one broken row, not the end of the table
        report = Report(path, path.stat().st_size)
        report.add("structure", verdict.unreadable(error))
        return report
    side, problem = load_sidecar(path)
    report = Report(
        path,
        index.size,
        kind=index.kind if index.entries else (side.kind if side else None),
        epoch=side.epoch if side else None,
        val_acc=side.val_acc if side else None,
    )
    if problem:
        report.add("sidecar", verdict.sidecar(side, problem, index.size))
    if not index.entries:  # empty, text, or some other format
        report.add("structure", verdict.records(index.error or "no tensors"))
        return report
    identity = identify(index, side)
    report.arch, report.arch_source = identity.arch, identity.source
    report.params = index.params
    if index.error:
        report.add("structure", verdict.records(index.error))
    if identity.arch is None:
        report.add("structure", verdict.architecture(None, unknown_arch_message(index)))
        return report
    if not index.error:
        report.add(
            "structure",
            verdict.structure(
                identity.arch, index.kind, structure_problems(index, identity.arch), len(index.weights), index.params
            ),
        )
    report.add("size", _size_check(index, identity.arch, report, side))
    if behaviour and report.verdict.level != "broken":
        report.add(
            "behaviour",
            _behaviour_check(path, identity.arch, samples, report, device_target, side.data_csv if side else None),
        )
    return report


def _size_check(index: Index, arch: str, report: Report, side: Sidecar | None) -> Verdict:
    kind = report.kind or "weights"
    if index.error and side is not None and side.expected_bytes:
        report.expected = side.expected_bytes  # a truncated file no longer shows its strings
    else:
        report.expected = expected_bytes(index, arch, kind)
    numbers = (
        f"{human_bytes(index.size)} ({index.size:,} B), expected {human_bytes(report.expected)} "
        f"({report.expected:,} B) for {arch} {kind}"
    )
    return verdict.size(index.size, report.expected, numbers)


def _behaviour_check(
    path: Path,
    arch: str,
    samples: Path | str | Samples | None,
    report: Report,
    device_target: str,
    trained_on: str | None,
) -> Verdict:
    from fer_core.data.samples import judging_note
    from fer_core.infer.predictor import Predictor

    try:
        faces = samples if isinstance(samples, Samples) else load_samples(samples)
        # A new network per file: weights loaded into an already compiled graph do not reach
        # it (MindSpore 2.8 graph mode keeps its own copy), so each file compiles once.
        probs = Predictor(path, arch=arch, device_target=device_target).predict(faces.images)
    except CheckpointError as error:
        return verdict.load_failed(str(error))
    except DataError as error:
        return verdict.behaviour_unknown(str(error))
    judged, facts = verdict.behaviour(probs, faces.labels, judging_note(faces.source, trained_on))
    report.behaviour = {**facts, "source": faces.source, "skipped": faces.skipped}
    return judged
