"""The fer-tui dashboard: Train (presets + form), Run (live charts), Runs (list + compare),
Checkpoints (verdicts, test inference on the sample folder).

Runs are separate detached processes; the app only reads their run directories, so quitting
it (or losing the SSH session) never stops training. Never imports mindspore.
"""

from __future__ import annotations

import argparse
import importlib
import os
import time
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from textual.app import App, SystemCommand
from textual.markup import escape
from textual.notifications import SeverityLevel
from textual.screen import ModalScreen, Screen
from textual.theme import Theme

from fer_core import locations
from fer_core.runs import registry, rundir
from fer_core.text import shown
from fer_tui import settings as user_settings
from fer_tui.actions import Action, bindings, palette_commands, spell
from fer_tui.keys import SECTIONS
from fer_tui.notify import EndWatch, desktop_enabled, desktop_sequence
from fer_tui.screens.runs import RunsScreen
from fer_tui.screens.train import TrainScreen
from fer_tui.stylesheet import SharedStylesheet

NOTIFY_SECONDS = {"information": 3.0, "warning": 6.0, "error": 10.0}
ENDS_SECONDS = 1.0  # how often the runs seen live are checked for their end

# the screens a palette command can switch to before it acts (mode -> class, imported on use)
OTHER_SCREENS = {
    "train": "fer_tui.screens.train:TrainScreen",
    "runs": "fer_tui.screens.runs:RunsScreen",
    "checkpoints": "fer_tui.screens.checkpoints:CheckpointsScreen",
}


def _screen_class(target: str) -> Any:  # a Screen subclass with ACTIONS
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def checkpoints_screen() -> Screen:
    """Imported on first use: the screen pulls in textual-image and the inference helpers."""
    from fer_tui.screens.checkpoints import CheckpointsScreen

    return CheckpointsScreen()


class FerApp(App[None]):
    """`root` is the checkpoints root to list; `clock` is injectable so tests freeze ages;
    `desktop(text)` writes a desktop notification's escape sequence to the terminal (None:
    the terminal itself, when FER_TUI_NOTIFY allows; tests pass a recorder)."""

    CSS_PATH = Path(__file__).parent / "app.tcss"  # absolute: subclasses elsewhere find it too
    TITLE = "fer-tui"
    MODES = {"train": TrainScreen, "runs": RunsScreen, "checkpoints": checkpoints_screen}
    ACTIONS = (  # in the footer's order
        Action("q", "quit", "Quit", "quit the UI (runs keep training)"),
        Action("ctrl+q", "quit", "Quit", "quit the UI (runs keep training)", show=False, priority=True),
        Action("question_mark", "help", "Help", "this help: every key, by screen", title="Keys"),
        Action("t", "train", "Train", "Train: presets and the form", title="Train"),
        Action("r", "runs", "Runs", "Runs: every run, live first", title="Runs"),
        Action("k", "checkpoints", "Ckpts", "Checkpoints: verdicts, test inference", title="Checkpoints"),
    )
    BINDINGS = bindings(ACTIONS)
    HELP_KEYS = [("ctrl+p", "command palette (actions, themes)")]

    def __init__(
        self,
        root: Path | None = None,
        clock: Callable[[], float] = time.time,
        reattach: bool = True,
        desktop: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__()
        self.stylesheet = SharedStylesheet(variables=self.get_css_variables())  # empty still: nothing read
        self.root = Path(root) if root else locations.checkpoints_root()
        self.clock = clock
        self.reattach = reattach
        self.exit_note = ""
        self.all_runs = False  # the Runs screen lists this user's runs from every folder (a)
        self.ends = EndWatch()
        self.desktop = desktop or (self._terminal_notification if desktop_enabled() else None)
        self.settings, self.settings_problem = user_settings.load()
        self.settings_warnings: list[str] = []

    def on_mount(self) -> None:
        self.apply_settings()
        live = [run for run in rundir.find_runs(self.root) if run.live] if self.reattach else []
        where = ""
        if self.reattach and not live:  # none here: the newest live run of this user, anywhere
            live = [run for run in registry.registered_runs() if run.live]
            if live:
                self.all_runs, where = True, f" in {live[0].path.parent}"
        self.ends.track(run.path for run in live)
        self.set_interval(ENDS_SECONDS, self.check_ends)
        if live:
            self.open_run(live[0].path)
            others = f" ({len(live) - 1} more live in Runs)" if len(live) > 1 else ""
            self.notify(f"reattached to {live[0].run_id}{where}{others}", title="Live run")
        else:
            self.switch_mode("train")

    def list_runs(self) -> list[rundir.RunInfo]:
        """The runs the Runs screen shows: under the root, or (all_runs) this user's anywhere."""
        return registry.all_runs(self.root) if self.all_runs else rundir.find_runs(self.root)

    def check_ends(self) -> None:
        """A run seen live has ended: a toast, the bell and a desktop notification."""
        for ended in self.ends.check():
            self.notify(ended.text(), title=f"Run {ended.words}", severity=ended.severity)  # type: ignore[arg-type]
            self.bell()
            if self.desktop is not None:
                self.desktop(desktop_sequence(f"fer-tui: run {ended.words}", ended.text()))

    def _terminal_notification(self, sequence: str) -> None:
        # as App.bell writes its BEL: through the driver, between frames
        if not self.is_headless and self._driver is not None:
            self._driver.write(sequence)

    # ------------------------------------------------------------------ user settings

    def apply_settings(self) -> None:
        """The theme and keymap of settings.toml; a theme chosen later is written back to it."""
        if self.settings_problem:
            self.settings_warning(self.settings_problem)
        theme = self.settings.theme
        if theme and theme in self.available_themes:
            self.theme = theme
        elif theme:
            self.settings_warning(f"unknown theme '{theme}' in {user_settings.locations.settings_file()}")
        if self.settings.keymap:
            from fer_tui.keys import sections  # only with a keymap: it imports every screen

            scopes = {title: [(a.binding_id, a.key) for a in owner.ACTIONS] for title, owner in sections()}
            everywhere = scopes.pop("Everywhere")
            known = {binding_id for actions in [everywhere, *scopes.values()] for binding_id, _ in actions}
            unknown = user_settings.unknown_ids(self.settings.keymap, known)
            if unknown:
                self.settings_warning(f"unknown key ids in settings.toml: {', '.join(unknown)}")
            clashes = user_settings.key_clashes(
                self.settings.keymap, {title: actions + everywhere for title, actions in scopes.items()}
            )
            if clashes:  # the screen's key wins, and the other action has none there
                self.settings_warning(f"one key for two actions in settings.toml: {'; '.join(clashes)}")
            self.set_keymap(self.settings.keymap)
        self.theme_changed_signal.subscribe(self, self._remember_theme)

    def settings_warning(self, text: str) -> None:
        self.settings_warnings.append(text)  # kept: a toast goes after a few seconds
        self.notify(text, title="Settings", severity="warning")

    def _remember_theme(self, theme: Theme) -> None:
        problem = user_settings.save_theme(theme.name)
        if problem:
            self.settings_warning(f"theme not saved: {problem}")

    def keys_of(self, action: Action) -> str:
        """The key(s) in force for an action: the user's keymap, else the declared key."""
        keys = self.settings.keymap.get(action.binding_id, action.key)
        return " ".join(spell(k.strip()) for k in keys.split(","))

    # ------------------------------------------------------------------ navigation

    def open_run(self, run_dir: Path) -> None:
        """Show a run on top of the Runs list (so escape lands on the list)."""
        self.run_worker(self._open_run(Path(run_dir)), group="open-run", exclusive=True)

    async def _open_run(self, run_dir: Path) -> None:
        from fer_tui.screens.run import RunScreen

        # awaited one by one: popping a screen that is still resuming breaks its widgets
        await self.switch_mode("runs")
        while len(self.screen_stack) > 1:  # keep the stack Runs -> this run
            await self.pop_screen()
        await self.push_screen(RunScreen(run_dir))

    def notify(
        self,
        message: str | Sequence[str],
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Toasts cover part of a screen: news goes quickly, problems stay long enough to read.
        `message` as a sequence is lines fer-tui composed: each is escaped, the breaks are kept."""
        if timeout is None:
            timeout = NOTIFY_SECONDS[severity]
        # messages carry file names and errors naming files: their control characters and
        # their markup-like text (`[red]`) are shown as written, never obeyed; a line break in
        # one shows as `\x0a`, so a file's text never passes for a line of ours
        lines = [message] if isinstance(message, str) else message
        message = "\n".join(shown(line) for line in lines)
        super().notify(
            escape(message) if markup else message,
            title=shown(title),
            severity=severity,
            timeout=timeout,
            markup=markup,
        )

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        """The key of the screen already shown does nothing: off the footer, which then fits."""
        if action in ("train", "runs", "checkpoints") and action == self.current_mode:
            shown = [s for s in self.screen_stack if not isinstance(s, ModalScreen)]
            return len(shown) > 1  # r on a run still goes back to the list; help changes nothing
        return True

    def action_train(self) -> None:
        self.switch_mode("train")

    def action_runs(self) -> None:
        self.switch_mode("runs")
        while len(self.screen_stack) > 1:
            self.pop_screen()

    def action_checkpoints(self) -> None:
        self.switch_mode("checkpoints")

    def action_help(self) -> None:
        from fer_tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            shown = type(self.screen).__name__
            section = next((title for title, target in SECTIONS if target.endswith(f":{shown}")), None)
            self.push_screen(HelpScreen(section=section, keymap=self.settings.keymap))

    async def action_quit(self) -> None:
        live = [run for run in rundir.find_runs(self.root) if run.live]
        if live:
            self.exit_note = (
                f"{len(live)} run(s) still training, e.g. {live[0].run_id}: they keep "
                "going. Run fer-tui again to reattach."
            )
        self.exit(message=self.exit_note or None)

    # ------------------------------------------------------------------ command palette

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        # Textual's "Keys" panel would repeat the help screen under the same name: ours replaces it
        yield from (c for c in super().get_system_commands(screen) if c.title != "Keys")
        # the app's actions, then the current screen's: the palette does what the keys do
        for owner in (self, screen):
            for action, call in palette_commands(owner):
                yield SystemCommand(action.title or "", f"{self.keys_of(action)} · {action.help}", call)
        # then what the other screens do (found by name: "stop" from Checkpoints), which switch
        # first: by the app's key for that screen, as the keymap has it ("k then d")
        switch_keys = {action.action: self.keys_of(action) for action in self.ACTIONS}
        for mode, target in OTHER_SCREENS.items():
            other = _screen_class(target)
            if isinstance(screen, other):  # the screen shown: its actions are listed above
                continue
            for action in other.ACTIONS:
                if action.title:
                    yield SystemCommand(
                        f"{action.title} ({mode.capitalize()})",
                        f"{switch_keys[mode]} then {self.keys_of(action)} · {action.help}",
                        partial(self.run_elsewhere, mode, action.action),
                    )

    async def run_elsewhere(self, mode: str, action: str) -> None:
        """A palette command of another screen: show that screen, then do it there."""
        await self.switch_mode(mode)
        while len(self.screen_stack) > 1:
            await self.pop_screen()
        await self.screen.run_action(action)


def run_app(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="fer-tui", description="The fer-tui dashboard.")
    parser.add_argument(
        "--root",
        type=Path,
        metavar="DIR",  # as `fer-tui --help` names it
        help="checkpoints root to list and train into (default: $FER_TUI_CHECKPOINTS or ./checkpoints)",
    )
    args = parser.parse_args(argv or [])
    if args.root:
        # one root for the list and for new runs (create_run resolves save_dir against it)
        os.environ["FER_TUI_CHECKPOINTS"] = str(args.root.expanduser().resolve())
    from fer_tui.widgets.face_image import preload

    preload()  # textual-image asks the terminal for graphics support before Textual owns stdin
    FerApp(root=locations.checkpoints_root()).run()
