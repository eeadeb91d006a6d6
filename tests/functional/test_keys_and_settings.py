"""Keys a new user reaches for (issue 27, item 6): `?` opens at the current screen, the palette
shows each action's keys and finds other screens' actions, escape leaves a form field, and the
settings file keeps the theme and remaps keys."""

from __future__ import annotations

import os
from pathlib import Path

import tomllib

from fer_tui.app import FerApp
from fer_tui.screens.checkpoints import CheckpointsScreen
from fer_tui.screens.help import HelpScreen
from fer_tui.screens.runs import RunsScreen
from fer_tui.screens.train import TrainScreen
from fer_tui.widgets.config_form import ConfigForm

from .conftest import SIZE, make_run, screen_text, wait_for, wait_for_screen


def settings_path() -> Path:
    return Path(os.environ["FER_TUI_CONFIG"])


async def test_help_opens_at_the_current_screens_keys(root):
    app = FerApp(root=root, reattach=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("k")
        await wait_for_screen(pilot, CheckpointsScreen)
        await pilot.press("question_mark")
        help_screen = await wait_for_screen(pilot, HelpScreen)
        section = help_screen.query_one("#keys-checkpoints")
        await wait_for(pilot, lambda: section.region.y <= 4 and "Checkpoints" in screen_text(app))
        assert "test inference on the sample folder" in screen_text(app)


async def test_the_palette_shows_keys_and_finds_other_screens_actions(root):
    make_run(root, "20260101-000000-demo")
    app = FerApp(root=root, reattach=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("k")
        screen = await wait_for_screen(pilot, CheckpointsScreen)
        commands = {c.title: c for c in app.get_system_commands(screen)}
        assert commands["Deep check"].help.startswith("d · ")
        stop = commands["Stop run under cursor (Runs)"]
        assert stop.help.startswith("r then s · ")
        await stop.callback()
        await wait_for_screen(pilot, RunsScreen)  # switched, then asked about the run under the cursor


async def test_escape_leaves_a_form_field_so_keys_work_again(root):
    app = FerApp(root=root, reattach=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await wait_for_screen(pilot, TrainScreen)
        screen.query_one("#f-lr").focus()
        await pilot.pause()
        await pilot.press("escape")
        await wait_for(
            pilot,
            lambda: (
                screen.focused is not None and screen.query_one(ConfigForm) not in screen.focused.ancestors_with_self
            ),
        )
        await pilot.press("r")
        await wait_for_screen(pilot, RunsScreen)


async def test_a_theme_chosen_is_kept_in_the_settings_file(root):
    app = FerApp(root=root, reattach=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.theme = "gruvbox"  # what the palette's theme picker sets
        await wait_for(pilot, lambda: settings_path().exists())
    assert tomllib.loads(settings_path().read_text())["theme"] == "gruvbox"
    again = FerApp(root=root, reattach=False)
    async with again.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert again.theme == "gruvbox"


async def test_a_theme_change_restyles_the_screen_and_each_app_parses_its_own_theme(root):
    # parsed CSS is shared by the apps of a process (fer_tui/stylesheet.py), per theme
    def form_border(app: FerApp) -> object:
        return app.screen.query_one(ConfigForm).styles.border_top

    first = FerApp(root=root, reattach=False)
    async with first.run_test(size=SIZE) as pilot:
        await pilot.pause()
        default = form_border(first)
        first.theme = "gruvbox"
        await wait_for(pilot, lambda: form_border(first) != default)
        switched = form_border(first)
    again = FerApp(root=root, reattach=False)  # starts in gruvbox: the settings file says so
    async with again.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert again.theme == "gruvbox" and form_border(again) == switched
    settings_path().unlink()
    third = FerApp(root=root, reattach=False)
    async with third.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert form_border(third) == default


async def test_the_keymap_moves_a_key_everywhere_it_is_shown(root):
    settings_path().write_text('theme = "nord"\n[keymap]\nruns = "y"\nnot_an_action = "z"\n')
    app = FerApp(root=root, reattach=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_screen(pilot, TrainScreen)
        assert any("not_an_action" in text for text in app.settings_warnings)
        assert "y Runs" in screen_text(app).splitlines()[-1]
        await pilot.press("y")
        await wait_for_screen(pilot, RunsScreen)
        await pilot.press("question_mark")
        help_screen = await wait_for_screen(pilot, HelpScreen)
        assert help_screen.keymap == {"runs": "y", "not_an_action": "z"}  # help_rows shows them
    # choosing a theme later keeps the user's keymap
    assert tomllib.loads(settings_path().read_text())["keymap"]["runs"] == "y"


async def test_a_key_given_to_two_actions_of_a_screen_is_a_warning(root):
    """`stop = "q"`: on Runs and Run, q would stop the run and Quit would have no key there."""
    settings_path().write_text('[keymap]\nstop = "q"\n')
    app = FerApp(root=root, reattach=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_screen(pilot, TrainScreen)
        (warning,) = [text for text in app.settings_warnings if "two actions" in text]
        assert "q on Run: stop, quit" in warning and "q on Runs: stop, quit" in warning, warning
        assert "Train" not in warning  # no stop there: q still quits from the form


async def test_an_unreadable_settings_file_is_one_warning_and_left_alone(root):
    settings_path().write_text("theme = [unclosed\n")
    app = FerApp(root=root, reattach=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_screen(pilot, TrainScreen)
        assert any("not valid TOML" in text for text in app.settings_warnings)
        app.theme = "gruvbox"
        await pilot.pause()
    assert settings_path().read_text() == "theme = [unclosed\n"


async def test_m_makes_a_real_sample_folder_from_the_data_a_run_used(root, tmp_path, monkeypatch):
    """Synthetic sample faces and a run that trained on a CSV: one key makes a real folder,
    which the dashboard then uses (and prefers from then on)."""
    import json

    from fer_core import locations
    from fer_core.data.samples import synthetic_faces
    from tests.helpers import small_csv

    from .conftest import write_faces

    synthetic = Path(os.environ["FER_TUI_SAMPLES"])
    write_faces(synthetic)
    (synthetic / "samples.json").write_text(json.dumps({"data": "demo"}))
    csv = small_csv(tmp_path / "fer2013.csv", val_per_class=3)
    make_run(root, "20260101-000000-cpu-fast", config={"data_csv": str(csv)})
    made = tmp_path / "user-samples"
    monkeypatch.setenv("FER_TUI_USER_SAMPLES", str(made))
    app = FerApp(root=root, reattach=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("k")
        screen = await wait_for_screen(pilot, CheckpointsScreen)
        await wait_for(pilot, lambda: "m makes real ones from fer2013.csv" in screen_text(app))
        await pilot.press("m")
        await wait_for(pilot, lambda: screen.samples == made and screen.faces, timeout=60)
    assert not synthetic_faces(made) and json.loads((made / "samples.json").read_text())["data"] == str(csv)
    assert sorted(p.name for p in made.iterdir() if p.is_dir()) == sorted(
        p.name for p in synthetic.iterdir() if p.is_dir()
    )
    monkeypatch.delenv("FER_TUI_SAMPLES")
    assert locations.samples_dir() == made  # preferred once it exists


async def palette_lines(pilot, query: str) -> list[str]:
    """The command palette's option rows for `query`, as shown (opened with ctrl+p on the
    current screen, so the palette itself is on the stack as it is for a user)."""
    from textual.command import CommandList, CommandPalette

    await pilot.press("ctrl+p")
    palette = await wait_for_screen(pilot, CommandPalette)
    await pilot.press(*query)
    options = palette.query_one(CommandList)

    def searched() -> bool:
        """the search for the whole query has run (each key starts one, cancelling the last)"""
        gathering = [w for w in pilot.app.workers if w.node is palette and w.group == palette._GATHER_COMMANDS_GROUP]
        return all(w.is_finished for w in gathering) and palette.has_class("-ready") and options.option_count > 0

    await wait_for(pilot, searched)
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


async def test_the_palette_names_the_real_key_of_the_screen_it_switches_to(root):
    """On Train, Checkpoints' actions are reached by `k` (the app's key), not by the first
    letter of the screen's name; a remapped screen key shows as remapped."""
    settings_path().write_text('[keymap]\ncheckpoints = "K"\n')
    app = FerApp(root=root, reattach=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_screen(pilot, TrainScreen)
        lines = await palette_lines(pilot, "Deep check")
    deep = next(line for line in lines if line.startswith("Deep check (Checkpoints)"))
    assert "K then d · " in deep, deep
    assert "c then" not in " ".join(lines)


async def test_the_palette_lists_the_current_screens_actions_once(root):
    app = FerApp(root=root, reattach=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_screen(pilot, TrainScreen)
        lines = await palette_lines(pilot, "Add run to queue")
    queue = [line for line in lines if line.startswith("Add run to queue")]
    assert len(queue) == 1, queue
    assert "(Train)" not in queue[0]


async def test_the_file_picker_names_its_keys_as_the_keymap_has_them(root):
    """ctrl+o showed a tree, a path and two buttons, and no key: the picker says how to choose
    and how to cancel, with the user's key for cancelling."""
    from fer_tui.screens.file_picker import FilePickerScreen

    settings_path().write_text('[keymap]\ncancel_pick = "ctrl+g"\n')
    app = FerApp(root=root, reattach=False)
    async with app.run_test(size=SIZE) as pilot:
        train = await wait_for_screen(pilot, TrainScreen)
        assert not app.settings_warnings  # the picker's id is a known one
        await pilot.press("ctrl+o")
        await wait_for_screen(pilot, FilePickerScreen)
        text = " ".join(screen_text(app).split())
        assert "enter on a file or in the path: choose it · ctrl+g: cancel" in text, text
        await pilot.press("ctrl+g")
        await wait_for(pilot, lambda: app.screen is train)


async def test_the_checkpoints_hints_name_the_keys_the_keymap_has(root):
    """The line under the Checkpoints table names its keys as the user moved them, and an empty
    root names the app's key for Train."""
    from .conftest import write_faces

    write_faces(Path(os.environ["FER_TUI_SAMPLES"]))
    settings_path().write_text('[keymap]\ninfer = "I"\nmark = "v"\ncompare = "C"\ntrain = "T"\n')
    app = FerApp(root=root, reattach=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("k")
        await wait_for_screen(pilot, CheckpointsScreen)
        await wait_for(pilot, lambda: "I tests, v marks two, C compares" in screen_text(app))
        await wait_for(pilot, lambda: "T trains one" in screen_text(app))
