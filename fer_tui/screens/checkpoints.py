"""Checkpoints: every .ckpt under the root with its verdict; test inference on the sample folder.

The table comes from `fer_core.ckpt.listing.scan` (sidecars and record headers, no mindspore),
read in a thread so the screen paints at once. Inference, the deep check, exports and making
the sample folder run as engine jobs (`fer_tui.jobs`) whose events fill the per-image table
as they arrive; escape kills them.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import DataTable, Header, ProgressBar, Static

from fer_core import locations
from fer_core.ckpt import listing
from fer_core.ckpt.listing import CheckpointInfo
from fer_core.data.samples import synthetic_faces
from fer_core.job.events import Error, Progress, Result
from fer_core.runs.rundir import last_real_data
from fer_core.text import shown as printable
from fer_tui.actions import Action, bindings
from fer_tui.format import VERDICT_STYLES, percent, place_name, short_path, verdict_text
from fer_tui.infer_job import Job, count_faces, job_summary
from fer_tui.jobs import (
    JobProcess,
    check_command,
    export_command,
    infer_command,
    run_job,
    samples_command,
    samples_hint,
)
from fer_tui.screens import host, key_hint
from fer_tui.watch import checkpoint_stamps
from fer_tui.widgets.ckpt_table import CkptTable
from fer_tui.widgets.face_image import FacePanel
from fer_tui.widgets.inference_table import InferenceTable
from fer_tui.widgets.key_bar import KeyBar

WATCH_SECONDS = 2.0  # a stat walk of the root; checkpoints change once an epoch at most


class CheckpointsScreen(Screen):
    ACTIONS = (
        Action("i", "infer", "Infer", "test inference on the sample folder", title="Test inference"),
        Action("space", "mark", "Mark", "mark/unmark (A, B) for compare"),
        Action("c", "compare", "Compare", "compare A and B on the same sample folder", title="Compare two checkpoints"),
        Action("d", "deep_check", "Check", "deep check: structure, size, behaviour (in a worker)", title="Deep check"),
        Action(
            "o",
            "open_folder",
            "Open",
            "open another folder of checkpoints",
            title="Open a checkpoints folder",
            show=False,
        ),
        Action(
            "s",
            "pick_samples",
            "Samples",
            "choose the sample folder (ROOT/<class>/*.png)",
            title="Choose the sample folder",
            show=False,
        ),
        Action(
            "m",
            "make_samples",
            "Make samples",
            "make the sample folder: real faces from the data your runs used, else the demo set",
            title="Make the sample folder",
            show=False,
        ),
        Action(
            "x",
            "export",
            "Export",
            "export to ONNX beside the checkpoint (a shipped model's: in the current folder)",
            title="Export to ONNX",
            show=False,
        ),
        Action("ctrl+r", "rescan", "Rescan", "read the folder again", title="Rescan checkpoints", show=False),
        Action(
            "y",
            "copy_path",
            "Copy",
            "copy the path of the checkpoint under the cursor (terminal clipboard)",
            title="Copy checkpoint path",
            show=False,
        ),
        Action("escape", "cancel", "Cancel", "cancel the running inference"),
    )
    BINDINGS = bindings(ACTIONS)
    HELP_KEYS = [("enter", "test inference on the checkpoint under the cursor")]

    def __init__(self) -> None:
        super().__init__()
        self.root: Path | None = None  # the app's root until the user opens another folder
        self.samples = locations.samples_dir()
        self.faces: int | None = None  # images in the sample folder; None until counted
        self.job: Job | None = None
        self.busy = ""  # what a background subprocess (deep check, samples) is doing
        self.stamps: frozenset | None = None  # the checkpoint files as of the last scan
        self.real_data: str | None = None  # the FER2013 data of the newest run that used some

    def compose(self) -> ComposeResult:
        yield Header()
        yield CkptTable(id="ckpt-table")
        yield Static("", id="ckpt-detail")
        with Horizontal(id="infer-panel"):
            yield FacePanel(id="face-panel")
            yield InferenceTable(id="infer-table")
        with Horizontal(id="infer-status"):
            yield ProgressBar(total=None, show_eta=False, id="infer-progress")
            yield Static("", id="infer-summary")
        yield KeyBar()  # every key fits 80 columns

    def on_mount(self) -> None:
        self.sub_title = "Checkpoints"
        self.root = Path(host(self).root)
        self.query_one(CkptTable).focus()
        self.rescan()
        self.set_interval(WATCH_SECONDS, self.watch_files)

    def watch_files(self) -> None:
        """A run training meanwhile writes checkpoints and sidecars: rescan when any changed."""
        if self.root is not None and self.app.screen is self and not self.scanning:
            self.check_files(self.root)

    @property
    def scanning(self) -> bool:
        return any(w.is_running for w in self.workers if w.group in ("scan", "watch"))

    @work(thread=True, group="watch", exclusive=True)
    def check_files(self, root: Path) -> None:
        if checkpoint_stamps(root) != self.stamps:
            self.app.call_from_thread(self.rescan)

    def on_screen_resume(self) -> None:
        if self.root is not None and not self.running:
            self.rescan()  # back from training: new checkpoints appear

    # ------------------------------------------------------------------ the list

    @work(thread=True, group="scan", exclusive=True)
    def rescan(self) -> None:
        root, samples = self.root, self.samples
        if root is None:
            return
        stamps = checkpoint_stamps(root)  # before the scan: a write during it shows next time
        infos = listing.scan(root)
        # swapped whole (a str or None), so the UI thread may read it any time
        self.real_data = last_real_data(root) if root.is_dir() else None
        shipped = locations.shipped_dir()
        if shipped.is_dir() and not shipped.resolve().is_relative_to(root.resolve()):
            infos += listing.scan(shipped)  # the shipped models are always there to compare with
        faces = count_faces(samples)
        self.app.call_from_thread(self.show_scan, root, infos, samples, faces, stamps)

    def show_scan(
        self, root: Path, infos: list[CheckpointInfo], samples: Path, faces: int, stamps: frozenset = frozenset()
    ) -> None:
        if not self.is_mounted or root != self.root or samples != self.samples:
            return  # closing, or the user opened another folder meanwhile: a newer scan is coming
        self.faces, self.stamps = faces, stamps
        table = self.query_one(CkptTable)
        table.show(infos)
        self.sub_title = f"Checkpoints · {short_path(root)}"
        self.show_detail()
        if self.job is None and not self.busy:
            self.set_summary(self.idle_hint())

    def idle_hint(self) -> Text:
        where = place_name(self.samples)
        infer, make = key_hint(self, "infer"), key_hint(self, "make_samples")
        if self.faces and self.real_data and synthetic_faces(self.samples):
            name = Path(self.real_data).name
            return Text(
                f"{infer} tests on {self.faces} synthetic faces · {make} makes real ones from {name}", style="yellow"
            )
        if self.faces:
            # the keys first: a long folder path is what gets cut at 80 columns
            mark, compare = key_hint(self, "mark"), key_hint(self, "compare")
            return Text(f"{infer} tests, {mark} marks two, {compare} compares · {self.faces} faces in {where}")
        pick = key_hint(self, "pick_samples")
        return Text(f"no faces in {where}: {make} makes them from the demo set, {pick} picks a folder", style="yellow")

    def show_detail(self) -> None:
        table = self.query_one(CkptTable)
        info = table.current_info()
        if info is None:
            text = Text(
                f"no checkpoints under {short_path(self.root or Path('.'))}: "
                f"{key_hint(self.app, 'train')} trains one, {key_hint(self, 'open_folder')} opens another folder",
                style="dim",
            )
        else:
            verdict = table.verdict(str(info.path))
            text = Text(short_path(info.path), style="bold")
            if info.arch:
                text.append(f" · {printable(info.arch)}")  # the sidecar's word: a file's text
            if isinstance(info.val_acc, (int, float)):
                text.append(f" · val acc {percent(info.val_acc)}")
                if info.epoch is not None:
                    text.append(f" at epoch {info.epoch}")
            text.append(" · ")
            text.append(verdict_text(verdict))
        self.query_one("#ckpt-detail", Static).update(text)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if isinstance(event.data_table, CkptTable):
            self.show_detail()
        elif isinstance(event.data_table, InferenceTable):
            self.show_face()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if isinstance(event.data_table, CkptTable):
            self.action_infer()

    def action_copy_path(self) -> None:
        from fer_tui.clipboard import copy_path

        info = self.query_one(CkptTable).current_info()
        copy_path(self.app, info.path if info else None, "checkpoint")

    def action_rescan(self) -> None:
        self.rescan()

    def action_mark(self) -> None:
        self.query_one(CkptTable).toggle_mark()

    @work(group="pick")
    async def action_open_folder(self) -> None:
        from fer_tui.screens.file_picker import FilePickerScreen

        root = self.root or Path(host(self).root)
        start = root.parent if root.parent.is_dir() else Path.cwd()
        chosen = await self.app.push_screen_wait(
            FilePickerScreen(
                start.resolve(), title="A folder of checkpoints (searched recursively)", folders=True, value=root
            )
        )
        if not chosen:
            return
        path = Path(chosen).expanduser()
        if not path.exists():
            self.notify(f"{chosen}: no such folder", title="Cannot open", severity="error")
            return
        self.root = path
        self.query_one(CkptTable).marked.clear()
        self.rescan()

    @work(group="pick")
    async def action_pick_samples(self) -> None:
        from fer_tui.screens.file_picker import FilePickerScreen

        start = self.samples.parent if self.samples.parent.is_dir() else Path.cwd()
        chosen = await self.app.push_screen_wait(
            FilePickerScreen(
                start.resolve(), title="Sample folder: faces in <class>/ sub-folders", folders=True, value=self.samples
            )
        )
        if not chosen:
            return
        folder = Path(chosen).expanduser()
        faces = await asyncio.to_thread(count_faces, folder)
        if not faces:
            self.notify(
                f"{short_path(folder)} holds no images (expected <class>/*.png)",
                title="Not a sample folder",
                severity="error",
            )
            return
        self.samples, self.faces = folder, faces
        if self.job is None or not self.running:
            self.set_summary(self.idle_hint())
        self.notify(f"{faces} faces in {short_path(folder)}", title="Sample folder")

    # ------------------------------------------------------------------ inference

    @property
    def running(self) -> bool:
        return any(w.is_running for w in self.workers if w.group == "infer")

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "cancel":
            return True if (self.running or self.busy) else False
        if action in ("infer", "compare"):
            # escape first; its key takes their place in the footer (which must fit 80 columns)
            return not (self.running or self.busy)
        if action in ("deep_check", "export", "make_samples"):
            return not self.busy  # one engine job at a time: a second key would cancel the first
        return True

    def action_infer(self) -> None:
        info = self.query_one(CkptTable).current_info()
        if info is None:
            self.notify("no checkpoint under the cursor", severity="warning")
            return
        self.start_job([info])

    def action_compare(self) -> None:
        marked = self.query_one(CkptTable).marked_infos()
        if len(marked) < 2:
            self.notify("mark two checkpoints with space first", severity="warning")
            return
        self.start_job(marked)

    def start_job(self, infos: list[CheckpointInfo]) -> None:
        if not self.faces:
            self.faces = count_faces(self.samples)  # made or filled since the last look?
        if not self.faces:
            where = short_path(self.samples)
            self.notify(
                f"{where} does not exist or holds no faces. Press m to make it from the demo "
                f"set with this checkpoint ({samples_hint(infos[0].path, self.samples)}), "
                "or s to pick another folder.",
                title="No sample folder",
                severity="warning",
                timeout=10,
            )
            return
        broken = [i for i in infos if i.verdict.level == "broken"]
        if broken:
            self.notify(f"{broken[0].file} is {broken[0].verdict}: inference will most likely fail", severity="warning")
        self.run_job(Job(infos, self.samples))

    @work(group="infer", exclusive=True)
    async def run_job(self, job: Job) -> None:
        self.job = job
        self.add_class("-inferring")
        panel = self.query_one("#infer-panel")
        names = [f"{slot} {i.file} ({i.run or i.path.parent.name})".strip() for slot, i in zip(job.slots, job.infos)]
        panel.border_title = " · ".join(names) + f" on {place_name(job.folder)}"
        self.query_one(InferenceTable).start(job.slots)
        self.query_one(FacePanel).show(None)
        self.query_one(ProgressBar).update(total=None, progress=0)
        self.set_summary(Text(f"starting {len(job.infos)} worker(s): loading MindSpore…", style="dim"))
        self.refresh_bindings()
        workers = [JobProcess(infer_command(i.path, job.folder, i.arch)) for i in job.infos]
        try:
            await asyncio.gather(*(self.consume(job, slot, w) for slot, w in enumerate(workers)))
        except asyncio.CancelledError:
            job.cancelled = True
            raise
        finally:
            for worker in workers:
                worker.kill()
            self.finish(job)

    async def consume(self, job: Job, slot: int, worker: JobProcess) -> None:
        table = self.query_one(InferenceTable)
        progress = self.query_one(ProgressBar)
        async for event in worker.events():
            if not isinstance(event, Progress):
                job.hear(slot, event)
                progress.update(total=job.expected_total())
            elif event.prediction is not None:
                table.add_result(slot, event.prediction)
                table.follow()
                progress.advance(1)
                self.show_face()
                self.set_summary(self.job_summary(job))
            elif event.skipped is not None:
                job.skipped.append(f"{Path(event.skipped.path).name}: {event.skipped.reason}")

    def finish(self, job: Job) -> None:
        progress = self.query_one(ProgressBar)
        if progress.total is None:
            progress.update(total=1, progress=0 if job.errors or job.cancelled else 1)
        for slot, message in job.errors.items():
            self.notify(message, title=f"Inference failed: {job.infos[slot].file}", severity="error", timeout=10)
        if job.skipped:
            self.notify(
                f"{len(job.skipped)} file(s) skipped, e.g. {job.skipped[0]}", title="Skipped", severity="warning"
            )
        self.set_summary(self.job_summary(job))
        self.refresh_bindings()

    def job_summary(self, job: Job) -> Text:
        return job_summary(job, self.query_one(InferenceTable).tallies)

    def show_face(self) -> None:
        table = self.query_one(InferenceTable)
        path = table.current_path()
        self.query_one(FacePanel).show(path, table.caption(path))

    def set_summary(self, text: Text | str) -> None:
        self.query_one("#infer-summary", Static).update(text)

    def action_cancel(self) -> None:
        if self.running:
            self.workers.cancel_group(self, "infer")
        elif self.busy:
            self.workers.cancel_group(self, "engine")
        self.refresh_bindings()

    # ------------------------------------------------------------------ engine verbs

    async def run_engine(
        self, busy: str, detail: str, command: list[str], shown: str | None = None
    ) -> tuple[Result | Error, list[Progress]]:
        """Run an engine job, the screen marked busy (escape cancels) meanwhile."""
        self.busy = busy
        self.set_summary(Text(f"{shown or (busy + ' ' + detail).strip()}…", style="dim"))
        self.refresh_bindings()
        try:
            return await run_job(command)
        finally:
            self.busy = ""
            self.refresh_bindings()

    @work(group="engine", exclusive=True)
    async def action_deep_check(self) -> None:
        info = self.query_one(CkptTable).current_info()
        if info is None:
            self.notify("no checkpoint under the cursor", severity="warning")
            return
        samples = self.samples if self.faces else None
        last, progress = await self.run_engine(
            f"deep check of {info.file}",
            f"(MindSpore, {short_path(samples) if samples else 'demo'} faces)",
            check_command(info.path, samples),
        )
        verdicts = [(p.verdict, p.report) for p in progress if p.verdict is not None]
        if isinstance(last, Error) or not verdicts:
            self.notify(
                last.message if isinstance(last, Error) else "the check reported nothing",
                title=f"Deep check failed: {info.file}",
                severity="error",
                timeout=10,
            )
            self.set_summary(self.idle_hint())
            return
        verdict, report = verdicts[-1]
        self.query_one(CkptTable).set_verdict(info.path, verdict)
        self.show_detail()
        level = verdict.level
        # short, so it hides little of the table: each check's level, then why (the row, the
        # detail line and the line under the panel keep the verdict once the toast has gone)
        checks = " · ".join(f"{c.name} {c.level}" for c in (report.checks if report else None) or [])
        host(self).notify(  # lines: the app's notify escapes each and keeps the breaks
            [line for line in (checks, verdict.text if level != "ok" else "") if line] or [str(verdict)],
            title=f"Deep check: {info.file} is {level}",
            severity="error" if level == "broken" else "warning" if level == "warning" else "information",
        )
        # the result stays under the panel once the toast has gone
        self.set_summary(Text(f"deep check of {info.file}: {verdict}", style=VERDICT_STYLES.get(level, "")))

    @work(group="engine", exclusive=True)
    async def action_make_samples(self) -> None:
        if self.real_data and (not self.faces or synthetic_faces(self.samples)):
            await self.make_real_samples(self.real_data)
            return
        info = self.query_one(CkptTable).current_info()
        if info is None:
            self.notify("select the checkpoint that should pick the faces", severity="warning")
            return
        # the shipped faces are never written: the demo set goes where real faces would
        output = locations.user_samples_dir() if locations.in_shipped_data(self.samples) else self.samples
        last, _ = await self.run_engine(
            "making the sample folder",
            "",
            samples_command(info.path, output),
            shown=samples_hint(info.path, output),
        )
        faces = await asyncio.to_thread(count_faces, output)
        if self.samples_failed(last, faces):
            self.set_summary(self.idle_hint())
            return
        self.samples, self.faces = output, faces
        self.notify(f"{self.faces} faces in {short_path(self.samples)}", title="Sample folder made")
        self.start_job([info])

    def samples_failed(self, last: Result | Error, faces: int) -> bool:
        """Say why a samples job left no faces, its lines as lines (the job's summary is
        several); True when it failed."""
        if not isinstance(last, Error) and faces:
            return False
        lines = [last.message] if isinstance(last, Error) else [*last.text.splitlines(), "(but no faces in it)"]
        host(self).notify(lines, title="Could not make the sample folder", severity="error", timeout=10)
        return True

    async def make_real_samples(self, data: str) -> None:
        """Faces by their true class from the user's own data (fair to any model), into the
        user's sample folder, which the dashboard prefers from then on."""
        output = locations.user_samples_dir()
        last, _ = await self.run_engine(
            f"making a sample folder from {Path(data).name}",
            "",
            samples_command(None, output, csv=data),
            shown=samples_hint(None, output, data),
        )
        faces = await asyncio.to_thread(count_faces, output)
        if self.samples_failed(last, faces):
            return
        self.samples, self.faces = output, faces
        self.notify(f"{faces} real faces in {short_path(output)}", title="Sample folder made")
        self.set_summary(self.idle_hint())

    @work(group="engine", exclusive=True)
    async def action_export(self) -> None:
        """The checkpoint as ONNX beside it, for deployment (`fer-tui export`)."""
        info = self.query_one(CkptTable).current_info()
        if info is None:
            self.notify("no checkpoint under the cursor", severity="warning")
            return
        from fer_core.infer.export import default_output
        from fer_tui.screens.confirm import ConfirmScreen

        target = default_output(info.path, ".onnx")
        replace = target.exists()
        if replace and not await self.app.push_screen_wait(
            ConfirmScreen(f"{short_path(target)} exists.\nReplace it with a new export of {info.file}?", yes="Replace")
        ):
            return
        last, _ = await self.run_engine(
            f"exporting {info.file} to ONNX", "(MindSpore)", export_command(info.path, replace)
        )
        if isinstance(last, Result):
            host(self).notify(last.text.splitlines(), title="Exported", timeout=8)  # the job's lines
            # the new file's name first: at 80 columns the folder's end is what gets cut
            self.set_summary(Text(f"exported to {target.name} beside {info.file} in {short_path(target.parent)}"))
        else:
            self.notify(last.message, title=f"Cannot export {info.file}", severity="error", timeout=10)
            self.set_summary(Text(f"export of {info.file} failed: {last.message}", style="red"))
