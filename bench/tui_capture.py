"""Text captures of every screen at 80x24 (for the README), from two fake runs driven to the end,
and the Checkpoints screen after one real test inference of the shipped demo model on the
sample folder (a MindSpore worker: a few seconds).

    .venv/bin/python bench/tui_capture.py
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def text(app) -> str:
    return "\n".join(strip.text.rstrip() for strip in app.screen._compositor.render_strips())


async def capture(tmp: Path) -> None:
    from fer_core import config
    from fer_core.runs import launcher, rundir
    from fer_tui.app import FerApp

    demo = config.load_preset("demo").config
    done = []
    for lr in (3e-3, 1e-3):  # two finished runs to compare
        run_dir = rundir.create_run(demo.model_copy(update={"lr": lr}), "demo")
        launcher.launch_detached(run_dir)
        done.append(run_dir)
        time.sleep(1.1)  # distinct run ids
    while any(rundir.read_status(d).state != "finished" for d in done):
        time.sleep(0.2)

    app = FerApp(reattach=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.5)
        shots = [("Train", text(app))]
        await pilot.press("question_mark")
        await pilot.pause(0.3)
        shots.append(("Help (?)", text(app)))
        await pilot.press("escape", "r")
        await pilot.pause(0.5)
        shots.append(("Runs (r)", text(app)))
        app.screen.query_one("#runs-table").focus()
        await pilot.press("space", "down", "space", "c")
        await pilot.pause(0.5)
        shots.append(("Compare (space, space, c)", text(app)))
        app.open_run(done[0])
        await pilot.pause(0.8)
        shots.append(("Run (enter on a run)", text(app)))
        shots.append(("Checkpoints (k, then i)", await checkpoints_after_inference(app, pilot)))
    for title, shot in shots:
        print(f"── {title} " + "─" * (76 - len(title)))
        print(shot)
        print()


async def checkpoints_after_inference(app, pilot) -> str:
    from fer_core import locations
    from fer_tui.widgets.ckpt_table import CkptTable

    await pilot.press("k")
    while not app.screen.query(CkptTable) or not app.screen.query_one(CkptTable).row_count:
        await pilot.pause(0.2)
    screen = app.screen
    screen.query_one(CkptTable).select(locations.shipped_dir() / "demo-tiny_cnn" / "best_model.ckpt")
    await pilot.press("i")
    await pilot.pause(0.5)
    while screen.running:
        await pilot.pause(0.2)
    await pilot.pause(0.5)
    return text(app)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.update(
            {
                "FER_TUI_CHECKPOINTS": str(Path(tmp) / "checkpoints"),
                "FER_TUI_USER_PRESETS": str(Path(tmp) / "presets"),
                "FER_TUI_TRAINER": f"{sys.executable} {ROOT / 'tests' / 'fake_trainer.py'}",
                "FAKE_TRAINER_EPOCH_SECONDS": "0.2",
            }
        )
        os.chdir(tmp)
        sys.path.insert(0, str(ROOT))
        asyncio.run(capture(Path(tmp)))


if __name__ == "__main__":
    main()
