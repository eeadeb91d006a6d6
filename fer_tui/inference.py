"""The engine's worker processes as the TUI runs them: commands, and their JSON lines as events.

Test inference (`python -m fer_core.folder_infer`), the sample folder (`fer-tui samples`) and
the deep check (`fer-tui checkpoints --json`) all import mindspore, so they never run in the
TUI's process: each is an asyncio subprocess whose stdout lines are parsed as they arrive and
whose stderr (MindSpore's chatter) is kept only as a short tail for error messages.
FER_TUI_INFER swaps the inference worker (tests use a fake with fixed outputs).
"""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import sys
from collections import deque
from pathlib import Path
from typing import AsyncIterator

from fer_core import CLASS_NAMES

STDERR_LINES = 20
LINE_LIMIT = 1 << 20  # one JSON event is a few hundred bytes; a megabyte is plenty


def infer_command(ckpt: Path, folder: Path, arch: str | None = None) -> list[str]:
    custom = os.environ.get("FER_TUI_INFER")
    command = shlex.split(custom) if custom else [sys.executable, "-m", "fer_core.folder_infer"]
    command += ["--ckpt", str(ckpt), "--folder", str(folder)]
    return command + (["--arch", arch] if arch else [])


def samples_command(ckpt: Path, output: Path, csv: str = "demo", count: int = 3) -> list[str]:
    return [sys.executable, "-m", "fer_core.cli", "samples", "--csv", csv, "--ckpt", str(ckpt),
            "--num_samples", str(count), "--output", str(output)]


def samples_hint(ckpt: Path | None, output: Path) -> str:
    """The command line a user would type to make the sample folder."""
    ckpt_arg = f" --ckpt {shlex.quote(str(ckpt))}" if ckpt else ""
    return f"fer-tui samples --csv demo{ckpt_arg} --output {shlex.quote(str(output))}"


def export_command(ckpt: Path) -> list[str]:
    """`fer-tui export` to ONNX beside the checkpoint (never over an existing file)."""
    return [sys.executable, "-m", "fer_core.cli", "export", "--ckpt", str(ckpt)]


def deep_check_command(ckpt: Path, samples: Path | None) -> list[str]:
    command = [sys.executable, "-m", "fer_core.cli", "checkpoints", str(ckpt), "--json"]
    return command + ["--samples", str(samples) if samples else "demo"]


def count_faces(folder: Path) -> int:
    """Images in a sample folder (ROOT/<class>/*.png); 0 when it is missing or empty."""
    from fer_core import data  # numpy: only when the checkpoints screen asks, in a thread

    if not folder.is_dir():
        return 0
    try:
        pairs, _ = data.scan_class_folder(folder)
    except (OSError, ValueError):
        return 0
    if pairs:
        return len(pairs)
    return sum(1 for f in folder.iterdir() if f.is_file() and f.suffix.lower() in data.IMAGE_SUFFIXES)


def class_name(label) -> str:
    return CLASS_NAMES[label] if isinstance(label, int) and 0 <= label < len(CLASS_NAMES) else "?"


class WorkerProcess:
    """One engine subprocess: `events()` yields its stdout JSON objects, `kill()` stops it.

    The stream always ends with `{"event": "exit", "status": N, "stderr": tail}` (status None
    if it could not start), so a worker that dies without saying why is still reported.
    """

    def __init__(self, command: list[str]) -> None:
        self.command = command
        self.process: asyncio.subprocess.Process | None = None
        self.stderr: deque[str] = deque(maxlen=STDERR_LINES)
        self.output: list[str] = []  # stdout lines that were not JSON (a CLI's own text)

    async def events(self) -> AsyncIterator[dict]:
        env = {**os.environ, "GLOG_v": os.environ.get("GLOG_v", "3")}
        try:
            self.process = await asyncio.create_subprocess_exec(
                *self.command, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE, env=env, limit=LINE_LIMIT, start_new_session=True)
        except OSError as error:
            yield {"event": "exit", "status": None,
                   "stderr": f"cannot start {self.command[0]}: {error.strerror}"}
            return
        reader = asyncio.create_task(self._drain_stderr())
        try:
            assert self.process.stdout is not None
            async for raw in self.process.stdout:
                line = raw.decode("utf-8", "replace").strip()
                try:
                    event = json.loads(line)
                except json.JSONDecodeError:
                    if line:
                        self.output.append(line)
                    continue
                if isinstance(event, dict):
                    yield event
            status = await self.process.wait()
            await reader
            yield {"event": "exit", "status": status, "stderr": self.stderr_tail()}
        finally:
            self.kill()
            reader.cancel()

    def stderr_tail(self, chars: int = 300) -> str:
        return " ".join(" ".join(self.stderr).split())[-chars:]

    async def _drain_stderr(self) -> None:
        assert self.process is not None and self.process.stderr is not None
        async for raw in self.process.stderr:
            line = raw.decode("utf-8", "replace").strip()
            if line:
                self.stderr.append(line)

    def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            try:
                self.process.kill()
            except ProcessLookupError:
                pass


async def run_to_end(command: list[str]) -> tuple[int | None, list[dict], WorkerProcess]:
    """Run a CLI verb to its end: (exit status, JSON objects it printed, the worker)."""
    worker = WorkerProcess(command)
    objects, status = [], None
    async for event in worker.events():
        if event.get("event") == "exit":
            status = event["status"]
        else:
            objects.append(event)
    return status, objects, worker
