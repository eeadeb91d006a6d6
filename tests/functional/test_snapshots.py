"""Snapshots of the main screens at 80x24, from fixed run data and fixed presets (no clocks)."""

from __future__ import annotations

import pytest

from fer_core import fileio
from fer_tui.app import FerApp

from .conftest import NOW, SIZE, make_run

PRESETS = {
    "demo": {"description": "Synthetic faces, tiny model, CPU: a minute, no download",
             "data_csv": "demo", "arch": "tiny_cnn", "batch_size": 64, "epochs": 8, "lr": 3e-3,
             "min_lr": 1e-5, "warmup_epochs": 1, "patience": 4, "augment": True},
    "cpu-basic": {"description": "CPU, no augmentation: the classic 50-epoch baseline",
                  "data_csv": "fer2013.csv", "arch": "fer_cnn", "epochs": 50},
}


@pytest.fixture
def fixed(root, monkeypatch, tmp_path):
    """Presets that do not change when the shipped ones do, and two ended runs."""
    presets = tmp_path / "presets"
    for name, data in PRESETS.items():
        fileio.write_toml(presets / f"{name}.toml", data)
    monkeypatch.setenv("FER_TUI_PRESETS", str(presets))
    make_run(root, "20260101-090000-demo", accs=(0.31, 0.44, 0.52, 0.57, 0.59, 0.58),
             started=NOW - 7200)
    make_run(root, "20260102-090000-cpu-basic", preset="cpu-basic", state="stopped",
             accs=(0.28, 0.39, 0.47, 0.51), config={"lr": 1e-3, "batch_size": 64, "epochs": 50},
             started=NOW - 600)
    return root


def app_for(root):
    return FerApp(root=root, reattach=False, clock=lambda: NOW)


class TestTrainSnapshots:
    def test_train_screen(self, fixed, snap_compare):
        assert snap_compare(app_for(fixed), terminal_size=SIZE)

    def test_train_screen_with_an_error(self, fixed, snap_compare):
        async def bad_lr(pilot):
            field = pilot.app.screen.query_one("#f-lr")
            field.focus()
            field.value = "-1"
            await pilot.pause()
            field.blur()  # no blinking cursor in the picture
            await pilot.pause()

        assert snap_compare(app_for(fixed), terminal_size=SIZE, run_before=bad_lr)


class TestRunSnapshots:
    def test_run_screen_of_an_ended_run(self, fixed, snap_compare):
        async def open_run(pilot):
            pilot.app.open_run(fixed / "20260101-090000-demo")
            await pilot.pause(0.3)

        assert snap_compare(app_for(fixed), terminal_size=SIZE, run_before=open_run)


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


class TestHelpSnapshots:
    def test_help_screen(self, fixed, snap_compare):
        assert snap_compare(app_for(fixed), terminal_size=SIZE, press=["question_mark"])
