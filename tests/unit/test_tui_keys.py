"""The three places keys are declared agree: each screen's BINDINGS, the help table in
fer_tui/keys.py (what `?` and the README show) and the palette's COMMANDS_HERE."""

import pytest

from fer_tui.app import FerApp
from fer_tui.keys import KEYS
from fer_tui.screens.checkpoints import CheckpointsScreen
from fer_tui.screens.compare import CompareScreen
from fer_tui.screens.run import RunScreen
from fer_tui.screens.runs import RunsScreen
from fer_tui.screens.train import TrainScreen

SCREENS = {"Everywhere": FerApp, "Train": TrainScreen, "Run": RunScreen, "Runs": RunsScreen,
           "Compare": CompareScreen, "Checkpoints": CheckpointsScreen}
SHOWN_AS = {"question_mark": "?"}


def documented_keys(section: str) -> set[str]:
    keys = set()
    for spelled, _ in dict(KEYS)[section]:
        keys |= {part for chunk in spelled.split(" / ") for part in chunk.split()}
    return keys


@pytest.mark.parametrize("section", list(SCREENS))
def test_every_binding_is_in_the_help(section):
    documented = documented_keys(section)
    for binding in SCREENS[section].BINDINGS:
        key = SHOWN_AS.get(binding.key, binding.key)
        assert key in documented, f"{section}: {key} ({binding.action}) is bound but not in fer_tui/keys.py"


@pytest.mark.parametrize("section", list(SCREENS))
def test_every_palette_command_does_what_a_key_does(section):
    actions = {binding.action for binding in SCREENS[section].BINDINGS}
    for title, _, action in getattr(SCREENS[section], "COMMANDS_HERE", ()):
        assert action.removeprefix("action_") in actions, f"{section}: palette '{title}' has no key"


def test_every_help_section_is_a_screen():
    assert [title for title, _ in KEYS] == list(SCREENS)
