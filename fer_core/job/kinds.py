"""The job kinds: what each takes (its flags) and the events it emits.

data PATH                                  result: rows per split and class (as `fer-tui data`)
check PATH… [--samples S] [--no-behaviour]  progress: one report per checkpoint; result: the worst
infer --ckpt P --folder DIR [--tta T]      progress: one prediction per image; result: accuracy
samples …                                  the flags of `fer-tui samples`; result: what it wrote
export …                                   the flags of `fer-tui export`; result: the file
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from fer_core.cli.commands import add_model_arguments
from fer_core.errors import CheckpointError, FerError
from fer_core.job.events import (
    KINDS,
    CheckSummary,
    DataSummary,
    Event,
    ExportSummary,
    InferSummary,
    Prediction,
    Progress,
    Result,
    SamplesSummary,
    Skipped,
    Started,
)

if TYPE_CHECKING:
    from fer_core.ckpt.deep import Report

Emit = Callable[[Event], None]  # a typed event (Started, Progress, Result or Error) to stdout
BATCH = 32  # images per forward pass: inference progress arrives in steps of this size


def data(args: argparse.Namespace, emit: Emit) -> None:
    from fer_core.data.dataset import describe, load_dataset

    emit(Started(job="data"))
    dataset = load_dataset(args.path, use_cache=not args.no_cache)
    emit(
        Result(
            summary=DataSummary(
                rows={name: len(split) for name, split in dataset.splits.items()}, skipped=len(dataset.skipped)
            ),
            text="\n".join(describe(dataset)),
        )
    )


def check(args: argparse.Namespace, emit: Emit) -> None:
    from fer_core.ckpt import verdict
    from fer_core.ckpt.index import find_checkpoints
    from fer_core.job.check import check_all

    for root in args.paths:
        if not root.exists():
            raise CheckpointError(f"{root}: no such file or folder")
    paths = [path for root in args.paths for path in find_checkpoints(root)]
    emit(Started(job="check", total=len(paths)))
    counter = iter(range(1, len(paths) + 1))  # one report per path, in order, crashed ones too

    def heard(report: Report) -> None:
        emit(
            Progress(
                done=next(counter),
                total=len(paths),
                report=report.to_row(),
                verdict=report.verdict,
                lines=report.lines(),
            )
        )

    reports = check_all(
        paths, args.samples, not args.no_behaviour, args.device_target, isolated=not args.in_process, on_report=heard
    )
    levels = [r.verdict.level for r in reports]
    emit(
        Result(
            verdict=verdict.worst(r.verdict for r in reports),
            summary=CheckSummary(checked=len(reports), **{level: levels.count(level) for level in verdict.LEVELS}),
        )
    )


def infer(args: argparse.Namespace, emit: Emit) -> None:
    """Every image of a sample folder (ROOT/<class>/*.png, or a flat folder) through one checkpoint."""
    import numpy as np

    from fer_core.ckpt import verdict
    from fer_core.ckpt.sidecar import load_sidecar
    from fer_core.data.dataset import read_face, sample_files
    from fer_core.data.samples import judging_note
    from fer_core.infer.predictor import Predictor

    started = time.time()
    files, skipped = sample_files(args.folder)
    predictor = Predictor(args.ckpt, arch=args.arch, device_target=args.device_target, batch_size=BATCH)
    total = len(files)
    emit(Started(job="infer", total=total, arch=predictor.arch))
    for entry in skipped:
        path, _, reason = entry.partition(": ")
        emit(Progress(total=total, skipped=Skipped(path=path, reason=reason)))
    all_probs: list[np.ndarray] = []
    all_true: list[int | None] = []
    for start in range(0, total, BATCH):
        faces, kept = [], []
        for file, label in files[start : start + BATCH]:
            try:
                faces.append(read_face(file))
                kept.append((file, label))
            except FerError:
                emit(
                    Progress(
                        done=len(all_probs), total=total, skipped=Skipped(path=str(file), reason="not a readable image")
                    )
                )
        if not faces:
            continue
        for (file, label), p in zip(kept, predictor.predict(np.stack(faces), tta=args.tta)):
            pred = int(p.argmax())
            all_probs.append(p)
            all_true.append(label)
            emit(
                Progress(
                    done=len(all_probs),
                    total=total,
                    prediction=Prediction(
                        path=str(file),
                        true=label,
                        pred=pred,
                        probs=[round(float(v), 6) for v in p],
                        correct=None if label is None else pred == label,
                    ),
                )
            )
    if not all_probs:
        raise FerError(f"{args.folder}: no readable images")
    probs = np.stack(all_probs)
    labels = np.array(all_true, np.int64) if all(t is not None for t in all_true) else None
    side, _ = load_sidecar(Path(args.ckpt))
    note = judging_note(args.folder, side.data_csv if side else None)
    judged, _ = verdict.behaviour(probs, labels, note)
    correct = int((probs.argmax(1) == labels).sum()) if labels is not None else None
    if judged.level == "ok":  # the counts are on screen already: the level, and (short, it
        # shares an 80-column line with them) that the faces were synthetic
        judged = verdict.Verdict("ok", "on synthetic faces") if note else verdict.OK
    emit(
        Result(
            verdict=judged,
            summary=InferSummary(
                total=len(all_probs),
                correct=correct,
                accuracy=None if correct is None else correct / len(all_probs),
                seconds=round(time.time() - started, 3),
            ),
        )
    )


def samples(args: argparse.Namespace, emit: Emit) -> None:
    from fer_core.cli.commands.samples import make
    from fer_core.data.samples import summary_lines

    emit(Started(job="samples"))
    result = make(args)
    emit(
        Result(
            summary=SamplesSummary(folder=str(result.folder), written=len(result.written), missing=result.missing),
            text="\n".join(summary_lines(result, args.csv)),
        )
    )


def export(args: argparse.Namespace, emit: Emit) -> None:
    from fer_core.cli.commands.export import make

    emit(Started(job="export"))
    written, text = make(args)
    emit(Result(summary=ExportSummary(output=str(written)), text=text))


def _check_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", type=Path, help="checkpoint files or folders (searched recursively)")
    parser.add_argument("--samples", default="demo", help="sample folder for the behaviour check, or 'demo'")
    parser.add_argument("--no-behaviour", action="store_true", help="structure and size only")
    parser.add_argument("--in-process", action="store_true", help="load in this process (the isolated child)")
    add_model_arguments(parser, arch=False)


def _infer_arguments(parser: argparse.ArgumentParser) -> None:
    from fer_core.infer.predictor import TTA_CHOICES

    parser.add_argument("--ckpt", type=Path, required=True)
    parser.add_argument("--folder", type=Path, required=True)
    parser.add_argument("--tta", default="auto", choices=TTA_CHOICES)
    add_model_arguments(parser)


def build_parser() -> argparse.ArgumentParser:
    from fer_core.cli.commands import data as data_verb
    from fer_core.cli.commands import export as export_verb
    from fer_core.cli.commands import samples as samples_verb
    from fer_core.cli.main import OneLineParser

    # kind -> (its flags, what runs it)
    table = {
        "data": (data_verb.add_arguments, data),
        "check": (_check_arguments, check),
        "infer": (_infer_arguments, infer),
        "samples": (samples_verb.add_arguments, samples),
        "export": (export_verb.add_arguments, export),
    }
    parser = OneLineParser(prog="python -m fer_core.job", description="Run one job; its events on stdout.")
    sub = parser.add_subparsers(dest="kind", metavar="KIND", required=True, parser_class=OneLineParser)
    for kind in KINDS:
        add_arguments, run = table[kind]
        kind_parser = sub.add_parser(kind)
        add_arguments(kind_parser)
        kind_parser.take_choices_in_any_case()
        kind_parser.set_defaults(kind_run=run)
    return parser
