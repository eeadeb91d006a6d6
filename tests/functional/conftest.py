"""Fixtures for driving the real app: fake trainer, fixed run data, a frozen clock."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any, Callable

import pytest

from fer_core import fileio, runs
from fer_core.config import TrainConfig

FAKE_TRAINER = Path(__file__).resolve().parent.parent / "fake_trainer.py"
NOW = 1_790_000_000.0  # a fixed "now" so ages in snapshots never move
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
    for run in runs.find_runs(root):
        pid = run.status.get("pid")
        if runs.pid_alive(pid):
            os.killpg(pid, signal.SIGKILL)  # new session: the pid is its group's id


def screen_text(app) -> str:
    """What the terminal shows, as plain text (the top screen, modals included)."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def region_text(app, widget) -> list[str]:
    """The rows a widget's content area shows on the screen, as plain text."""
    region = widget.content_region
    rows = screen_text(app).splitlines()[region.y:region.bottom]
    return [row[region.x:region.right] for row in rows]


async def wait_for(pilot, predicate: Callable[[], Any], timeout: float = 15.0) -> Any:
    """Let the app run until `predicate()` is truthy; fail with a clear message if it never is."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        await pilot.pause(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {predicate.__doc__ or predicate}")


async def wait_for_screen(pilot, screen_type: type, timeout: float = 15.0) -> Any:
    """The app's screen once it is a `screen_type` *and* mounted, so its widgets can be queried
    (a screen is current before its compose has run)."""
    app = pilot.app
    return await wait_for(pilot, lambda: isinstance(app.screen, screen_type) and app.screen.is_mounted and app.screen,
                          timeout)


def metrics_row(epoch: int, val_acc: float, is_best: bool = False, lr: float = 3e-3) -> dict:
    return {"epoch": epoch, "train_loss": round(2.0 - 0.15 * epoch, 4),
            "train_acc": round(val_acc + 0.04, 4), "val_loss": round(2.1 - 0.12 * epoch, 4),
            "val_acc": val_acc, "lr": lr, "seconds": 10.0, "images_per_second": 900.0,
            "is_best": is_best, "patience_left": 4}


def make_run(root: Path, run_id: str, *, state: str = "finished", preset: str = "demo",
             accs: tuple[float, ...] = (0.3, 0.42, 0.5), config: dict | None = None,
             pid: int | None = None, started: float = NOW - 3600, log: str = "") -> Path:
    """A run directory with fixed content (no clocks): for listings, compare and snapshots."""
    run_dir = root / run_id
    run_dir.mkdir(parents=True)
    cfg = TrainConfig(**{"data_csv": "demo", "arch": "tiny_cnn", "epochs": 8, "lr": 3e-3,
                         **(config or {})})
    fileio.write_toml(run_dir / runs.CONFIG, cfg.model_dump())
    best = max(accs) if accs else None
    for epoch, acc in enumerate(accs, 1):
        row = metrics_row(epoch, acc, is_best=acc == best, lr=cfg.lr * (1 - epoch / 10))
        fileio.append_line(run_dir / runs.METRICS, json.dumps(row))
    status = {"run_id": run_id, "preset": preset, "state": state, "pid": pid,
              "started": started, "updated": started + 600, "epoch": len(accs),
              "epochs": cfg.epochs, "step": 10, "steps": 10, "images_per_second": 900.0,
              "eta_seconds": None, "best_val_acc": best,
              "best_epoch": accs.index(best) + 1 if accs else None, "patience_left": 4,
              "message": ""}
    fileio.write_json(run_dir / runs.STATUS, status)
    (run_dir / runs.LOG).write_text(log or "".join(
        f"Epoch {e}/{cfg.epochs} - Validation Accuracy: {a:.4f}\n" for e, a in enumerate(accs, 1)))
    return run_dir
