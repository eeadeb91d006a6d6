"""The key bar: one line of the screen's keys, redrawn as they change; a click presses a key."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from fer_tui.app import FerApp
from fer_tui.screens.runs import RunsScreen
from fer_tui.screens.train import TrainScreen
from fer_tui.widgets.key_bar import KeyBar

from .conftest import NOW, SIZE, screen_text, wait_for, wait_for_screen


def column_of(bar: KeyBar, display: str) -> int:
    """The first column of a key's label on the bar, as last drawn."""
    return next(start for start, _, key in bar.spans if key.display == display)


class TestInTheDashboard:
    async def test_a_click_on_a_key_presses_it(self, root):
        app = FerApp(root=root, reattach=False, clock=lambda: NOW)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for_screen(pilot, TrainScreen)
            bar = app.screen.query_one(KeyBar)
            await wait_for(pilot, lambda: bar.spans)
            assert await pilot.click(KeyBar, offset=(column_of(bar, "r") + 2, 0))  # on "Runs"
            await wait_for_screen(pilot, RunsScreen)

    async def test_the_bar_follows_the_screen_and_says_each_keys_help_on_hover(self, root):
        app = FerApp(root=root, reattach=False, clock=lambda: NOW)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for_screen(pilot, TrainScreen)
            bottom = lambda: screen_text(app).splitlines()[-1]
            await wait_for(pilot, lambda: "r Runs" in bottom())
            assert "t Train" not in bottom()  # the screen shown: its key is off
            await pilot.press("r")
            await wait_for_screen(pilot, RunsScreen)
            await wait_for(pilot, lambda: "t Train" in bottom())
            assert "r Runs" not in bottom()
            bar = app.screen.query_one(KeyBar)
            await pilot.hover(KeyBar, offset=(column_of(bar, "t"), 0))
            keys, _ = bar.keys()
            (train,) = [key for key in keys if key.display == "t"]
            await wait_for(pilot, lambda: bar.tooltip == train.tooltip and train.tooltip)


class Disabled(App[None]):
    """A key shown but off (check_action None): dim, and a click only rings."""

    BINDINGS = [Binding("x", "go", "Go"), Binding("y", "stay", "Stay")]

    def __init__(self) -> None:
        super().__init__()
        self.went: list[str] = []
        self.bells = 0

    def compose(self) -> ComposeResult:
        yield Static("body")
        yield KeyBar()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        return None if action == "stay" else True

    def action_go(self) -> None:
        self.went.append("go")

    def action_stay(self) -> None:
        self.went.append("stay")

    def bell(self) -> None:
        self.bells += 1


async def test_a_key_that_is_off_is_dim_and_a_click_on_it_only_rings():
    app = Disabled()
    async with app.run_test(size=SIZE) as pilot:
        bar = app.screen.query_one(KeyBar)
        await wait_for(pilot, lambda: bar.spans)
        keys, palette = bar.keys()
        assert [(k.display, k.description, k.enabled) for k in keys] == [("x", "Go", True), ("y", "Stay", False)]
        assert palette is not None and screen_text(app).splitlines()[-1].rstrip().endswith(palette.description)
        strip = app.screen._compositor.render_strips()[-1]
        colour = {segment.text: segment.style.color for segment in strip if segment.style and segment.text.strip()}
        assert colour["y"] != colour["x"]  # dim: Textual blends a dim key's colour toward the background
        await pilot.click(KeyBar, offset=(column_of(bar, "y"), 0))
        await pilot.click(KeyBar, offset=(column_of(bar, "x"), 0))
        await wait_for(pilot, lambda: app.went == ["go"] and app.bells == 1)
