"""The deep check of many checkpoints, each load in a child process: a file that crashes
MindSpore's loader (SIGSEGV, abort) takes down the child, never the table.

The child is the same job, `python -m fer_core.job check --in-process PATH…`; its progress
events carry the reports. If it dies, the path it was on is reported broken with the signal
and a new child takes the rest.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from fer_core.ckpt import deep, verdict
from fer_core.ckpt.deep import Report
from fer_core.errors import CheckpointError
from fer_core.job.events import Error, Progress
from fer_core.job.reader import EventReader, StderrTail, exit_text, job_env

OnReport = Callable[[Report], None]


def check_all(
    paths: list[Path],
    samples: str | None = "demo",
    behaviour: bool = True,
    device_target: str = "CPU",
    isolated: bool = True,
    on_report: OnReport | None = None,
) -> list[Report]:
    """`deep.inspect` of every path (the faces loaded once here: a bad sample folder is one line
    before any load); `on_report` hears each report as it comes."""
    faces = deep.load_samples(samples) if behaviour else None
    reports: list[Report] = []

    def done(report: Report) -> None:
        reports.append(report)
        if on_report is not None:
            on_report(report)

    if not isolated:
        for path in paths:
            done(deep.inspect(path, faces, behaviour, device_target))
        return reports
    pending = list(paths)
    while pending:
        count, died = _run_child(pending, samples, behaviour, device_target, done)
        pending = pending[count:]
        if pending and died is not None:
            culprit = pending.pop(0)
            report = Report(culprit, culprit.stat().st_size if culprit.exists() else 0)
            report.add("structure", verdict.load_failed(died))
            done(report)
        elif pending:  # the child stopped without a reason: do not loop forever
            raise CheckpointError(f"{pending[0]}: the checkpoint check ended early")
    return reports


def _run_child(
    paths: list[Path], samples: str | None, behaviour: bool, device_target: str, done: OnReport
) -> tuple[int, str | None]:
    """(reports received, why the child died or None)."""
    command = [
        sys.executable,
        "-m",
        "fer_core.job",
        "check",
        "--in-process",
        "--samples",
        str(samples or "demo"),
        "--device_target",
        device_target,
        *([] if behaviour else ["--no-behaviour"]),
        "--",
        *map(str, paths),
    ]
    count, reader, stderr = 0, EventReader(), StderrTail()
    with tempfile.TemporaryFile() as errors:  # MindSpore's chatter: only its end is kept
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=errors, env=job_env()
        )
        assert process.stdout is not None
        for line in process.stdout:
            event = reader.feed(line)
            if isinstance(event, Error):
                process.wait()
                raise CheckpointError(event.message)
            if isinstance(event, Progress) and event.report is not None:
                done(Report.from_row(event.report))
                count += 1
        code = process.wait()
        if code >= 0:
            errors.seek(0)
            stderr.add(errors.read())
            return count, (f"the check failed: {stderr.last()}" if code and stderr.lines else None)
    return count, f"MindSpore's loader crashed on it ({exit_text(code)})"
