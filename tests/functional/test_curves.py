"""What the curves mean, in the dashboard: the per-class view and the diagnosis on the Run screen
(its remedy fills the Train form), per-class figures in Compare, a log that scrolls back to its
first line, searches and follows the tail, and `y` copying paths through OSC 52."""

from __future__ import annotations

import base64
import os
from pathlib import Path

from fer_core import fileio
from fer_core.runs import rundir
from fer_tui.app import FerApp
from fer_tui.screens.checkpoints import CheckpointsScreen
from fer_tui.screens.compare import CompareScreen
from fer_tui.screens.run import RunScreen
from fer_tui.screens.runs import RunsScreen
from fer_tui.screens.train import TrainScreen
from fer_tui.widgets.config_form import ConfigForm
from fer_tui.widgets.log_view import LogFile, LogPanel, LogView, wrap
from fer_tui.widgets.runs_table import RunsTable

from .checkpoints_pilot import on_checkpoints
from .conftest import NOW, SIZE, make_run, notified, region_text, screen_text, wait_for, wait_for_screen

# val acc stalls from epoch 5 while train acc keeps climbing: over-fitting from epoch 4
ACCS = (0.31, 0.44, 0.52, 0.57, 0.60, 0.601, 0.598, 0.60, 0.599, 0.60)
TRAIN = tuple(round(a + 0.01 + 0.02 * k, 4) for k, a in enumerate(ACCS))
LONG_LOG = "".join(f"Epoch {e}/200 - Loss: 1.{e:03d} - Validation Accuracy: 0.{e:04d}\n" for e in range(1, 201))


def overfit_run(root, run_id="20260101-090000-cpu-best", **kwargs):
    return make_run(
        root,
        run_id,
        preset="cpu-best",
        accs=ACCS,
        train_accs=TRAIN,
        per_class=True,
        config={"epochs": 10, "weight_decay": 0.05, "augment": True, "augment_policy": "crop_flip"},
        **kwargs,
    )


async def open_run(app, pilot, run_dir) -> RunScreen:
    app.open_run(run_dir)
    screen = await wait_for_screen(pilot, RunScreen)
    await wait_for(pilot, lambda: screen.rows and screen.query_one(LogPanel).path)
    return screen


def osc52(writes: list[str]) -> list[str]:
    """The texts the app put on the terminal's clipboard (OSC 52 sequences it wrote)."""
    found = []
    for data in writes:
        start = data.find("\x1b]52;c;")
        if start >= 0:
            payload = data[start + 7 : data.index("\a", start)]
            found.append(base64.b64decode(payload).decode())
    return found


def capture_writes(app, monkeypatch) -> list[str]:
    writes: list[str] = []
    real = app._driver.write
    monkeypatch.setattr(app._driver, "write", lambda data: (writes.append(data), real(data))[1])
    return writes


class TestPerClassView:
    async def test_the_table_the_confusions_and_the_diagnosis(self, root):
        run_dir = overfit_run(root)
        app = FerApp(root=root, reattach=False, clock=lambda: NOW)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_run(app, pilot, run_dir)
            assert "over-fitting" in screen.sub_title  # said in the header whatever the view
            await pilot.press("v")
            await wait_for(pilot, lambda: screen.has_class("-classes"))
            table = region_text(app, screen.query_one("#per-class"))
            fear = next(row for row in table if row.strip().startswith("fear"))
            # fear's recall at epoch 10 (tests.helpers.confusion_for(0.60)): 198/496
            assert "39.9" in fear and "496" in fear
            confusions = "\n".join(region_text(app, screen.query_one("#confusions")))
            assert "fear → sad 179" in confusions
            diagnosis = "\n".join(region_text(app, screen.query_one("#diagnosis")))
            assert "over-fitting (from epoch 4)" in diagnosis  # gap 7 points at epoch 4, 5 - ε at 3
            assert "weight_decay = 0.1, augment_policy = full, mixup = true" in diagnosis
            await pilot.press("v")  # then the whole log, then the charts again
            await wait_for(pilot, lambda: screen.has_class("-log"))
            await pilot.press("v")
            await wait_for(pilot, lambda: not screen.has_class("-log") and not screen.has_class("-classes"))

    async def test_old_metrics_without_per_class_figures_still_show(self, root):
        run_dir = make_run(root, "20260101-090000-demo", accs=(0.3, 0.4, 0.5))
        app = FerApp(root=root, reattach=False, clock=lambda: NOW)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_run(app, pilot, run_dir)
            await pilot.press("c")
            await wait_for(pilot, lambda: screen.has_class("-classes"))
            assert "no per-class figures yet" in screen_text(app)
            assert "nothing to remark in the curves (3 epochs)" in screen_text(app)

    async def test_a_one_epoch_run_is_1_epoch_not_1_epochs(self, root):
        run_dir = make_run(root, "20260101-090000-demo", accs=(0.3,))
        app = FerApp(root=root, reattach=False, clock=lambda: NOW)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_run(app, pilot, run_dir)
            await pilot.press("c")
            await wait_for(pilot, lambda: screen.has_class("-classes"))
            await wait_for(pilot, lambda: "nothing to remark in the curves (1 epoch)" in screen_text(app))

    async def test_the_f_hint_shows_only_with_a_remedy_to_apply(self, root):
        """Nothing to remark: no `f` in the panel's title, and `f` says so without sending the
        user to the diagnosis already on screen. With a remedy, the title names the key as the
        keymap has it."""
        fileio.write_text(Path(os.environ["FER_TUI_CONFIG"]), '[keymap]\napply_remedy = "F"\n')
        calm = make_run(root, "20260101-090000-demo", accs=(0.3, 0.4, 0.5))
        app = FerApp(root=root, reattach=False, clock=lambda: NOW)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            screen = await open_run(app, pilot, calm)
            await pilot.press("c")
            await wait_for(pilot, lambda: screen.has_class("-classes"))
            diagnosis = screen.query_one("#diagnosis")
            await wait_for(pilot, lambda: "nothing to remark" in screen_text(app))
            title = screen_text(app).splitlines()[diagnosis.region.y]
            assert "diagnosis" in title and "remedy" not in title, title
            await pilot.press("F")
            said = await wait_for(pilot, lambda: app._notifications and list(app._notifications)[-1].message)
            assert "nothing" in said and "shows the diagnosis" not in said, said
        app = FerApp(root=root, reattach=False, clock=lambda: NOW)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_run(app, pilot, overfit_run(root))
            await pilot.press("c")
            await wait_for(pilot, lambda: screen.has_class("-classes"))
            diagnosis = screen.query_one("#diagnosis")
            title = await wait_for(
                pilot, lambda: "remedy" in (row := screen_text(app).splitlines()[diagnosis.region.y]) and row
            )
            assert "F: train with the remedy" in title, title

    async def test_a_finding_that_appears_while_watching_is_announced(self, root):
        run_dir = overfit_run(root)
        lines = (run_dir / rundir.METRICS).read_text().splitlines()
        fileio.write_text(run_dir / rundir.METRICS, "\n".join(lines[:4]) + "\n")  # 4 epochs: nothing yet
        app = FerApp(root=root, reattach=False, clock=lambda: NOW)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_run(app, pilot, run_dir)
            assert screen.rules == set()
            fileio.write_text(run_dir / rundir.METRICS, "\n".join(lines) + "\n")
            await wait_for(pilot, lambda: screen.rules == {"overfitting"})
            await notified(pilot, "over-fitting")

    async def test_f_fills_the_train_form_with_the_run_config_and_the_remedy(self, root):
        run_dir = overfit_run(root)
        app = FerApp(root=root, reattach=False, clock=lambda: NOW)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for_screen(pilot, TrainScreen)
            await open_run(app, pilot, run_dir)
            await pilot.press("c", "f")
            train = await wait_for(pilot, lambda: isinstance(app.screen, TrainScreen) and app.screen)
            form = train.query_one(ConfigForm)
            await wait_for(pilot, lambda: form.raw("weight_decay") == "0.1")
            await pilot.pause(0.3)  # late events of the form must not undo it
            config = form.config()
            assert (config.weight_decay, config.augment_policy, config.mixup) == (0.1, "full", True)
            assert (config.epochs, config.arch) == (10, "tiny_cnn")  # the rest is the run's
            assert train.preset_name == "cpu-best"
            assert "weight_decay" in str(train.query_one("#diff").content)


class TestCompare:
    async def test_the_per_class_table_of_two_runs_side_by_side(self, root):
        overfit_run(root)
        make_run(root, "20260102-090000-demo", accs=(0.4, 0.7), per_class=True, started=NOW - 60)
        app = FerApp(root=root, reattach=False, clock=lambda: NOW)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("r")
            runs = await wait_for_screen(pilot, RunsScreen)
            runs.query_one(RunsTable).focus()
            await pilot.press("space", "down", "space", "c")
            compare = await wait_for_screen(pilot, CompareScreen)
            panel = compare.query_one("#compare-classes")
            await wait_for(pilot, lambda: "happy" in "".join(region_text(app, panel)))
            rows = region_text(app, panel)
            happy = next(row for row in rows if row.strip().startswith("happy"))
            # A: the newer demo run at its best epoch 2 (0.7 → happy 805 of 895), B: cpu-best at epoch 6
            assert happy.split()[1] == "89.9", rows  # round(895 * 0.9) = 806 - 1 … : 805/895
            header = rows[0].split()
            assert header == ["class", "A", "recall", "A", "prec", "B", "recall", "B", "prec"], rows
            # the legend says what A and B are and the epoch their figures are from
            legend = region_text(app, compare.query_one("#legend"))
            assert legend[0].startswith("A 20260102-090000-demo") and legend[0].rstrip().endswith("@2"), legend
            assert legend[1].startswith("B 20260101-090000-cpu-best") and legend[1].rstrip().endswith("@6"), legend


class TestLogFile:
    def test_only_appended_bytes_are_read_and_a_partial_line_waits(self, tmp_path):
        path = tmp_path / "train.log"
        path.write_text("one\ntwo\nthr")
        log = LogFile(path)
        assert log.poll() == (["one", "two"], False)
        assert log.offset == path.stat().st_size
        with open(path, "a") as handle:
            handle.write("ee\r  50%\r100%\nfour\n")
        assert log.poll() == (["100%", "four"], False)  # a progress line shows its last state
        assert log.poll() == ([], False)

    def test_a_replaced_or_truncated_log_starts_over(self, tmp_path):
        path = tmp_path / "train.log"
        path.write_text("a\nb\n")
        log = LogFile(path)
        log.poll()
        fileio.write_text(path, "new\n")  # renamed over: a new inode, and shorter
        assert log.poll() == (["new"], True)

    def test_escapes_a_file_holds_are_not_passed_to_the_terminal(self, tmp_path):
        path = tmp_path / "train.log"
        path.write_bytes(b"\x1b[31mred\x1b[0m \x07bell\n")
        assert LogFile(path).poll() == (["red bell"], False)

    def test_wrap_keeps_words_and_indents_continuations(self):
        line = "Epoch 25/50 - Loss: 0.6543 - Validation Accuracy: 0.6821"
        spans = wrap(line, 24)
        rows = [line[a:b] for a, b in spans]
        assert all(len(row) <= 24 for row in rows[:1]) and all(len(row) <= 22 for row in rows[1:])
        assert " ".join(rows) == line


class TestLogView:
    async def test_scroll_back_to_the_first_line_and_follow_the_tail(self, root):
        run_dir = make_run(root, "20260101-090000-demo", log=LONG_LOG)
        app = FerApp(root=root, reattach=False, clock=lambda: NOW)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_run(app, pilot, run_dir)
            await pilot.press("l")
            view = screen.query_one(LogView)
            await wait_for(pilot, lambda: view.has_focus and "Epoch 200/200" in screen_text(app))
            assert view.following and len(view.lines) == 200
            await pilot.press("home")  # back to the first line
            await wait_for(pilot, lambda: "Epoch 1/200 " in screen_text(app))
            assert not view.following
            fileio.append_line(run_dir / rundir.LOG, "Epoch 201/200 - appended while scrolled away")
            await wait_for(pilot, lambda: len(view.lines) == 201)
            await pilot.pause(0.1)
            assert "Epoch 1/200 " in screen_text(app) and "appended" not in screen_text(app)
            assert "end: follow" in screen.query_one(LogPanel).border_subtitle
            await pilot.press("end")  # following again
            await wait_for(pilot, lambda: view.following)
            fileio.append_line(run_dir / rundir.LOG, "Diagnosis: nothing to remark in the curves")
            await wait_for(pilot, lambda: "Diagnosis: nothing to remark" in screen_text(app))

    async def test_search_highlights_and_n_goes_to_the_next_match(self, root):
        run_dir = make_run(root, "20260101-090000-demo", log=LONG_LOG)
        app = FerApp(root=root, reattach=False, clock=lambda: NOW)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_run(app, pilot, run_dir)
            await pilot.press("home")  # not focused yet: the screen keeps it
            await pilot.press("slash")
            await wait_for(pilot, lambda: screen.has_class("-log") and screen.query_one("#log-search").has_focus)
            view = screen.query_one(LogView)
            await pilot.press("home")  # in the input: its cursor, not the log
            await pilot.press(*"accuracy: 0.0042", "enter")
            await wait_for(pilot, lambda: view.search.current is not None)
            assert len(view.search.matches) == 1
            assert "Epoch 42/200" in screen_text(app)
            await pilot.press("slash")
            await wait_for(pilot, lambda: screen.query_one("#log-search").has_focus)
            for _ in "accuracy: 0.0042":
                await pilot.press("backspace")
            await pilot.press(*"epoch 19", "enter")  # 19 and 190..199: 11 matches
            await wait_for(pilot, lambda: len(view.search.matches) == 11)
            first = view.search.current
            await pilot.press("n")
            await wait_for(pilot, lambda: view.search.current == (first + 1) % 11)
            line, start, end = view.search.matches[view.search.current]
            assert view.lines[line][start:end].lower() == "epoch 19"
            assert view.lines[line] in screen_text(app)
            assert f"{view.search.current + 1}/11" in screen.query_one(LogPanel).border_subtitle
            await pilot.press("N")
            await wait_for(pilot, lambda: view.search.current == first)
            await pilot.press("slash")  # escape closes the search box, and only it
            box = screen.query_one("#log-search")
            await wait_for(pilot, lambda: box.has_focus)
            await pilot.press("escape")
            await wait_for(pilot, lambda: not box.display and view.has_focus)
            assert app.screen is screen and view.search.term == "epoch 19"

    async def test_a_large_log_is_not_read_again_at_every_change(self, root, monkeypatch):
        run_dir = make_run(root, "20260101-090000-demo", log=LONG_LOG * 50)  # 10,000 lines
        app = FerApp(root=root, reattach=False, clock=lambda: NOW)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_run(app, pilot, run_dir)
            panel = screen.query_one(LogPanel)
            size = (run_dir / rundir.LOG).stat().st_size
            assert panel.file.offset == size
            read: list[int] = []
            real = LogFile.poll

            def counting(self):
                before = self.offset
                result = real(self)
                read.append(self.offset - before)
                return result

            monkeypatch.setattr(LogFile, "poll", counting)
            fileio.append_line(run_dir / rundir.LOG, "one more line")
            await wait_for(pilot, lambda: panel.view.lines[-1] == "one more line")
            assert read and max(read) == len("one more line\n")


class TestCopy:
    async def test_y_on_a_run_copies_its_path_with_osc52(self, root, monkeypatch):
        run_dir = make_run(root, "20260101-090000-demo")
        app = FerApp(root=root, reattach=False, clock=lambda: NOW)
        async with app.run_test(size=SIZE) as pilot:
            await open_run(app, pilot, run_dir)
            writes = capture_writes(app, monkeypatch)
            await pilot.press("y")
            await wait_for(pilot, lambda: osc52(writes))
            assert osc52(writes) == [str(run_dir.absolute())]
            assert app.clipboard == str(run_dir.absolute())
            await notified(pilot, str(run_dir.absolute()))

    async def test_y_on_the_runs_list_copies_the_run_under_the_cursor(self, root, monkeypatch):
        make_run(root, "20260101-090000-demo", started=NOW - 7200)
        newer = make_run(root, "20260102-090000-demo", started=NOW - 60)
        app = FerApp(root=root, reattach=False, clock=lambda: NOW)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("r")
            runs = await wait_for_screen(pilot, RunsScreen)
            runs.query_one(RunsTable).focus()
            writes = capture_writes(app, monkeypatch)
            await pilot.press("y")
            await wait_for(pilot, lambda: osc52(writes))
            assert osc52(writes) == [str(newer.absolute())]  # newest first

    async def test_y_on_the_checkpoints_copies_the_checkpoint_under_the_cursor(self, root, monkeypatch):
        async with on_checkpoints(root) as (app, pilot, screen, best):
            writes = capture_writes(app, monkeypatch)
            await pilot.press("y")
            await wait_for(pilot, lambda: osc52(writes))
            assert osc52(writes) == [str(best.absolute())]
            assert isinstance(app.screen, CheckpointsScreen)
            await notified(pilot, "checkpoint path copied")
