"""Bad input and hostile names, round 3 (issue 22: defects 4, 7, 11, 14, 15, 18, 20, 21).

Real files, real processes: what a hostile user can hand fer-tui (a sample folder with their own
files in it, escape sequences in a CSV header or a file name, a gzip bomb, /dev/zero, a file name
that is not UTF-8, a sidecar that lies, a ctrl+c while workers start) ends in one line naming the
thing, or in the work done, and never in a lost file, a traceback or a hijacked terminal.
"""

from __future__ import annotations

import gzip
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import cv2
import pytest

from fer_core import CLASS_NAMES
from fer_core.cli import main as cli
from fer_core.data import dataset
from fer_core.data.synthetic import draw_faces
from fer_core.job.events import Error, Progress, Result, parse
from fer_core.runs import rundir
from fer_core.train.parallel import msrun
from tests.helpers import fer_rows, small_csv, write_csv
from tests.reliability.test_bad_inputs import rejects

SHIPPED = Path(__file__).resolve().parents[2] / "checkpoints" / "shipped" / "demo-tiny_cnn"
HOSTILE = "\x1b]0;PWNED\x07\x1b[31m"  # sets the window title, then the colour
SEEN = "\\x1b]0;PWNED\\x07\\x1b[31m"  # what a terminal must show instead


@pytest.fixture
def area(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GLOG_v", "3")
    monkeypatch.setenv("FER_TUI_CACHE", str(tmp_path / "cache"))
    (tmp_path / "in").mkdir()
    return tmp_path


def fer_tui(*args: str | bytes, timeout: float = 300, limit_memory: bool = False) -> subprocess.CompletedProcess:
    """`fer-tui ARGS` in a process of its own; bytes out, as a terminal would receive them."""
    return subprocess.run(
        [sys.executable, "-m", "fer_core.cli", *args],
        capture_output=True,
        timeout=timeout,
        preexec_fn=_two_gigabytes if limit_memory else None,
    )


def _two_gigabytes() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


def face_png(path: Path, seed: int = 0) -> Path:
    images, _ = draw_faces(1, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), images[0])
    return path


def assert_terminal_safe(output: bytes) -> None:
    """No byte that a terminal obeys rather than shows: ESC, BEL, NUL (a newline is fine)."""
    for byte in (b"\x1b", b"\x07", b"\x00", b"\x9b"):
        assert byte not in output, f"{byte!r} reached the terminal: {output[-600:]!r}"


# ---------------------------------------------------------------- 4: samples touch only their own files


def samples(out: Path, *extra: str) -> list[str]:
    return ["samples", "--csv", "demo", "--output", str(out), *extra]


@pytest.mark.parametrize(
    "mine, with_model",
    [("samples.json", False), ("overview.png", True)],
    ids=["a users samples.json", "a users overview.png"],
)
def test_samples_without_force_replace_no_file_of_the_users(capfd, area, mine, with_model):
    out = area / "mine"
    out.mkdir()
    (out / mine).write_bytes(b"the user's own file")
    model = ["--ckpt", str(SHIPPED / "best_model.ckpt")] if with_model else []
    rejects(capfd, area, samples(out, *model), [str(out / mine), "already exists"], "r3: samples over a user's file")
    assert (out / mine).read_bytes() == b"the user's own file"


def test_force_removes_only_what_the_earlier_set_wrote(area, capfd):
    out = area / "mine"
    assert cli.main(samples(out, "--num_samples", "3")) == 0
    manifest = json.loads((out / "samples.json").read_text())["files"]
    assert "happy/correct_sample_3.png" in manifest
    face_png(out / "happy" / "correct_sample_notmine.png")
    (out / "overview.png").write_bytes(b"the user's overview")
    assert cli.main(samples(out, "--num_samples", "1", "--force")) == 0
    assert (out / "overview.png").read_bytes() == b"the user's overview"
    assert (out / "happy" / "correct_sample_notmine.png").is_file(), "never written by this set: kept"
    assert not (out / "happy" / "correct_sample_3.png").exists(), "the earlier set's tail is gone"
    assert json.loads((out / "samples.json").read_text())["files"] == [
        f"{name}/correct_sample_1.png" for name in CLASS_NAMES
    ]


def test_force_refuses_to_replace_a_file_the_manifest_does_not_name(capfd, area):
    out = area / "mine"
    assert cli.main(samples(out, "--num_samples", "1")) == 0  # no model: no overview in the set
    (out / "overview.png").write_bytes(b"the user's overview")
    model = ["--ckpt", str(SHIPPED / "best_model.ckpt")]
    rejects(
        capfd,
        area,
        samples(out, "--num_samples", "1", "--force", *model),
        [str(out / "overview.png"), "--force leaves it"],
        "r3: samples --force over a user's file",
    )


def test_a_manifest_naming_other_files_does_not_make_them_removable(area):
    out = area / "mine"
    out.mkdir()
    victim = area / "victim.txt"
    victim.write_text("keep me")
    (out / "samples.json").write_text(
        json.dumps({"data": "demo", "split": "PublicTest", "files": ["../victim.txt", str(victim), "happy/.."]})
    )
    assert cli.main(samples(out, "--num_samples", "1", "--force")) == 0
    assert victim.read_text() == "keep me"


@pytest.mark.parametrize("force", [False, True], ids=["new set", "--force"])
def test_a_class_folder_that_links_elsewhere_is_refused_not_written_through(capfd, area, force):
    out, elsewhere = area / "mine", area / "elsewhere"
    if force:
        assert cli.main(samples(out, "--num_samples", "1")) == 0  # an earlier set of ours
        shutil.rmtree(out / "happy")
    out.mkdir(exist_ok=True)
    elsewhere.mkdir()
    (elsewhere / "correct_sample_1.png").write_bytes(b"the user's file, where the link points")
    (out / "happy").symlink_to(elsewhere, target_is_directory=True)
    extra = ["--force"] if force else []
    line = rejects(
        capfd,
        area,
        samples(out, "--num_samples", "1", *extra),
        [str(out / "happy"), "symbolic link"],
        "r3: samples over a user's file",
    )
    assert "not a folder fer-tui made" in line
    assert sorted(p.name for p in elsewhere.iterdir()) == ["correct_sample_1.png"]


# ---------------------------------------------------------------- 7: what reaches a terminal is escaped


def test_a_csv_header_with_escape_sequences_is_printed_escaped(area):
    path = write_csv(area / "in" / "title.csv", fer_rows(1), header=f"emo{HOSTILE},pixels,Usage")
    result = fer_tui("data", str(path), "--no-cache")
    assert result.returncode == 2
    assert_terminal_safe(result.stdout + result.stderr)
    lines = result.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and SEEN.lower() in lines[0] and "missing column 'emotion'" in lines[0], lines


def test_a_utf16_csv_is_named_and_prints_no_nul_bytes(area):
    plain = small_csv(area / "in" / "plain.csv")
    path = area / "in" / "utf16.csv"
    path.write_bytes(plain.read_text().encode("utf-16"))
    result = fer_tui("data", str(path), "--no-cache")
    assert result.returncode == 2
    assert_terminal_safe(result.stdout + result.stderr)
    lines = result.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and "utf16.csv" in lines[0] and "UTF-16" in lines[0], lines


def test_image_names_with_escape_sequences_are_printed_escaped(area):
    folder = area / "in" / "faces"
    face_png(folder / f"{HOSTILE}face.png")
    (folder / f"{HOSTILE}cut.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20)  # a PNG cut short
    result = fer_tui(
        "infer", "--ckpt", str(SHIPPED / "best_model.ckpt"), "--image", str(folder), "--backend", "mindspore"
    )
    assert result.returncode == 2, result.stderr[-2000:]  # one image unreadable, the other predicted
    assert_terminal_safe(result.stdout + result.stderr)
    assert f"{SEEN}face.png: Prediction:" in result.stdout.decode()
    assert f"{SEEN}cut.png" in result.stderr.decode()


def test_a_class_folder_file_with_escapes_is_named_escaped(area):
    root = area / "in" / "set"
    face_png(root / "happy" / "a.png")
    (root / "happy" / f"{HOSTILE}.png").write_bytes(b"not an image at all")
    result = fer_tui("data", str(root))
    assert result.returncode == 2
    assert_terminal_safe(result.stdout + result.stderr)
    assert SEEN in result.stderr.decode()


async def test_the_dashboard_shows_a_hostile_run_name_as_written(area, monkeypatch):
    """A run folder whose name holds markup and escapes: the table shows it, obeys neither."""
    from fer_core.runs import rundir
    from fer_tui.app import FerApp
    from fer_tui.widgets.runs_table import RunsTable
    from tests.functional.conftest import screen_text
    from tests.reliability.conftest import tiny_config

    monkeypatch.setenv("FER_TUI_CHECKPOINTS", str(area / "checkpoints"))
    monkeypatch.setenv("FER_TUI_STATE", str(area / "state"))
    run_dir = rundir.create_run(tiny_config(small_csv(area / "in" / "d.csv")), "x")
    # status.json is a file anyone can edit: its run id and message are file-supplied text
    rundir.update_status(run_dir, state="failed", run_id=f"[reverse]b{HOSTILE}", message=f"[red]{HOSTILE}")
    app = FerApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await app.switch_mode("runs")
        await pilot.pause()
        table = app.screen.query_one(RunsTable)
        cells = [str(table.get_cell_at((row, 1))) for row in range(table.row_count)]
        assert any(cell.startswith("[reverse]b\\x1b]0") for cell in cells), cells
        app.notify(f"[b]{HOSTILE}")  # a message naming a file: shown as written
        await pilot.pause()
        assert any("\\[b]\\x1b]0;PWNED" in n.message for n in app._notifications), "escaped, not obeyed"
        assert "\x1b" not in screen_text(app) and "\x07" not in screen_text(app)


# ---------------------------------------------------------------- 11 and 21: sizes, devices, line ends


def test_dev_zero_is_refused_in_one_line(area):
    result = fer_tui("data", "/dev/zero", "--no-cache", timeout=60, limit_memory=True)
    assert result.returncode == 2, result.stderr[-2000:]
    lines = result.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and "/dev/zero: not a regular file" in lines[0], lines


def test_a_checkpoint_that_is_a_device_is_not_called_a_folder(capfd, area):
    image = face_png(area / "in" / "face.png")
    line = rejects(
        capfd,
        area,
        ["infer", "--ckpt", "/dev/zero", "--image", str(image)],
        ["/dev/zero", "not a regular file"],
        "r3: --ckpt /dev/zero",
    )
    assert "folder" not in line


@pytest.mark.parametrize("gz", [True, False], ids=["gzip bomb", "plain"])
def test_a_csv_past_the_bound_is_one_line(capfd, area, monkeypatch, gz):
    """The bound is MAX_CSV_BYTES (2 GiB; FER2013 is about 300 MB); 1 MiB here, so the test
    makes a 4 MiB file rather than gigabytes. A gzip of 4 MiB of digits is a few KB."""
    monkeypatch.setattr(dataset, "MAX_CSV_BYTES", 1 << 20)
    path = area / "in" / ("bomb.csv.gz" if gz else "big.csv")
    body = b"emotion,pixels,Usage\n" + (b"0," + b"1 " * 2303 + b"1,Training\n") * 950
    assert len(body) > 4 << 20
    path.write_bytes(gzip.compress(body) if gz else body)
    line = rejects(
        capfd,
        area,
        ["data", str(path), "--no-cache"],
        [path.name, "more than 1 MB"],
        "r3: csv past the bound",
    )
    assert ("unpacks to" in line) == gz


def test_a_gzip_bomb_is_refused_without_holding_what_it_unpacks_to(area):
    """A file of ~0.5 MB that unpacks to 512 MiB, against a bound of 256 MiB, in a fresh
    process: refused while the process's peak memory stays far below the bound (it used to
    hold the bound's worth, then copy it)."""
    path = area / "in" / "bomb.csv.gz"
    row = b"0," + b"1 " * 2303 + b"1,Training\n"
    with gzip.open(path, "wb", compresslevel=9) as out:
        out.write(b"emotion,pixels,Usage\n")
        block = row * 1000
        for _ in range((512 << 20) // len(block) + 1):
            out.write(block)
    script = (
        "import resource, sys; from fer_core.data import dataset; from fer_core.errors import DataError\n"
        "dataset.MAX_CSV_BYTES = 256 << 20\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "try:\n    dataset.parse_csv(__import__('pathlib').Path(sys.argv[1]))\n"
        "except DataError as error:\n    print(error)\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)\n"
    )
    result = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True, timeout=300)
    message, grown_kb = result.stdout.strip().splitlines()
    assert "unpacks to more than 256 MB" in message, result.stdout + result.stderr
    assert int(grown_kb) < 64 << 10, f"the refusal held {int(grown_kb) >> 10} MB"


def test_the_bound_leaves_room_for_fer2013():
    assert dataset.MAX_CSV_BYTES >= 1 << 30  # FER2013's CSV is about 300 MB


def test_a_csv_with_cr_line_ends_is_read(area):
    plain = small_csv(area / "in" / "lf.csv", train_per_class=2, val_per_class=1)
    path = area / "in" / "cr.csv"
    path.write_bytes(plain.read_bytes().replace(b"\n", b"\r"))
    result = fer_tui("data", str(path), "--no-cache")
    assert result.returncode == 0, result.stderr.decode()
    assert "Training         14" in result.stdout.decode() and "PublicTest        7" in result.stdout.decode()


# ---------------------------------------------------------------- 14: visualize to an extension it cannot write


def test_visualize_to_an_unsupported_extension_is_one_line(capfd, area):
    image = face_png(area / "in" / "face.png")
    rejects(
        capfd,
        area,
        ["visualize", "--ckpt", str(SHIPPED / "best_model.ckpt"), "--input", str(image), "--output", "out.txt"],
        ["out.txt", "'.txt'"],
        "r3: visualize --output out.txt",
    )


# ---------------------------------------------------------------- 15: jobs on names that are not UTF-8


def job(*args: str | bytes, timeout: float = 300) -> tuple[int, list]:
    result = subprocess.run(
        [sys.executable, "-m", "fer_core.job", *args], capture_output=True, timeout=timeout, check=False
    )
    assert b"Traceback" not in result.stderr, result.stderr[-2000:]
    return result.returncode, [parse(line) for line in result.stdout.splitlines()]


def test_a_data_job_on_a_non_utf8_path_ends_with_an_error_event(area):
    code, events = job("data", b"\xff\xfe")
    assert code == 2
    assert isinstance(events[-1], Error) and "no such file or folder" in events[-1].message


def test_an_infer_job_predicts_an_image_whose_name_is_latin1(area):
    folder = area / "in" / "faces"
    face_png(folder / "happy" / "plain.png")
    latin1 = os.fsencode(folder / "happy") + b"/caf\xe9.png"
    shutil.copy(folder / "happy" / "plain.png", latin1)
    code, events = job("infer", "--ckpt", str(SHIPPED / "best_model.ckpt"), "--folder", str(folder))
    assert code == 0, events
    assert isinstance(events[-1], Result) and events[-1].summary.total == 2
    paths = [e.prediction.path for e in events if isinstance(e, Progress) and e.prediction]
    assert os.fsdecode(latin1) in paths
    assert Path(os.fsdecode(latin1)).is_file(), "the path in the event opens the very file"


# ---------------------------------------------------------------- 18: a sidecar that lies


@pytest.mark.parametrize(
    "lie, level, words",
    [
        ({"arch": "fer_vgg", "epoch": 999, "val_acc": 0.999}, "broken", "it says fer_vgg, the tensors are tiny_cnn's"),
        ({"expected_bytes": 1_300_000}, "warning", "it expects 1.3 MB, the tensors make 245.8 KB"),
    ],
    ids=["another architecture", "another size"],
)
def test_the_quick_check_says_a_lying_sidecar_disagrees_with_the_weights(area, lie, level, words):
    """Another architecture is broken (the full check cannot load it as that); another size
    only misleads (the full check measures the file against the tensors: ok)."""
    run = area / "checkpoints" / "r"
    shutil.copytree(SHIPPED, run)
    side = json.loads((run / "best_model.json").read_text())
    (run / "best_model.json").write_text(json.dumps({**side, **lie}))
    result = fer_tui("checkpoints", str(area / "checkpoints"), "--quick", "--json")
    assert result.returncode == (1 if level == "broken" else 0), result.stderr.decode()
    verdict = json.loads(result.stdout.decode().splitlines()[0])["verdict"]
    assert verdict["level"] == level
    assert verdict["text"].startswith("sidecar disagrees with the weights") and words in verdict["text"], verdict


def test_the_quick_check_still_passes_an_honest_sidecar(area):
    shutil.copytree(SHIPPED, area / "checkpoints" / "r")
    result = fer_tui("checkpoints", str(area / "checkpoints"), "--quick", "--json")
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()


# ---------------------------------------------------------------- 20: workers: their start-up and their chatter


def test_the_terminal_copy_of_a_workers_log_leaves_mindsporess_lines_in_msrun(tmp_path, capfd):
    log = tmp_path / "worker_0.log"
    chatter = (
        "[WARNING] DISTRIBUTED(812,7f3a,python):2026-12-06-17:40:00.123.456 [mindspore/ccsrc/x.cc:12] "
        "Connect] Failed to connect to the meta server\n"
    )
    copy = msrun.LogCopy(log, tmp_path / "train.log")
    log.write_text("worker rank 0 of 2 (pid 812)\n" + chatter * 60 + "Epoch 1/2 - Loss: 1.9 / Validation Acc")
    capfd.readouterr()
    copy.pump()
    with open(log, "a") as handle:
        handle.write("uracy: 0.21\n" + chatter + "[ERROR] ME(812,7f3a,python):2026-12-06 [x.cc:1] y] z\n")
    copy.pump(final=True)
    out = capfd.readouterr().out
    assert out == "worker rank 0 of 2 (pid 812)\nEpoch 1/2 - Loss: 1.9 / Validation Accuracy: 0.21\n", out
    assert log.read_text().count("Failed to connect to the meta server") == 61, "msrun/'s log keeps them"


@pytest.mark.parametrize("how", ["truncated", "made anew"])
def test_a_resumed_runs_terminal_copy_starts_with_the_new_launchs_lines(tmp_path, capfd, how):
    # the last launch's log stays until msrun truncates it: its lines were copied once, and
    # copied again they ran into the new ones (`797 - 359 img/s`) and hid the resume's first lines
    log = tmp_path / "worker_0.log"
    log.write_text(
        "worker rank 0 of 2 (pid 811)\nEpoch 1/20 - Loss: 2.0709\nStopped by SIGTERM (epoch 2 after step 16)\n"
    )
    copy = msrun.LogCopy(log, tmp_path / "train.log")  # the supervisor makes it before msrun starts
    capfd.readouterr()
    copy.pump()
    if how == "made anew":
        log.unlink()
    log.write_text("worker rank 0 of 2 (pid 812)\nResuming at epoch 2/20 after step 16\n")  # msrun's "w"
    copy.pump()
    with open(log, "a") as handle:
        handle.write("Epoch 2/20 - Loss: 2.0283\n")
    copy.pump(final=True)
    out = capfd.readouterr().out
    assert out == "worker rank 0 of 2 (pid 812)\nResuming at epoch 2/20 after step 16\nEpoch 2/20 - Loss: 2.0283\n", out


STARTING_WORKER = textwrap.dedent(
    """
    import sys, threading
    from fer_core.signals import hold_stop_signals, route_signals

    hold_stop_signals()  # what a worker does first
    print("holding", flush=True)
    sys.stdin.readline()  # start-up work (importing MindSpore) until the test says go on
    got, heard = [], threading.Event()
    route_signals(lambda signum, _frame: (got.append(signum), heard.set()))  # the trainer's handler
    heard.wait(30)
    print(f"trainer got {[int(s) for s in got]}", flush=True)
    """
)


def test_a_stop_during_a_workers_start_up_waits_for_its_trainer(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-c", STARTING_WORKER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout.readline() == "holding\n"
        assert msrun._blocks(process.pid, signal.SIGINT), "the supervisor may signal it now"
        os.kill(process.pid, signal.SIGINT)  # ctrl+c forwarded while the worker starts up
        out, err = process.communicate("go on\n", timeout=60)
    finally:
        process.kill()
    assert process.returncode == 0, err
    assert out == f"trainer got [{int(signal.SIGINT)}]\n", out
    assert "KeyboardInterrupt" not in err and "Traceback" not in err, err


def test_the_supervisor_does_not_signal_a_python_still_starting(tmp_path):
    """Before the worker blocks its stop signals, a SIGINT would be a KeyboardInterrupt traceback."""
    from fer_core.signals import signals_unblocked

    # a fresh python, as msrun starts it: not with the mask of this test process, which an
    # in-process trainer run earlier in the same worker may have left blocking the stop signals
    with signals_unblocked():
        process = subprocess.Popen(
            [sys.executable, "-c", "import sys; print('up', flush=True); sys.stdin.read()"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
    try:
        assert process.stdout.readline() == b"up\n"
        assert not msrun._blocks(process.pid, signal.SIGINT)
    finally:
        process.kill()
        process.wait()


@pytest.mark.slow
@pytest.mark.xdist_group("msrun")  # never beside another msrun run on the two cores
@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="two workers need two cores")
def test_ctrl_c_while_two_workers_start_prints_no_traceback_and_no_mindspore_chatter(area):
    """A foreground `--workers 2` run, ctrl+c as soon as both workers exist (they are importing
    MindSpore): the terminal gets the classic lines and the stop, nothing of a worker's
    KeyboardInterrupt or of MindSpore's own [WARNING] lines (those stay in msrun/)."""
    csv = small_csv(area / "in" / "tiny.csv", train_per_class=40, val_per_class=4)
    env = {**os.environ, "FER_TUI_CHECKPOINTS": str(area / "checkpoints"), "FER_TUI_CACHE": str(area / "cache")}
    env.pop("GLOG_v", None)  # MindSpore's default level: its warnings are written
    process = subprocess.Popen(
        [sys.executable, "-m", "fer_core.cli", "train", "--preset", "demo", "--data_csv", str(csv)]
        + ["--batch_size", "8", "--epochs", "1", "--workers", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        first = process.stdout.readline()  # "run directory: RUN"
        run_dir = Path(first.decode().split(": ", 1)[1].strip())
        workers = run_dir / "msrun" / "workers.json"
        deadline = time.monotonic() + 300
        while not (workers.exists() and len(json.loads(workers.read_text() or "{}")) == 2):
            assert process.poll() is None and time.monotonic() < deadline, "the workers never started"
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)  # what ctrl+c sends the foreground trainer
        out, err = process.communicate(timeout=600)
    finally:
        process.kill()
        process.wait()
    shown = first + out + err
    assert process.returncode == 130, shown.decode()[-3000:]
    assert b"Traceback" not in shown and b"KeyboardInterrupt" not in shown, shown.decode()[-3000:]
    assert b"[WARNING]" not in shown and b"[ERROR]" not in shown, shown.decode()[-3000:]
    assert rundir.read_status(run_dir).state == "stopped"
