"""One action registry: each screen's ACTIONS make its BINDINGS, and the `?` help, the palette
and the docs' key page (docs/gen.py, tests/unit/test_docs.py) are read from them, so a key
cannot be added in one place only."""

import pytest

from fer_tui.actions import SPELLED, help_rows, palette_commands
from fer_tui.keys import SECTIONS, sections
from fer_tui.screens.help import keys_table

OWNERS = dict(sections())


@pytest.mark.parametrize("section", list(OWNERS))
def test_bindings_are_the_actions(section):
    owner = OWNERS[section]
    assert [(b.key, b.action, b.tooltip) for b in owner.BINDINGS] == [(a.key, a.action, a.help) for a in owner.ACTIONS]


@pytest.mark.parametrize("section", list(OWNERS))
def test_every_action_has_a_method(section):
    # Textual ignores a binding whose action does not exist: a typo would be a dead key
    owner = OWNERS[section]
    for action in owner.ACTIONS:
        assert callable(getattr(owner, f"action_{action.action}", None)), f"{section}: no action_{action.action}"


@pytest.mark.parametrize("section", list(OWNERS))
def test_help_lists_every_key(section):
    owner = OWNERS[section]
    shown = {key for keys, _ in help_rows(owner) for chunk in keys.split(" / ") for key in chunk.split()}
    assert {SPELLED.get(b.key, b.key) for b in owner.BINDINGS} <= shown


def test_help_rows_merge_keys_of_one_action():
    rows = dict(help_rows(OWNERS["Everywhere"]))
    assert rows["q / ctrl+q"] == "quit the UI (runs keep training)"
    assert "ctrl+p" in rows and "?" in rows


def test_palette_titles_are_unique_and_bound():
    class Probe:  # palette_commands reads ACTIONS and the action_ methods off an instance
        pass

    for section, owner in OWNERS.items():
        commands = list(palette_commands(owner))
        titles = [action.title for action, _ in commands]
        assert len(titles) == len(set(titles)), section
        assert all(callable(call) for _, call in commands)
    assert not list(palette_commands(Probe()))


def test_help_screen_shows_every_section():
    cells = [str(cell) for table in keys_table().renderables for column in table.columns for cell in column._cells]
    for title, _ in SECTIONS:
        assert title in cells
    assert any(cell.startswith("export to ONNX") for cell in cells)


def test_help_shows_the_users_keys():
    rows = dict(help_rows(OWNERS["Run"], {"stop": "x,ctrl+x"}))
    assert rows["x / ctrl+x"].startswith("stop the run") and "s" not in rows
