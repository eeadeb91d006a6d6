"""Fixtures for driving the real app: fake trainer, fixed run data, a frozen clock."""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fer_core import CLASS_NAMES
from fer_core.runs import rundir
from tests.helpers import NOW, make_run, metrics_row  # noqa: F401 - the functional tests' run data

FAKE_TRAINER = Path(__file__).resolve().parent.parent / "fake_trainer.py"
SIZE = (80, 24)


@pytest.fixture
def root(tmp_path, monkeypatch) -> Path:
    """The checkpoints root (set by the autouse fixture); cwd is its parent for short paths."""
    monkeypatch.chdir(tmp_path)
    path = Path(os.environ["FER_TUI_CHECKPOINTS"])
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def fake_trainer(monkeypatch, root):
    """Launches go to tests/fake_trainer.py; every trainer still alive at the end is killed."""
    monkeypatch.setenv("FER_TUI_TRAINER", f"{sys.executable} {FAKE_TRAINER}")
    monkeypatch.setenv("FAKE_TRAINER_EPOCH_SECONDS", "0.3")
    yield monkeypatch
    for run in rundir.find_runs(root):
        pid = run.status.pid
        if rundir.pid_alive(pid):
            os.killpg(pid, signal.SIGKILL)  # new session: the pid is its group's id


def screen_text(app) -> str:
    """What the terminal shows, as plain text (the top screen, modals included)."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def region_text(app, widget) -> list[str]:
    """The rows a widget's content area shows on the screen, as plain text."""
    region = widget.content_region
    rows = screen_text(app).splitlines()[region.y : region.bottom]
    return [row[region.x : region.right] for row in rows]


async def wait_for(pilot, predicate: Callable[[], Any], timeout: float = 15.0) -> Any:
    """Let the app run until `predicate()` is truthy; fail with a clear message if it never is."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        await pilot.pause(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {predicate.__doc__ or predicate}")


async def notified(pilot, text: str, timeout: float = 15.0) -> str:
    """The first notification whose message holds `text`, once the app has taken it in (a
    notify is a message to the app: it lands a moment after the code that sent it)."""
    app = pilot.app
    found = lambda: next((str(n.message) for n in app._notifications if text in str(n.message)), None)
    return await wait_for(pilot, found, timeout)


async def wait_for_screen(pilot, screen_type: type, timeout: float = 15.0) -> Any:
    """The app's screen once it is a `screen_type` *and* mounted, so its widgets can be queried
    (a screen is current before its compose has run)."""
    app = pilot.app
    return await wait_for(
        pilot, lambda: isinstance(app.screen, screen_type) and app.screen.is_mounted and app.screen, timeout
    )


# ---------------------------------------------------------------- sample faces and a fake job

FAKE_JOB = Path(__file__).resolve().parent / "fake_job.py"


def write_faces(folder: Path, per_class: int = 1, seed: int = 0) -> None:
    """Synthetic faces as folder/<class>/face_<n>.png (the layout `fer-tui samples` writes)."""
    import cv2

    from fer_core.data.synthetic import draw_faces

    images, labels = draw_faces(per_class, seed)
    counts = [0] * len(CLASS_NAMES)
    for image, label in zip(images, labels):
        counts[label] += 1
        path = folder / CLASS_NAMES[label] / f"face_{counts[label]}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(path), image)


@pytest.fixture
def fixed_samples() -> Path:
    """The default sample folder with one synthetic face per class (fixed seed)."""
    folder = Path(os.environ["FER_TUI_SAMPLES"])
    write_faces(folder)
    return folder


@pytest.fixture
def fake_worker(monkeypatch):
    monkeypatch.setenv("FER_TUI_JOB", f"{sys.executable} {FAKE_JOB}")
    return monkeypatch
