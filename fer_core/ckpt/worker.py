"""The deep check of many files, each load in a child process: a file that crashes MindSpore's
loader (SIGSEGV, abort) takes down the worker, never the table.

    python -m fer_core.ckpt.worker SAMPLES DEVICE [--no-behaviour]  < paths, one a line

prints one JSON report per path, in order. `inspect_isolated` feeds it the paths; if the worker
dies, the path it was on is reported broken with the signal, and a new worker takes the rest.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from fer_core.ckpt import verdict
from fer_core.ckpt.deep import Report, inspect, load_samples
from fer_core.ckpt.index import find_checkpoints
from fer_core.errors import CheckpointError


def inspect_all(root: Path | str, samples: Path | str | None = "demo", behaviour: bool = True,
                device_target: str = "CPU", isolated: bool = True) -> list[Report]:
    """Every .ckpt under root (samples loaded once). `isolated`: the loads run in a worker
    process, so a file that crashes MindSpore is one broken row, not the end of the table."""
    paths = find_checkpoints(root)
    faces = load_samples(samples) if behaviour else None  # a bad sample folder: one line, here
    if isolated and paths:
        return inspect_isolated(paths, None if samples is None else str(samples), behaviour, device_target)
    return [inspect(p, faces, behaviour, device_target) for p in paths]


def inspect_isolated(paths: list[Path], samples: str | None, behaviour: bool = True,
                     device_target: str = "CPU") -> list[Report]:
    """`inspect` of every path, each load in a worker process (one worker while none crashes)."""
    pending, reports = list(paths), []
    while pending:
        done, died = _run_worker(pending, samples, behaviour, device_target)
        reports += done
        pending = pending[len(done):]
        if pending and died is not None:
            culprit = pending.pop(0)
            size = culprit.stat().st_size if culprit.exists() else 0
            report = Report(culprit, size)
            report.add("structure", verdict.load_failed(died))
            reports.append(report)
        elif pending:  # the worker stopped without a reason: do not loop forever
            raise CheckpointError(f"{pending[0]}: the checkpoint worker ended early")
    return reports


def _run_worker(paths: list[Path], samples, behaviour: bool, device_target: str) -> tuple[list[Report], str | None]:
    command = [sys.executable, "-m", "fer_core.ckpt.worker", str(samples or "none"), device_target]
    with tempfile.TemporaryFile() as errors:  # MindSpore's chatter: only its last line is kept
        process = subprocess.Popen(command + ([] if behaviour else ["--no-behaviour"]), stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, stderr=errors, text=True,
                                   env={**os.environ, "GLOG_v": os.environ.get("GLOG_v", "3")})
        process.stdin.write("".join(f"{p}\n" for p in paths))
        process.stdin.close()
        reports = []
        for line in process.stdout:
            data = json.loads(line)
            if "error" in data:
                raise CheckpointError(data["error"])
            reports.append(Report.from_dict(data))
        code = process.wait()
        if code >= 0:
            errors.seek(0)
            tail = [line for line in errors.read().decode(errors="replace").splitlines() if line.strip()]
            return reports, (f"the check failed: {tail[-1][:200]}" if code and tail else None)
    name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else f"signal {-code}"
    return reports, f"MindSpore's loader crashed on it ({name})"


def main(argv: list[str]) -> int:
    samples, device_target = argv[0], argv[1]
    behaviour = "--no-behaviour" not in argv
    out = os.fdopen(os.dup(1), "w")  # the reports; anything else printed goes to stderr
    os.dup2(2, 1)
    faces = load_samples(None if samples == "none" else samples) if behaviour else None
    for line in sys.stdin:
        path = Path(line.rstrip("\n"))
        try:
            report = inspect(path, faces, behaviour, device_target)
        except CheckpointError as error:
            print(json.dumps({"error": str(error)}), file=out, flush=True)
            return 2
        print(json.dumps(report.to_dict()), file=out, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
