"""Snapshots of the main screens at 80x24, from fixed run data and fixed presets (no clocks)."""

from __future__ import annotations

import json

import pytest

from fer_core import fileio
from fer_tui.app import FerApp

from .conftest import NOW, SIZE, make_run, wait_for

PRESETS = {
    "demo": {
        "description": "Synthetic faces, tiny model, CPU: a minute, no download",
        "data_csv": "demo",
        "arch": "tiny_cnn",
        "batch_size": 64,
        "epochs": 8,
        "lr": 3e-3,
        "min_lr": 1e-5,
        "warmup_epochs": 1,
        "patience": 4,
        "augment": True,
    },
    "cpu-basic": {
        "description": "CPU, no augmentation: the classic 50-epoch baseline",
        "data_csv": "fer2013.csv",
        "arch": "fer_cnn",
        "epochs": 50,
    },
}
# eight presets, as shipped: the list must show them all at 80x24
PRESETS.update(
    {
        name: {"description": f"{name}: a preset", "data_csv": "fer2013.csv"}
        for name in ("cpu-augment", "cpu-best", "cpu-fast", "cpu-tuned", "gpu-fast", "gpu-recommended")
    }
)


@pytest.fixture
def fixed(root, monkeypatch, tmp_path):
    """Presets that do not change when the shipped ones do, and two ended runs."""
    presets = tmp_path / "presets"
    for name, data in PRESETS.items():
        fileio.write_toml(presets / f"{name}.toml", data)
    monkeypatch.setenv("FER_TUI_PRESETS", str(presets))
    make_run(root, "20260101-090000-demo", accs=(0.31, 0.44, 0.52, 0.57, 0.59, 0.58), started=NOW - 7200)
    make_run(
        root,
        "20260102-090000-cpu-basic",
        preset="cpu-basic",
        state="stopped",
        accs=(0.28, 0.39, 0.47, 0.51),
        config={"lr": 1e-3, "batch_size": 64, "epochs": 50},
        started=NOW - 600,
    )
    return root


async def opened(pilot, run_dir, state: str) -> None:
    """Open a run and wait (however loaded the machine) until its charts and log are drawn."""
    from fer_tui.screens.run import RunScreen

    pilot.app.open_run(run_dir)
    screen = await wait_for(pilot, lambda: isinstance(pilot.app.screen, RunScreen) and pilot.app.screen)
    await wait_for(pilot, lambda: screen.state == state and screen.query_one("#log").path)
    await pilot.pause(0.2)


def app_for(root):
    return FerApp(root=root, reattach=False, clock=lambda: NOW)


class TestTrainSnapshots:
    def test_train_screen(self, fixed, snap_compare):
        assert snap_compare(app_for(fixed), terminal_size=SIZE)

    def test_train_screen_with_an_error(self, fixed, snap_compare):
        async def bad_lr(pilot):
            screen = pilot.app.screen
            field = screen.query_one("#f-lr")
            field.focus()
            await wait_for(pilot, lambda: field.has_focus)
            field.value = "-1"
            # the whole chain has run: the field checked, the form's message to the screen, whose
            # summary and Start button follow it in one handler (one pause was not always enough
            # on a loaded machine)
            await wait_for(pilot, lambda: screen.query_one("#start").disabled)
            field.blur()  # no blinking cursor in the picture
            await wait_for(pilot, lambda: not field.has_focus)
            await pilot.pause()

        assert snap_compare(app_for(fixed), terminal_size=SIZE, run_before=bad_lr)


class TestRunSnapshots:
    def test_run_screen_of_an_ended_run(self, fixed, snap_compare):
        async def open_run(pilot):
            await opened(pilot, fixed / "20260101-090000-demo", "finished")

        assert snap_compare(app_for(fixed), terminal_size=SIZE, run_before=open_run)

    def test_run_screen_of_a_failed_run(self, fixed, snap_compare):
        failed = make_run(fixed, "20260103-090000-demo", state="failed", accs=(0.31, 0.44), started=NOW - 300)
        status = json.loads((failed / "status.json").read_text())
        fileio.write_json(
            failed / "status.json",
            {
                **status,
                "message": (
                    "RuntimeError: device GPU is not available on this machine (no CUDA driver found); "
                    "train with --device_target CPU or install the GPU build of MindSpore 2.8.0"
                ),
            },
        )

        async def open_run(pilot):
            await opened(pilot, failed, "failed")

        assert snap_compare(app_for(fixed), terminal_size=SIZE, run_before=open_run)


def per_class_run(root, started: float = NOW - 900):
    """A run that over-fits (val stalls from epoch 5, train climbs) with per-class figures."""
    accs = (0.31, 0.44, 0.52, 0.57, 0.60, 0.601, 0.598, 0.60, 0.599, 0.60)
    return make_run(
        root,
        "20260104-090000-cpu-best",
        preset="cpu-best",
        accs=accs,
        train_accs=tuple(round(a + 0.01 + 0.02 * k, 4) for k, a in enumerate(accs)),
        per_class=True,
        config={"epochs": 10, "weight_decay": 0.05, "augment": True, "augment_policy": "crop_flip"},
        started=started,
    )


class TestPerClassSnapshots:
    """The per-class view (v on a run): table, confusions, diagnosis; 80x24 and 120x40."""

    def per_class_view(self, root):
        run_dir = per_class_run(root)

        async def open_view(pilot):
            await opened(pilot, run_dir, "finished")
            await pilot.press("v")
            await wait_for(pilot, lambda: pilot.app.screen.has_class("-classes"))
            pilot.app.screen.set_focus(None)  # no focus ring in the picture
            await pilot.pause(0.2)

        return open_view

    def test_per_class_view_80x24(self, fixed, snap_compare):
        assert snap_compare(app_for(fixed), terminal_size=SIZE, run_before=self.per_class_view(fixed))

    def test_per_class_view_120x40(self, fixed, snap_compare):
        assert snap_compare(app_for(fixed), terminal_size=(120, 40), run_before=self.per_class_view(fixed))


class TestRunsSnapshots:
    def test_runs_screen(self, fixed, snap_compare):
        assert snap_compare(app_for(fixed), terminal_size=SIZE, press=["r"])

    def test_compare_screen(self, fixed, snap_compare):
        async def compare(pilot):
            await pilot.press("r")
            await pilot.pause()
            pilot.app.screen.query_one("#runs-table").focus()
            await pilot.press("space", "down", "space", "c")
            await pilot.pause(0.3)

        assert snap_compare(app_for(fixed), terminal_size=SIZE, run_before=compare)

    def test_compare_screen_with_per_class_figures(self, fixed, snap_compare):
        per_class_run(fixed, started=NOW - 120)  # the two newest: the first two rows
        make_run(fixed, "20260105-090000-demo", accs=(0.4, 0.55, 0.7), per_class=True, started=NOW - 60)

        async def compare(pilot):
            await pilot.press("r")
            await pilot.pause()
            pilot.app.screen.query_one("#runs-table").focus()
            await pilot.press("space", "down", "space", "c")
            await wait_for(pilot, lambda: getattr(pilot.app.screen, "_classes_key", None))
            await pilot.pause(0.3)

        assert snap_compare(app_for(fixed), terminal_size=SIZE, run_before=compare)


class TestHelpSnapshots:
    def test_help_screen(self, fixed, snap_compare):
        assert snap_compare(app_for(fixed), terminal_size=SIZE, press=["question_mark"])


def live_run(root, run_id: str, accs: tuple[float, ...], step: int, steps_rows: int, log: str):
    """A run training now (this process is its `trainer`, the heartbeat fresh) with step
    curves up to `step` of epoch len(accs) + 1 (100 steps an epoch, a line every 4 steps)."""
    import os
    import time

    from fer_core.records import StepRow
    from fer_core.runs import rundir

    run_dir = make_run(root, run_id, state="running", accs=accs, pid=os.getpid(), started=NOW - 900, log=log)
    status = json.loads((run_dir / "status.json").read_text())
    fileio.write_json(
        run_dir / "status.json",
        {
            **status,
            "step": step,
            "steps": 100,
            "eta_seconds": 4321.0,
            "images_per_second": 812.0,
            "updated": time.time(),
        },
    )
    rows = []
    for n in range(1, steps_rows + 1):
        x = n * 0.04
        epoch, done = int(x - 1e-9) + 1, round((x - int(x - 1e-9)) * 100)
        rows.append(
            StepRow(
                x=round(x, 2),
                epoch=epoch,
                step=done,
                loss=round(2.0 - 0.4 * x, 4),
                acc=round(0.2 + 0.1 * x, 4),
                lr=3e-3,
            )
        )
    fileio.write_text(run_dir / rundir.STEPS, "".join(row.to_line() + "\n" for row in rows))
    return run_dir


class TestLiveRunSnapshots:
    def test_run_screen_inside_the_first_epoch(self, fixed, snap_compare):
        run_dir = live_run(fixed, "20260104-090000-demo", (), step=36, steps_rows=9, log="fer-tui trainer started\n")

        async def open_run(pilot):
            await opened(pilot, run_dir, "running")

        assert snap_compare(app_for(fixed), terminal_size=SIZE, run_before=open_run)

    def test_run_screen_of_a_resumed_run(self, fixed, snap_compare):
        log = (
            "Epoch 3/8 - Validation Accuracy: 0.5200\nStopped by SIGTERM (epoch 4 after step 40)\n"
            "Resuming at epoch 4/8 after step 40 (best 0.5200 at epoch 3)\n"
        )
        run_dir = live_run(fixed, "20260105-090000-demo", (0.31, 0.44, 0.52), step=72, steps_rows=93, log=log)

        async def open_run(pilot):
            await opened(pilot, run_dir, "running")

        assert snap_compare(app_for(fixed), terminal_size=SIZE, run_before=open_run)
