"""The one reader of the engine's jobs (`python -m fer_core.job KIND …`) in the dashboard.

Test inference, the deep check, the sample folder, exports and the data check before a run
import MindSpore (or decode a whole data set), so they never run in the TUI's process: each is
an asyncio subprocess whose stdout lines are read as typed events as they arrive, and whose
stderr (MindSpore's chatter) is kept only as a short tail for when it dies without a word.
FER_TUI_JOB replaces `python -m fer_core.job` (tests use a fake that answers `infer`).
"""

from __future__ import annotations

import asyncio
import os
import shlex
import sys
from collections.abc import AsyncIterator
from pathlib import Path

from fer_core.job.events import Error, Progress, Result
from fer_core.job.reader import Event, EventReader, StderrTail, job_env

LINE_LIMIT = 1 << 20  # one event is a few hundred bytes (a check report a few KB)


def job_command(kind: str, *args: str) -> list[str]:
    custom = os.environ.get("FER_TUI_JOB")
    return [*(shlex.split(custom) if custom else [sys.executable, "-m", "fer_core.job"]), kind, *args]


def infer_command(ckpt: Path, folder: Path, arch: str | None = None) -> list[str]:
    return job_command("infer", "--ckpt", str(ckpt), "--folder", str(folder), *(["--arch", arch] if arch else []))


def check_command(ckpt: Path, samples: Path | None) -> list[str]:
    return job_command("check", "--samples", str(samples) if samples else "demo", "--", str(ckpt))


def samples_command(ckpt: Path | None, output: Path, csv: str = "demo", count: int = 3) -> list[str]:
    """Without `ckpt` the faces are taken by their true class (a fair folder for any model)."""
    ckpt_args = ["--ckpt", str(ckpt)] if ckpt else []
    return job_command("samples", "--csv", csv, *ckpt_args, "--num_samples", str(count), "--output", str(output))


def export_command(ckpt: Path, replace: bool = False) -> list[str]:
    """ONNX beside the checkpoint; over an existing file only with `replace` (the user said so)."""
    return job_command("export", "--ckpt", str(ckpt), *(["--force"] if replace else []))


def data_command(path: str) -> list[str]:
    return job_command("data", path)


def samples_hint(ckpt: Path | None, output: Path, csv: str = "demo") -> str:
    """The command line a user would type to make the sample folder."""
    ckpt_arg = f" --ckpt {shlex.quote(str(ckpt))}" if ckpt else ""
    return f"fer-tui samples --csv {shlex.quote(csv)}{ckpt_arg} --output {shlex.quote(str(output))}"


class JobProcess:
    """One job subprocess: `events()` yields its events, `kill()` stops it.

    The events always end with a Result or an Error: a job that dies without either (killed,
    crashed, a bad flag) ends with an Error made of its exit status and stderr tail.
    """

    def __init__(self, command: list[str]) -> None:
        self.command = command
        self.process: asyncio.subprocess.Process | None = None
        self.stderr = StderrTail()

    async def events(self) -> AsyncIterator[Event]:
        try:
            self.process = await asyncio.create_subprocess_exec(
                *self.command,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=job_env(),
                limit=LINE_LIMIT,
                start_new_session=True,
            )
        except OSError as error:
            yield Error(message=f"cannot start {self.command[0]}: {error.strerror}")
            return
        drain = asyncio.create_task(self._drain_stderr())
        reader = EventReader()
        try:
            assert self.process.stdout is not None
            async for raw in self.process.stdout:
                event = reader.feed(raw)
                if event is not None:
                    yield event
            status = await self.process.wait()
            await drain
            last = reader.unfinished(status, self.stderr)
            if last is not None:
                yield last
        finally:
            self.kill()
            drain.cancel()

    async def _drain_stderr(self) -> None:
        assert self.process is not None and self.process.stderr is not None
        async for raw in self.process.stderr:
            self.stderr.add(raw)

    def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            try:
                self.process.kill()
            except ProcessLookupError:
                pass


async def run_job(command: list[str]) -> tuple[Result | Error, list[Progress]]:
    """Run a job to its end: its last event (a Result or an Error) and its progress events."""
    progress: list[Progress] = []
    last: Result | Error = Error(message="the job said nothing")
    async for event in JobProcess(command).events():
        if isinstance(event, Progress):
            progress.append(event)
        elif isinstance(event, (Result, Error)):
            last = event
    return last, progress
