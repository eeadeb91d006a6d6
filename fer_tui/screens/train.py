"""Train: choose a preset, edit the form (validated as you type), save it, start a run."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Header, OptionList, Static
from textual.widgets.option_list import Option

from fer_core import config as cfg
from fer_core.errors import FerError
from fer_core.runs import launcher, rundir
from fer_tui.actions import Action, bindings
from fer_tui.format import diff_text
from fer_tui.screens import host
from fer_tui.widgets.config_form import ConfigForm
from fer_tui.widgets.key_bar import KeyBar


def data_problem(value: str) -> str | None:
    """A path the trainer could not read, said before the run starts (not after)."""
    if value == cfg.DEMO_DATA:
        return None
    path = Path(value).expanduser()
    if not path.exists():
        return f"data_csv: {value}: no such file or folder"
    return None


class TrainScreen(Screen):
    """Presets on top, the form below, the diff and the actions at the bottom."""

    ACTIONS = (
        Action("ctrl+s", "start", "Start", "start the run (detached) and watch it", title="Start run", priority=True),
        Action(
            "ctrl+n",
            "save_preset",
            "Save preset",
            "save the form as a new preset",
            title="Save as preset",
            priority=True,
        ),
        Action(
            "ctrl+l",
            "enqueue",
            "Queue",
            "add the run to the queue (a runner starts it after the others)",
            title="Add run to queue",
            show=False,  # the footer is full at 80 columns: in ? and the palette
            priority=True,
        ),
        Action(
            "ctrl+o",
            "pick_data",
            "Data file",
            "pick the data file (FER2013 CSV or image folder)",
            title="Pick data file",
            priority=True,
        ),
        Action("escape", "leave_field", "Leave field", "leave the form field (single keys work again)", show=False),
    )
    BINDINGS = bindings(ACTIONS)
    HELP_KEYS = [
        ("↑↓ enter", "choose a preset (fills the form)"),
        ("tab", "next field; errors show under the field"),
        ("space", "turn a switch on or off"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.presets: dict[str, cfg.Preset] = {}
        self.preset_name = "custom"
        self.base = cfg.TrainConfig()
        self.listed: str | None = None  # the preset the list last highlighted

    def compose(self) -> ComposeResult:
        yield Header()
        # side by side: every preset stays in view at 80x24 and the form keeps its height
        with Horizontal(id="train-top"):
            yield OptionList(id="presets")
            yield ConfigForm(id="form")
        with Vertical(id="train-bottom"):
            yield Static("", id="field-help")
            yield Static("", id="diff")
            with Horizontal(id="train-actions"):
                yield Button("Start ^s", variant="success", id="start", compact=True)
                yield Button("Save preset ^n", id="save", compact=True)
                yield Button("Runs r", id="runs", compact=True)
        yield KeyBar()  # every key fits 80 columns

    def on_mount(self) -> None:
        self.sub_title = "Train"
        self.reload_presets()
        presets = self.query_one("#presets", OptionList)
        presets.border_title = "Presets"
        self.query_one("#form").border_title = "Config"
        presets.focus()

    def reload_presets(self, select: str | None = None) -> None:
        """(Re)read presets/ and the user presets; a broken file is reported, not fatal."""
        self.presets.clear()
        for name in cfg.preset_names():
            try:
                self.presets[name] = cfg.load_preset(name)
            except FerError as error:
                self.notify(str(error), title="Preset skipped", severity="error")
        option_list = self.query_one("#presets", OptionList)
        option_list.clear_options()
        for name in self.presets:
            option_list.add_option(Option(Text(name, no_wrap=True, overflow="ellipsis"), id=name))
        wanted = select or ("demo" if "demo" in self.presets else next(iter(self.presets), None))
        if wanted in self.presets:
            self.listed = wanted
            option_list.highlighted = list(self.presets).index(wanted)
            self.choose(wanted)

    def preset_help(self, name: str) -> Text:
        """The line under the form while the presets have focus: the highlighted one's purpose."""
        preset = self.presets[name]
        return Text.assemble((name, "bold"), ": ", preset.description, ("  (yours)" if preset.user else "", "dim"))

    def choose(self, name: str) -> None:
        preset = self.presets[name]
        self.preset_name, self.base = name, preset.config
        self.query_one(ConfigForm).load(preset.config)
        self.query_one("#form").border_title = f"Config · {name}"

    def fill(self, base: cfg.TrainConfig, config: cfg.TrainConfig, preset: str, origin: str) -> None:
        """The form holds `config`, its diff is shown against `base` (a run's config and a
        remedy, from the Run screen); a run started from it is named after `preset`."""
        self.preset_name, self.base = preset, base
        self.query_one(ConfigForm).load(config)
        self.query_one("#form").border_title = f"Config · {origin}"
        self.query_one("#f-data_csv").focus()

    @on(OptionList.OptionSelected, "#presets")
    @on(OptionList.OptionHighlighted, "#presets")
    def _preset_chosen(self, event: OptionList.OptionSelected) -> None:
        name = event.option.id
        selected = isinstance(event, OptionList.OptionSelected)
        if name in self.presets:
            self.query_one("#field-help", Static).update(self.preset_help(name))
        # moving the highlight previews a preset; enter also resets edits and goes to the form
        # against the list's own last highlight, not the form's origin: a late highlight event
        # of the list's (re)fill must not undo a form filled from a run (fill)
        if name and (selected or name != self.listed):
            self.listed = name
            self.choose(name)
        if selected:
            self.query_one("#f-data_csv").focus()

    @on(ConfigForm.Changed)
    def _form_changed(self, event: ConfigForm.Changed) -> None:
        form = event.form
        text = Text(no_wrap=False)
        if form.errors:
            text.append(f"{len(form.errors)} invalid: ", style="bold red")
            text.append("; ".join(form.errors.values()), style="red")
        else:
            text.append(f"vs {self.preset_name}: ", style="bold")
            text.append(diff_text(self.base.diff(form.valid), limit=6))
        self.query_one("#diff", Static).update(text)
        self.query_one("#start", Button).disabled = bool(form.errors)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        if event.widget.id == "presets":  # back on the list: its purpose again, not a field's
            name = self.preset_name if self.preset_name in self.presets else None
            if name:
                self.query_one("#field-help", Static).update(self.preset_help(name))

    @on(ConfigForm.FieldFocused)
    def _field_focused(self, event: ConfigForm.FieldFocused) -> None:
        help_text = Text.assemble((event.name, "bold"), ": ", ConfigForm.description(event.name))
        self.query_one("#field-help", Static).update(help_text)

    @on(Button.Pressed)
    def _button(self, event: Button.Pressed) -> None:
        if event.button.id == "start":
            self.action_start()
        elif event.button.id == "save":
            self.action_save_preset()
        elif event.button.id == "runs":
            host(self).action_runs()
        elif event.button.id == "pick-data":
            self.action_pick_data()

    # ------------------------------------------------------------------ actions

    def action_leave_field(self) -> None:
        """Out of a form field, back to the presets: `r`, `k`, `q` are keys again, not text."""
        form = self.query_one(ConfigForm)
        if self.focused is not None and form in self.focused.ancestors_with_self:
            self.query_one("#presets").focus()

    def action_start(self) -> None:
        form = self.query_one(ConfigForm)
        try:
            config = form.config()
        except FerError as error:
            self.notify(str(error), title="Cannot start", severity="error")
            return
        problem = data_problem(config.data_csv)
        if problem:
            self.notify(problem, title="Cannot start", severity="error")
            return
        if config.data_csv == cfg.DEMO_DATA:
            self.launch(config)
        else:
            self.check_data_then_launch(config)

    @work(exclusive=True, group="start")
    async def check_data_then_launch(self, config: cfg.TrainConfig) -> None:
        """Decode the data in a job first (it is cached for the trainer): a bad row is a
        notification now, not a failed run later."""
        from fer_core.job.events import Error
        from fer_tui.jobs import data_command, run_job

        self.notify(f"checking {config.data_csv} (decoded once, then cached)…", title="Starting")
        last, _ = await run_job(data_command(config.data_csv))
        if isinstance(last, Error):
            self.notify(last.message, title="Cannot start", severity="error")
            return
        self.launch(config)

    def launch(self, config: cfg.TrainConfig) -> None:
        from fer_core.runs.launcher import check_device
        from fer_core.train.parallel import msrun

        try:
            check_device(config.device_target)  # no run folder for a device this machine lacks
            msrun.check(config, msrun.Launch())  # nor for workers this machine cannot start
            run_dir = rundir.create_run(config, self.preset_name)
            pid = launcher.launch_detached(run_dir)
        except (FerError, OSError) as error:
            self.notify(str(error), title="Cannot start", severity="error")
            return
        self.notify(f"{run_dir.name} (pid {pid}) trains detached: quitting keeps it going", title="Run started")
        host(self).open_run(run_dir)

    def action_enqueue(self) -> None:
        """Queue the form's run in this root's queue and make sure a runner works it."""
        from fer_core.queue import runner
        from fer_core.queue.entries import Queue
        from fer_core.runs.launcher import check_device
        from fer_core.train.parallel import msrun

        try:
            config = self.query_one(ConfigForm).config()
            problem = data_problem(config.data_csv)
            if problem:
                raise FerError(problem)
            check_device(config.device_target)
            msrun.check(config, msrun.Launch())
            if config.data_csv != cfg.DEMO_DATA:  # the runner may start in another folder
                data = str(Path(config.data_csv).expanduser().resolve())
                config = cfg.make_config({**config.model_dump(), "data_csv": data})
            queue = Queue.of_root(host(self).root)
            (entry,) = queue.add(
                [{"preset": self.preset_name, "config": config.model_dump(), "label": self.change_text(config)}]
            )
            pid, started = runner.start_runner(queue)
        except (FerError, OSError) as error:
            self.notify(str(error), title="Cannot queue", severity="error")
            return
        waiting = sum(e.state == "queued" for e in queue.entries())
        how = f"runner pid {pid} started" if started else f"{waiting} waiting for runner pid {pid}"
        self.notify(f"queued #{entry.id} ({how}); u on Runs shows the queue", title="Queued")

    def change_text(self, config: cfg.TrainConfig) -> str:
        changes = {k: v for k, v in self.base.diff(config).items() if k not in ("data_csv", "save_dir")}
        return diff_text(changes) if changes else "as the preset"

    @work
    async def action_save_preset(self) -> None:
        from fer_tui.screens.save_preset import SavePresetScreen

        form = self.query_one(ConfigForm)
        try:
            config = form.config()
        except FerError as error:
            self.notify(str(error), title="Cannot save", severity="error")
            return
        answer = await self.app.push_screen_wait(SavePresetScreen(f"my-{self.preset_name}"))
        if answer is None:
            return
        name, description = answer
        try:
            path = cfg.save_preset(name, config, description)
        except (FerError, OSError) as error:
            self.notify(str(error), title="Cannot save", severity="error")
            return
        self.notify(f"saved {path}", title="Preset saved")
        self.reload_presets(select=name)

    @work
    async def action_pick_data(self) -> None:
        from fer_tui.screens.file_picker import FilePickerScreen

        current = Path(self.query_one(ConfigForm).raw("data_csv")).expanduser()
        start = current if current.is_dir() else current.parent
        chosen = await self.app.push_screen_wait(FilePickerScreen(start.resolve()))
        if chosen:
            form = self.query_one(ConfigForm)
            form.set_value("data_csv", chosen)
            problem = data_problem(chosen)
            if problem:
                self.notify(problem, severity="error")
