"""The Checkpoints screen under the pilot: a root of fixed checkpoints, and the app opened on
it with a row selected (the set-up most of its tests share)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from textual.pilot import Pilot

from fer_core.ckpt import sidecar
from fer_tui.app import FerApp
from fer_tui.screens.checkpoints import CheckpointsScreen
from fer_tui.widgets.ckpt_table import CkptTable

from .conftest import NOW, SIZE, wait_for, wait_for_screen

FIXED_RUN = "20260101-090000-demo"


def fixed_ckpts(root: Path) -> Path:
    """Real checkpoint files (the shipped demo model's bytes) with fixed sidecars, one of them
    expected to be larger than it is, and a file that is not a checkpoint at all; returns the
    `best_model.ckpt` of the demo run. The quick scan reads the sidecars and record headers."""
    real = (
        Path(__file__).resolve().parents[2] / "checkpoints" / "shipped" / "demo-tiny_cnn" / "best_model.ckpt"
    ).read_bytes()
    rows = [
        (FIXED_RUN, "best_model.ckpt", "tiny_cnn", len(real), "weights", 6, 0.5912),
        (FIXED_RUN, "final_model.ckpt", "tiny_cnn", len(real), "weights", 8, 0.5803),
        (FIXED_RUN, "last_state.ckpt", "tiny_cnn", len(real), "train_state", 8, 0.5803),
        # the sidecar expects more than its (complete) tensors make: a warning, not a broken file
        ("20251224-120000-cpu-basic", "best_model.ckpt", "tiny_cnn", 400_000, "weights", 31, 0.6421),
    ]
    for run, name, arch, expected, kind, epoch, acc in rows:
        path = root / run / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(real)
        sidecar.write_sidecar(
            path, sidecar.Sidecar(arch=arch, kind=kind, expected_bytes=expected, epoch=epoch, val_acc=acc)
        )
    (root / "20251224-120000-cpu-basic" / "model.ckpt").write_bytes(b"PK\x03\x04 a zip, not a checkpoint")
    # written when their runs trained (the listing puts the newest first), not in this order
    for run, age in ((FIXED_RUN, 3600), ("20251224-120000-cpu-basic", 8 * 86400)):
        for path in (root / run).iterdir():
            os.utime(path, (NOW - age, NOW - age))
    return root / FIXED_RUN / "best_model.ckpt"


async def open_checkpoints(app: FerApp, pilot: Pilot) -> CheckpointsScreen:
    await pilot.pause()
    await pilot.press("k")
    screen = await wait_for_screen(pilot, CheckpointsScreen)
    await wait_for(pilot, lambda: screen.query_one(CkptTable).row_count > 0 or None)
    return screen


async def select(pilot: Pilot, screen: CheckpointsScreen, path: Path) -> None:
    table = screen.query_one(CkptTable)
    table.focus()
    assert table.select(path), f"{path} is not listed"
    await pilot.pause()


@asynccontextmanager
async def on_checkpoints(
    root: Path, select_best: bool = True
) -> AsyncIterator[tuple[FerApp, Pilot, CheckpointsScreen, Path]]:
    """The app at 80×24 on the Checkpoints screen of `fixed_ckpts(root)`, its best model
    selected (or the cursor where the screen put it)."""
    best = fixed_ckpts(root)
    app = FerApp(root=root, reattach=False, clock=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_checkpoints(app, pilot)
        if select_best:
            await select(pilot, screen, best)
        yield app, pilot, screen, best
