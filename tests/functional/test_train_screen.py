"""Train screen: presets fill the form, fields validate as you type, presets save, bad paths stop a start."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Button, Input, OptionList, Select

from fer_core import config as cfg
from fer_core.runs import rundir
from fer_tui.app import FerApp
from fer_tui.screens.train import TrainScreen
from fer_tui.widgets.config_form import ConfigForm

from .conftest import SIZE, region_text, screen_text, wait_for


async def type_into(pilot, field: str, text: str) -> None:
    app = pilot.app
    widget = app.screen.query_one(f"#f-{field}", Input)
    widget.focus()
    widget.value = ""
    await pilot.press(*text)
    await pilot.pause()


class TestPresets:
    async def test_every_preset_is_listed_with_its_purpose(self, root):
        app = FerApp(root=root, reattach=False)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            assert isinstance(app.screen, TrainScreen)
            options = app.screen.query_one("#presets", OptionList)
            ids = [options.get_option_at_index(i).id for i in range(options.option_count)]
            assert ids == cfg.preset_names()
            demo = cfg.load_preset("demo")
            assert demo.description[:30] in screen_text(app)

    async def test_choosing_a_preset_fills_the_form(self, root):
        app = FerApp(root=root, reattach=False)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            names = cfg.preset_names()
            target = next(n for n in names if n.startswith("gpu"))
            options = app.screen.query_one("#presets", OptionList)
            options.focus()
            options.highlighted = 0
            await pilot.press(*["down"] * names.index(target), "enter")
            await pilot.pause()
            expected = cfg.load_preset(target).config
            form = app.screen.query_one(ConfigForm)
            assert app.screen.preset_name == target
            assert app.screen.query_one("#f-arch", Select).value == expected.arch
            assert app.screen.query_one("#f-device_target", Select).value == expected.device_target
            assert form.config() == expected
            assert app.focused.id == "f-data_csv"  # enter moves on to the form


EIGHT = ("cpu-augment", "cpu-basic", "cpu-best", "cpu-fast", "cpu-tuned", "demo", "gpu-fast", "gpu-recommended")


class TestPresetsAt80x24:
    async def test_eight_presets_and_one_of_yours_are_all_in_view(self, root, tmp_path, monkeypatch):
        from fer_core import fileio

        shipped = tmp_path / "presets"
        for name in EIGHT:
            fileio.write_toml(
                shipped / f"{name}.toml",
                {"description": f"{name}: " + "purpose " * 12, "data_csv": "demo", "epochs": 3},
            )
        monkeypatch.setenv("FER_TUI_PRESETS", str(shipped))
        cfg.save_preset("my-gpu-recommended", cfg.TrainConfig(), "mine")
        app = FerApp(root=root, reattach=False)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            presets = app.screen.query_one("#presets", OptionList)
            await wait_for(pilot, lambda: presets.option_count == 9)
            shown = [row.strip() for row in region_text(app, presets)]
            assert [row for row in shown if row] == [*EIGHT, "my-gpu-recommended"]
            # the highlighted preset's purpose is under the form, and follows the highlight
            assert "demo: demo: purpose" in screen_text(app)
            presets.focus()
            await pilot.press("end")
            await wait_for(pilot, lambda: "my-gpu-recommended: mine  (yours)" in screen_text(app))
            assert app.screen.query_one(ConfigForm).size.height >= 12  # the form kept its rows

    async def test_every_shipped_preset_is_in_view(self, root):
        app = FerApp(root=root, reattach=False)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            shown = " ".join(region_text(app, app.screen.query_one("#presets", OptionList)))
            assert all(name in shown.split() for name in cfg.preset_names()), shown


class TestValidation:
    async def test_a_bad_value_shows_the_schema_message_and_blocks_start(self, root):
        app = FerApp(root=root, reattach=False)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await type_into(pilot, "lr", "-1")
            error = app.screen.query_one("#err-lr")
            assert error.display
            assert "lr must be > 0, got -1" in str(error.content)
            assert "lr must be > 0, got -1" in screen_text(app)
            assert app.screen.query_one("#start", Button).disabled
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert not list(root.rglob(rundir.STATUS)), "a run was created from an invalid form"

    async def test_fixing_the_value_clears_it_and_shows_the_diff(self, root):
        app = FerApp(root=root, reattach=False)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await type_into(pilot, "epochs", "abc")
            assert "epochs must be an integer" in str(app.screen.query_one("#err-epochs").content)
            await type_into(pilot, "epochs", "3")
            assert not app.screen.query_one("#err-epochs").display
            diff = str(app.screen.query_one("#diff").content)
            epochs = cfg.load_preset("demo").config.epochs
            assert "vs demo" in diff and f"epochs {epochs}→3" in diff

    async def test_a_cross_field_error_clears_when_the_other_field_is_fixed(self, root):
        app = FerApp(root=root, reattach=False)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await type_into(pilot, "min_lr", "0.5")  # demo's lr is 0.003
            assert "min_lr must be <= lr" in app.screen.query_one(ConfigForm).errors["min_lr"]
            await type_into(pilot, "lr", "0.9")
            assert app.screen.query_one(ConfigForm).errors == {}

    async def test_the_data_files_error_shows_under_its_row_and_goes_when_fixed(self, root):
        # the one field whose editor shares its cell with a button (the file picker's)
        app = FerApp(root=root, reattach=False)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            field = app.screen.query_one("#f-data_csv", Input)
            field.focus()
            field.value = ""
            await wait_for(pilot, lambda: app.screen.query("#err-data_csv"))
            await pilot.pause()
            error = app.screen.query_one("#err-data_csv")
            assert (error.region.x, error.region.y) == (field.region.x, field.region.y + 1)
            assert region_text(app, error)[0].strip() == "data_csv must not be empty, got ''"
            assert region_text(app, app.screen.query_one("#f-device_target"))[0].strip().startswith("CPU")
            await pilot.press(*"demo")
            await wait_for(pilot, lambda: not error.display)
            assert app.screen.query_one(ConfigForm).errors == {}

    async def test_a_missing_data_file_is_an_error_notification_not_a_run(self, root):
        app = FerApp(root=root, reattach=False)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await type_into(pilot, "data_csv", "nowhere/fer2013.csv")
            await pilot.press("ctrl+s")
            await pilot.pause()
            messages = [n.message for n in app._notifications]
            assert any("no such file" in m for m in messages), messages
            assert any(n.severity == "error" for n in app._notifications)
            assert not list(root.rglob(rundir.STATUS))
            assert isinstance(app.screen, TrainScreen)

    async def test_a_device_this_machine_lacks_is_an_error_notification_not_a_run(self, root):
        from fer_core.errors import ConfigError
        from fer_core.runs.launcher import check_device

        try:
            check_device("GPU")
            pytest.skip("this machine has a GPU driver")
        except ConfigError:
            pass
        app = FerApp(root=root, reattach=False)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            app.screen.query_one("#f-device_target", Select).value = "GPU"
            await type_into(pilot, "data_csv", "demo")
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: any("no GPU driver" in n.message for n in app._notifications))
            assert not list(root.rglob(rundir.STATUS)), "no run directory for a device this machine lacks"
            assert isinstance(app.screen, TrainScreen)

    async def test_more_workers_than_cores_is_an_error_notification_not_a_run(self, root):
        import os

        workers = len(os.sched_getaffinity(0)) + 1
        app = FerApp(root=root, reattach=False)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await type_into(pilot, "batch_size", str(8 * workers))
            await type_into(pilot, "workers", str(workers))
            assert not app.screen.query_one(ConfigForm).errors, "a valid config: the launch check refuses it"
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: any("cores" in n.message for n in app._notifications))
            assert not list(root.rglob(rundir.STATUS)), "no run directory for workers this machine cannot start"
            assert isinstance(app.screen, TrainScreen)

    async def test_a_bad_csv_row_is_an_error_notification_not_a_failed_run(self, root, tmp_path):
        from tests.helpers import fer_rows, write_csv

        rows = fer_rows(1)
        rows[3] = "9," + rows[3].split(",", 1)[1]  # label 9 on line 5
        csv = write_csv(tmp_path / "bad.csv", rows)
        app = FerApp(root=root, reattach=False)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await type_into(pilot, "data_csv", str(csv))
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: any("line 5" in n.message for n in app._notifications), timeout=60)
            error = next(n for n in app._notifications if "line 5" in n.message)
            assert error.severity == "error" and "emotion must be 0..6, got '9'" in error.message
            assert not list(root.rglob(rundir.STATUS)), "no run directory for data that cannot train"
            assert isinstance(app.screen, TrainScreen)


class TestSwitches:
    async def test_a_switch_reads_on_or_off_in_full_at_80_columns(self, root):
        app = FerApp(root=root, reattach=False)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            switch = app.screen.query_one("#f-mixup")
            switch.focus()
            app.screen.query_one(ConfigForm).scroll_to_widget(switch, animate=False)
            await pilot.pause()

            def shown() -> str:
                return region_text(app, switch)[0]

            was = switch.value
            assert shown().split() == (["▐X▌", "on"] if was else ["▐", "▌", "off"]), shown()
            await pilot.press("space")
            await wait_for(pilot, lambda: ("off" if was else "on") in shown())
            assert ("X" in shown()) != was and "…" not in shown()
            assert app.screen.query_one(ConfigForm).config().mixup is not was


class TestSavePreset:
    async def test_save_as_preset_writes_a_toml_and_lists_it(self, root):
        app = FerApp(root=root, reattach=False)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await type_into(pilot, "epochs", "5")
            await pilot.press("ctrl+n")
            await wait_for(pilot, lambda: app.screen.query("#description"))
            app.screen.query_one("#name", Input).value = "short-demo"
            app.screen.query_one("#description", Input).value = "demo, five epochs"
            await pilot.click("#save")
            await wait_for(pilot, lambda: isinstance(app.screen, TrainScreen))
            saved = cfg.load_preset("short-demo")
            assert saved.user and saved.config.epochs == 5
            assert saved.description == "demo, five epochs"
            assert app.screen.preset_name == "short-demo"
            assert "short-demo" in screen_text(app)

    async def test_a_shipped_name_is_refused_with_a_message(self, root):
        app = FerApp(root=root, reattach=False)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await pilot.press("ctrl+n")
            await wait_for(pilot, lambda: app.screen.query("#description"))
            app.screen.query_one("#name", Input).value = "demo"
            await pilot.click("#save")
            await wait_for(pilot, lambda: any("shipped" in n.message for n in app._notifications))
            assert app.screen.query("#description"), "the dialog stays open to pick another name"
            assert not Path(cfg.locations.user_presets_dir(), "demo.toml").exists()
            name = app.screen.query_one("#name", Input)
            name.value = "demo-2"
            name.focus()
            await pilot.press("enter")  # a toast may cover the Save button now
            await wait_for(pilot, lambda: isinstance(app.screen, TrainScreen))
            assert cfg.load_preset("demo-2").user
