"""Run folders and stopping, tried as a hostile user would (issue 22: 1, 2, 5, 10, 16, 21).

Real processes and files: `fer-tui` through its console script, the fake trainer where only
the process matters, the real trainer where the trainer's own start-up is the point (it is
what deletes temporaries). Every refusal is one line naming the file, and what the user had
on disk (a file a link points at, a hidden file, an unrelated process) is left as it was.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fer_core import config, fileio
from fer_core.errors import ConfigError, ForeignFileError
from fer_core.runs import rundir, runlock
from tests.helpers import make_run, status_of
from tests.reliability.conftest import refused_in_one_line, tiny_config, wait_until

FER_TUI = str(Path(sys.executable).with_name("fer-tui"))
FAKE_TRAINER = Path(__file__).resolve().parent.parent / "fake_trainer.py"
SHIPPED = Path(__file__).resolve().parents[2] / "checkpoints" / "shipped" / "demo-tiny_cnn"
PRECIOUS = "the user's own file: fer-tui never writes here\n"
DEEP = "[" * 100_000 + "]" * 100_000  # ~200 KB of brackets: a RecursionError in any recursive parser


def _cli(*args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([FER_TUI, *args], capture_output=True, text=True, timeout=timeout, env={**os.environ, **env})


@pytest.fixture
def area(tmp_path, monkeypatch):
    """cwd is the test's folder; detached trainers are the fake one."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FER_TUI_TRAINER", f"{sys.executable} {FAKE_TRAINER}")
    monkeypatch.setenv("FAKE_TRAINER_EPOCH_SECONDS", "0.3")
    return tmp_path


def _stopped_run(area: Path, epochs: int = 2) -> Path:
    csv = area / "in.csv"
    if not csv.exists():
        from tests.helpers import small_csv

        small_csv(csv, train_per_class=6, val_per_class=2)
    run_dir = rundir.create_run(tiny_config(csv, epochs=epochs), "r3")
    rundir.update_status(run_dir, state="stopped")
    return run_dir


def _victim(area: Path) -> Path:
    victim = area / "outside" / "precious.txt"
    victim.parent.mkdir(exist_ok=True)
    victim.write_text(PRECIOUS)
    return victim


# ---------------------------------------------------------------- 1: a symlinked trainer.lock


@pytest.mark.parametrize("detach", [True, False], ids=["detach", "foreground"])
def test_a_symlinked_lock_is_refused_and_its_target_untouched(area, procs, detach):
    """trainer.lock replaced by a link to a file of the user's: `train --resume` refuses in
    one line naming the lock, and the file the link points at still holds what it held."""
    run_dir = procs.watch(_stopped_run(area))
    victim = _victim(area)
    lock = run_dir / runlock.LOCK_NAME
    lock.symlink_to(victim)
    result = _cli("train", "--resume", str(run_dir), *(["--detach"] if detach else []), timeout=300)
    refused_in_one_line(result, str(lock), "symbolic link")
    assert victim.read_text() == PRECIOUS, "the trainer's pid was written through the link"
    assert lock.is_symlink() and status_of(run_dir).state == "stopped"


# ---------------------------------------------------------------- 16: a FIFO named trainer.lock


def test_a_fifo_lock_never_hangs_resume_or_stop(area):
    run_dir = _stopped_run(area)
    lock = run_dir / runlock.LOCK_NAME
    os.mkfifo(lock)
    started = time.monotonic()
    refused_in_one_line(_cli("train", "--resume", str(run_dir), "--detach", timeout=60), str(lock), "FIFO")
    refused_in_one_line(_cli("stop", str(run_dir), timeout=60), str(run_dir), "nothing to stop")
    assert time.monotonic() - started < 60
    assert rundir.find_runs(area / "checkpoints")[0].path == run_dir  # the listing reads past it too


# ---------------------------------------------------------------- 1: every file a trainer writes


@pytest.mark.parametrize(
    "name", [rundir.LOG, rundir.STATUS, rundir.METRICS, rundir.LAST_STATE, "best_model.json", "fer-2_4.ckpt"]
)
def test_a_resume_refuses_a_run_file_that_is_a_link(area, procs, name):
    """Any name the trainer writes, made a link to a file outside the run: the resume is one
    line naming it and no trainer starts (train.log used to be appended to outside the run)."""
    run_dir = procs.watch(_stopped_run(area))
    victim = _victim(area)
    (run_dir / name).unlink(missing_ok=True)
    (run_dir / name).symlink_to(victim)
    refused_in_one_line(_cli("train", "--resume", str(run_dir), "--detach"), str(run_dir / name), "symbolic link")
    assert victim.read_text() == PRECIOUS
    if name != rundir.STATUS:
        assert status_of(run_dir).state == "stopped"


def test_a_resume_refuses_a_worker_log_folder_that_is_a_link(area, procs):
    """RUN/msrun (msrun's logs, launch.json) as a link to a folder outside the run: refused."""
    run_dir = procs.watch(_stopped_run(area))
    outside = area / "outside-folder"
    outside.mkdir()
    (run_dir / rundir.WORKER_LOGS).symlink_to(outside)
    refused_in_one_line(_cli("train", "--resume", str(run_dir), "--detach"), str(run_dir / rundir.WORKER_LOGS))
    assert list(outside.iterdir()) == []


def test_no_writer_follows_a_link_out_of_the_run(area, tmp_path):
    """Each way a run-folder file is written (append, atomic replace, the hang-up redirect in
    a real process) refuses a link, and the file it points at is untouched."""
    run_dir = _stopped_run(area)
    victim = _victim(area)
    for name in (rundir.LOG, rundir.METRICS, rundir.STATUS, rundir.CONFIG):
        (run_dir / name).unlink(missing_ok=True)
        (run_dir / name).symlink_to(victim)
    with pytest.raises(ForeignFileError, match="metrics.jsonl is a symbolic link"):
        fileio.append_line(run_dir / rundir.METRICS, '{"epoch": 1}')
    with pytest.raises(ForeignFileError, match="status.json is a symbolic link"):
        rundir.update_status(run_dir, state="running")
    with pytest.raises(ForeignFileError, match="config.toml is a symbolic link"):
        fileio.write_toml(run_dir / rundir.CONFIG, {"epochs": 1})
    hung_up = subprocess.run(  # what a trainer does when its terminal hangs up
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; from fer_core.train import terminal; "
            "terminal.redirect_output(Path(sys.argv[1]), 'terminal hung up'); print('a line of the run')",
            str(run_dir / rundir.LOG),
        ],
        capture_output=True,
        timeout=60,
    )
    assert hung_up.returncode == 0, hung_up.stderr
    assert victim.read_text() == PRECIOUS
    assert all((run_dir / n).is_symlink() for n in (rundir.LOG, rundir.METRICS, rundir.STATUS, rundir.CONFIG))


# ---------------------------------------------------------------- 2: a resume keeps hidden files


@pytest.mark.slow
def test_a_resume_keeps_the_users_hidden_files_and_removes_only_its_temporaries(area, tiny_csv):
    """`.notes.md` and `.gitignore` survive the real trainer's start-up; the temporaries a
    kill -9 left (fer-tui's own and MindSpore's, named from them) are gone."""
    run_dir = rundir.create_run(tiny_config(tiny_csv, epochs=1), "hidden")
    rundir.update_status(run_dir, state="stopped")
    mine = {".notes.md": "# what I tried\n", ".gitignore": "*.ckpt\n", ".status.json.bak": "{}\n"}
    for name, text in mine.items():
        (run_dir / name).write_text(text)
    # fer-tui's temporaries (test_only_fer_tui_names_are_temporaries holds the real names to this)
    ours = [".best_model.ckpt.fer-tmp-k2j3h4ab.ckpt", ".best_model.ckpt.fer-tmp-k2j3h4ab.tmp"]
    ours.append(".status.json.fer-tmp-q1w2e3r4.tmp")
    for name in ours:
        (run_dir / name).write_bytes(os.urandom(1000))
    result = _cli("train", "--resume", str(run_dir), timeout=600, GLOG_v="3")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert {n: (run_dir / n).read_text() for n in mine} == mine, "a user's hidden file was deleted"
    assert [n for n in ours if (run_dir / n).exists()] == [], "fer-tui's temporaries survived"


def test_only_fer_tui_names_are_temporaries(tmp_path):
    """The names real writes use (MindSpore's own: its file name ending `.tmp`) are
    temporaries; a user's hidden files are not."""
    with pytest.raises(InterruptedError), fileio.atomic_path(tmp_path / rundir.BEST, suffix=".ckpt") as tmp:
        names = [tmp.name, tmp.with_suffix(".tmp").name]
        raise InterruptedError  # abandoned, as a kill -9 would leave it
    assert names[0].startswith(".best_model.ckpt.") and all(fileio.is_temporary(n) for n in names), names
    assert list(tmp_path.iterdir()) == []
    for name in (".notes.md", ".gitignore", ".status.json.k2j3h4.tmp", ".fer-tmp-", "status.json"):
        assert not fileio.is_temporary(name), name


# ---------------------------------------------------------------- 5: stop never trusts status.json


def test_stop_never_signals_the_tail_that_status_json_names(area, procs):
    """No trainer.lock, status.json `running` with the pid of `tail -f RUN/train.log` (the
    command fer-tui itself suggests): stop refuses in one line and tail lives on."""
    run_dir = _stopped_run(area)
    (run_dir / rundir.LOG).write_text("a line\n")
    tail = subprocess.Popen(["tail", "-f", str(run_dir / rundir.LOG)], stdout=subprocess.DEVNULL)
    procs.add(tail.pid)
    rundir.update_status(run_dir, state="running", pid=tail.pid)
    assert not os.path.lexists(runlock.lock_path(run_dir))
    refused_in_one_line(_cli("stop", str(run_dir)), str(run_dir), "not signalled")
    time.sleep(0.3)  # a signal, had one been sent, lands at once
    assert tail.poll() is None, "stop killed `tail -f` of the run's log"


def test_stop_reaches_a_trainer_without_a_lock_by_its_command_line(area, procs):
    """The trainer itself, started with no lock file (as before the lock existed): its
    command line is this run's trainer command, so stop signals it and it ends `stopped`."""
    run_dir = procs.watch(_stopped_run(area, epochs=50))
    trainer = subprocess.Popen(
        [sys.executable, str(FAKE_TRAINER), str(run_dir)], stdout=subprocess.DEVNULL, start_new_session=True
    )
    procs.add(trainer.pid)
    wait_until(lambda: status_of(run_dir).state == "running", 60, 0.05, "the fake trainer to run")
    assert not os.path.lexists(runlock.lock_path(run_dir))
    result = _cli("stop", str(run_dir))
    assert result.returncode == 0 and f"pid {trainer.pid}" in result.stdout, result.stderr
    assert trainer.wait(timeout=60) == 0
    assert status_of(run_dir).state == "stopped"


# ---------------------------------------------------------------- 21: truthful messages


def test_stop_on_a_run_whose_trainer_is_gone_says_lost(area, procs):
    """status.json says `running`, its lock is free (the trainer died) and its pid now belongs
    to a live process: stop says the trainer is gone, not `not live (running)`."""
    run_dir = _stopped_run(area)
    runlock.acquire(run_dir).release()  # the lock file a trainer left
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    procs.add(other.pid)
    rundir.update_status(run_dir, state="running", pid=other.pid)
    line = refused_in_one_line(_cli("stop", str(run_dir)), str(run_dir), "its trainer is gone (lost)")
    assert "(running)" not in line
    assert other.poll() is None


def test_a_save_dir_that_is_a_file_is_named_as_one(area):
    (area / "runs-here").write_text("not a folder\n")
    line = refused_in_one_line(
        _cli("train", "--preset", "demo", "--save_dir", str(area / "runs-here")),
        f"save_dir {area / 'runs-here'} is a file, not a folder",
    )
    assert "File exists" not in line
    assert (area / "runs-here").read_text() == "not a folder\n"


# ---------------------------------------------------------------- 10: deeply nested JSON and TOML


def test_deep_status_json_is_one_bad_run_among_good_ones(area):
    root = area / "checkpoints"
    good = make_run(root, "20260101-000000-good")
    bad = make_run(root, "20260101-000001-deep")
    (bad / rundir.STATUS).write_text(DEEP)
    runs = _cli("runs")
    assert runs.returncode == 0 and good.name in runs.stdout, runs.stderr[-2000:]
    assert "Traceback" not in runs.stderr
    # the bad one is listed too, unreadable, with a note naming its status.json and why
    assert any(line.split()[:2] == [bad.name, "unreadable"] for line in runs.stdout.splitlines()), runs.stdout
    assert f"{bad / rundir.STATUS}: unreadable (brackets nested more than" in runs.stdout, runs.stdout
    refused_in_one_line(_cli("stop", str(bad)), str(bad / rundir.STATUS))
    (bad / rundir.METRICS).write_text(DEEP + "\n")  # a metrics line too: skipped, not fatal
    assert rundir.read_metrics(bad) == []


def test_a_deep_config_toml_refuses_the_resume_naming_it(area):
    run_dir = _stopped_run(area)
    (run_dir / rundir.CONFIG).write_text(f"epochs = 2\nlr = {DEEP}\n")
    refused_in_one_line(_cli("train", "--resume", str(run_dir), "--detach"), str(run_dir / rundir.CONFIG), "nested")
    assert status_of(run_dir).state == "stopped"


def test_a_deep_config_file_isrefused_in_one_line(area):
    deep = area / "deep.toml"
    deep.write_text(f"a = {DEEP}\n")
    refused_in_one_line(_cli("train", "--config", str(deep)), str(deep), "nested")
    dotted = area / "dotted.toml"
    dotted.write_text("a." * 20_000 + "b = 1\n")
    refused_in_one_line(_cli("train", "--config", str(dotted), timeout=60), str(dotted), "nested")


def test_one_deep_preset_never_hides_the_others(area):
    presets = Path(os.environ["FER_TUI_USER_PRESETS"])
    presets.mkdir(parents=True)
    (presets / "deep.toml").write_text(f"description = 'x'\narch = {DEEP}\n")
    listing = _cli("presets")
    assert "Traceback" not in listing.stderr, listing.stderr[-2000:]
    assert "demo" in listing.stdout and "cpu-basic" in listing.stdout
    broken = [line for line in listing.stdout.splitlines() if line.startswith("deep")]
    assert len(broken) == 1 and str(presets / "deep.toml") in broken[0], listing.stdout
    refused_in_one_line(_cli("presets", "deep"), str(presets / "deep.toml"))


def test_a_deep_sidecar_is_one_row_of_the_quick_listing(area):
    root = area / "models"
    for name in ("good", "deep"):
        (root / name).mkdir(parents=True)
        (root / name / "best_model.ckpt").write_bytes((SHIPPED / "best_model.ckpt").read_bytes())
        (root / name / "best_model.json").write_text((SHIPPED / "best_model.json").read_text())
    (root / "deep" / "best_model.json").write_text(DEEP)
    result = _cli("checkpoints", "--quick", str(root))
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    rows = {line.split()[0]: line for line in result.stdout.splitlines() if "best_model.ckpt" in line}
    assert len(rows) == 2, result.stdout
    assert "nested" in result.stdout or "sidecar" in result.stdout, result.stdout


async def test_the_dashboard_starts_past_deep_files(area):
    """A deep status.json and a deep user preset: the dashboard starts, lists the good run (and
    the bad one as unreadable) and the shipped presets, and names the bad preset."""
    from fer_tui.app import FerApp
    from fer_tui.screens.train import TrainScreen

    root = area / "checkpoints"
    make_run(root, "20260101-000000-good")
    (make_run(root, "20260101-000001-deep") / rundir.STATUS).write_text(DEEP)
    presets = Path(os.environ["FER_TUI_USER_PRESETS"])
    presets.mkdir(parents=True)
    (presets / "deep.toml").write_text(f"arch = {DEEP}\n")
    app = FerApp(root=root)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        deadline = time.monotonic() + 30
        while not isinstance(app.screen, TrainScreen) and time.monotonic() < deadline:
            await pilot.pause(0.05)
        assert isinstance(app.screen, TrainScreen)
        assert "demo" in app.screen.presets
        assert any("deep.toml" in n.message for n in app._notifications)
        await pilot.press("r")
        await pilot.pause()
        hint = str(app.screen.query_one("#runs-hint").content)
        assert hint.startswith("2 runs under"), hint
        states = {run.run_id: run.state for run in app.screen.query_one("#runs-table").runs.values()}
        assert states == {"20260101-000000-good": "finished", "20260101-000001-deep": "unreadable"}


def test_a_deep_launch_file_does_not_stop_a_resume(area):
    """msrun/launch.json (the workers' settings) nested deep: the resume goes on with defaults."""
    from fer_core.train.parallel import msrun

    run_dir = _stopped_run(area)
    (run_dir / msrun.LOGS).mkdir()
    (run_dir / msrun.LOGS / msrun.LAUNCH).write_text(DEEP)
    assert msrun.read_launch(run_dir) == msrun.Launch()


def test_sizes_are_capped(area):
    run_dir = _stopped_run(area)
    (run_dir / rundir.STATUS).write_text('{"state": "running", "message": "' + "x" * (fileio.MAX_BYTES + 1) + '"}')
    assert rundir.read_status(run_dir) is None
    big = area / "big.toml"
    big.write_text('description = "' + "x" * (fileio.MAX_BYTES + 1) + '"\n')
    with pytest.raises(ConfigError, match="big.toml: not a config .larger than"):
        config.read_preset(big)
