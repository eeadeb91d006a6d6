"""The queue and sweeps with real processes: a detached runner, real MindSpore trainers on
tiny data (tiny_cnn, one epoch), a runner killed mid-way and resumed, bad sweeps refused."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest

from fer_core import config as cfg
from fer_core.cli import main as cli
from fer_core.queue import runner
from fer_core.queue.entries import ENDED, Queue
from fer_core.runs import leaderboard, rundir
from tests.helpers import status_of, write_csv
from tests.reliability.conftest import FAKE_TRAINER, reap, rejects, wait_until

TINY = ["--preset", "demo", "--epochs", "1", "--warmup_epochs", "0", "--batch_size", "16"]


def fer(*argv) -> int:
    code = cli.main([str(a) for a in argv])
    assert code == 0, f"fer-tui {' '.join(map(str, argv))} exited {code}"
    return code


def ended(queue: Queue, count: int):
    entries = queue.entries()
    return len(entries) == count and all(e.state in ENDED for e in entries) and entries


@pytest.fixture
def queue(procs) -> Queue:
    """The root's queue; at the end its runner and every trainer it started are killed."""
    q = Queue.of_root()
    yield q
    pid = runner.runner_pid(q)
    if pid and pid > 0:
        procs.add(pid)
    for entry in q.entries():
        if entry.run_dir:
            procs.watch(Path(entry.run_dir))


def test_three_runs_one_bad_runner_killed_midway_then_resumed(tiny_csv, tmp_path, queue, procs):
    broken = write_csv(tmp_path / "broken.csv", ["9,1 2 3,Training"])  # exists, fails when decoded
    fer("queue", "add", *TINY, "--data_csv", tiny_csv, "--lr", "1e-3")
    fer("queue", "add", *TINY, "--data_csv", broken)
    fer("queue", "add", *TINY, "--data_csv", tiny_csv, "--lr", "5e-3")
    assert [e.state for e in queue.entries()] == ["queued"] * 3
    data = [f"data_csv demo→{Path(tiny_csv).name}", "data_csv demo→broken.csv", f"data_csv demo→{Path(tiny_csv).name}"]
    assert all(said in e.label for said, e in zip(data, queue.entries(), strict=True))  # the setting column

    fer("queue", "start")
    first = procs.add(wait_until(lambda: runner.runner_pid(queue), 30, what="the runner's pid"))
    fer("queue", "start")  # idempotent: the same runner, no second one
    assert runner.runner_pid(queue) == first
    run_one = wait_until(lambda: queue.get(1).run_dir, 60, what="entry 1 started")
    procs.watch(Path(run_one))
    wait_until(lambda: status_of(Path(run_one)).state == "running", 120, what="entry 1's trainer running")
    assert first > 1
    os.kill(first, signal.SIGKILL)  # the runner dies mid-way; its trainer (own session) goes on
    reap(first)
    assert runner.runner_pid(queue) is None, "the kernel drops a dead runner's lock"
    assert queue.get(1).state == "running"

    fer("queue", "start")  # resumes: adopts entry 1's live run (or settles it), then goes on
    procs.add(wait_until(lambda: runner.runner_pid(queue), 30, what="the second runner"))
    entries = wait_until(lambda: ended(queue, 3), 240, what="every entry ended")

    assert [e.state for e in entries] == ["finished", "failed", "finished"]
    assert entries[0].run_dir == run_one and entries[0].attempts == 1, "the live run was adopted, not restarted"
    assert str(broken) in entries[1].message and entries[1].run_dir is None
    assert entries[0].started <= entries[1].ended <= entries[2].started, "one after another, in order"
    for entry in (entries[0], entries[2]):
        assert status_of(Path(entry.run_dir)).state == "finished"

    board = leaderboard.build(rundir.find_runs(Path(os.environ["FER_TUI_CHECKPOINTS"])))
    assert [r.setting["lr"] for r in board.rows] in ([1e-3, 5e-3], [5e-3, 1e-3])
    means = [r.mean("best_val_acc") for r in board.rows]
    assert means == sorted(means, reverse=True)
    assert board.columns == ["lr"] and board.common["epochs"] == (10, 1)


def test_sweep_two_settings_two_seeds_gives_four_runs_and_two_rows(tiny_csv, queue, procs, capsys):
    fer("sweep", *TINY, "--grid", "lr=1e-3,5e-3", "--seeds", "1,2", "--data_csv", tiny_csv, "--name", "lr")
    folder = Path(os.environ["FER_TUI_CHECKPOINTS"]) / "sweeps" / "lr"
    planned = cfg.read_toml(folder / "sweep.toml")
    assert planned["base"] == "demo" and [r["setting"] for r in planned["runs"]] == [
        "lr=0.001 seed=1",
        "lr=0.001 seed=2",
        "lr=0.005 seed=1",
        "lr=0.005 seed=2",
    ]
    fer("queue", "start", "--parallel", "2", "--force")  # --force: a one-core CI machine too
    procs.add(wait_until(lambda: runner.runner_pid(queue), 30, what="the runner"))
    entries = wait_until(lambda: ended(queue, 4), 240, what="the sweep's runs ended")
    assert [e.state for e in entries] == ["finished"] * 4, [e.message for e in entries]

    runs = rundir.find_runs(folder)
    assert len(runs) == 4 and all(run.path.parent == folder for run in runs)
    named = cfg.read_toml(folder / "sweep.toml")["runs"]
    assert sorted(r["run"] for r in named) == sorted(run.path.name for run in runs)
    board = leaderboard.build(runs)
    assert board.base_name == "demo" and len(board.rows) == 2
    assert all(len(row.runs) == 2 and row.std("best_val_acc") is not None for row in board.rows)
    assert sorted(row.seeds for row in board.rows) == [[1, 2], [1, 2]]
    capsys.readouterr()
    fer("runs", "--table", "--csv", folder)
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("lr,val_acc_mean,val_acc_std,runs,seeds") and len(lines) == 3


def test_stop_now_stops_the_run_and_the_next_start_resumes_it(queue, procs, monkeypatch):
    monkeypatch.setenv("FER_TUI_TRAINER", f"{sys.executable} {FAKE_TRAINER}")
    monkeypatch.setenv("FAKE_TRAINER_EPOCH_SECONDS", "0.5")
    fer("queue", "add", "--preset", "demo", "--epochs", "4")
    fer("queue", "add", "--preset", "demo", "--epochs", "1")
    fer("queue", "start")
    pid = procs.add(wait_until(lambda: runner.runner_pid(queue), 30, what="the runner"))
    run_one = Path(wait_until(lambda: queue.get(1).run_dir, 30, what="entry 1 started"))
    procs.watch(run_one)
    wait_until(lambda: status_of(run_one).state == "running", 30, what="entry 1 running")
    fer("queue", "stop", "--now")
    reap(pid, timeout=30)
    assert runner.runner_pid(queue) is None
    assert status_of(run_one).state == "stopped" and queue.get(1).state == "queued"
    assert queue.get(2).state == "queued", "stop --now starts nothing new"

    fer("queue", "resume")
    procs.add(wait_until(lambda: runner.runner_pid(queue), 30, what="the runner again"))
    entries = wait_until(lambda: ended(queue, 2), 60, what="both ended")
    assert [e.state for e in entries] == ["finished", "finished"]
    assert entries[0].run_dir == str(run_one) and entries[0].attempts == 2, "resumed in its own folder"


def test_move_changes_the_start_order(queue, capsys):
    for lr in ("1e-3", "2e-3", "3e-3"):
        fer("queue", "add", "--preset", "demo", "--lr", lr)
    fer("queue", "move", "3", "1")
    assert [e.id for e in queue.waiting()] == [3, 1, 2]
    fer("queue", "move", "3", "9")  # past the end: last
    assert [e.id for e in queue.waiting()] == [1, 2, 3]
    capsys.readouterr()
    fer("queue")
    ids = [line.split()[0] for line in capsys.readouterr().out.splitlines()[2:5]]
    assert ids == ["1", "2", "3"]


def test_remove_and_clear_keep_run_folders(queue, capsys):
    fer("queue", "add", "--preset", "demo")
    fer("queue", "add", "--preset", "demo", "--lr", "1e-3")
    fer("queue", "remove", "1")
    assert [e.id for e in queue.entries()] == [2]
    fer("queue", "clear")
    assert queue.entries() == []
    fer("queue", "add", "--preset", "demo")
    assert [e.id for e in queue.entries()] == [3], "ids are never reused"
    capsys.readouterr()
    fer("queue")
    out = capsys.readouterr().out
    assert "runner: not running" in out and "queued" in out


@pytest.mark.parametrize("place", ["0", "-1"])
def test_a_place_before_the_first_is_refused_and_the_order_kept(place, queue, tmp_path, capfd):
    """Places start at 1: 0 and -1 are typos, not 'first' (they once moved the entry first)."""
    fer("queue", "add", "--preset", "demo")
    fer("queue", "add", "--preset", "demo", "--lr", "1e-3")
    rejects(capfd, tmp_path, ["queue", "move", "2", place], [f"place {place}", "places start at 1"], "queue")
    assert cli.main(["queue", "move", "2", place]) == 2
    assert [e.id for e in queue.waiting()] == [1, 2]


@pytest.mark.parametrize(
    "argv, named",
    [
        (["sweep", "--preset", "demo", "--grid", "lrr=1,2"], ["unknown field 'lrr'", "did you mean lr"]),
        (["sweep", "--preset", "demo", "--grid", "lr=1e-3,2"], ["lr=2", "lr must be <= 1"]),
        (["sweep", "--preset", "demo", "--grid", "lr="], ["grid lr is empty"]),
        (  # no `=`: argparse takes the values for a sweep file; not "a sweep file or --preset"
            ["sweep", "--preset", "demo", "--grid", "lr", "1e-3,3e-3"],
            ["--grid lr 1e-3,3e-3: --grid takes FIELD=V1,V2 (--grid lr=1e-3,3e-3)"],
        ),
        (["sweep", "--preset", "demo", "--grid", "lr"], ["--grid lr: --grid takes FIELD=V1,V2"]),
        (["sweep", "--augment", "lr.toml"], ["--augment lr.toml", "fer-tui sweep lr.toml --augment"]),
        (  # --preset as well: the same advice, not "nothing to sweep"
            ["sweep", "--preset", "demo", "--augment", "lr.toml"],
            ["--augment lr.toml", "fer-tui sweep lr.toml --augment (without --preset demo: the file names its base)"],
        ),
        (["sweep", "--preset", "demo"], ["nothing to sweep"]),
        (["sweep", "--preset", "demo", "--grid", "seed=1,2"], ["seed cannot be swept"]),
        (
            ["sweep", "--preset", "demo", "--grid", "batch_size=" + ",".join(map(str, range(1, 66)))],
            ["65 runs", "--force"],
        ),
        (["sweep", "--preset", "nope", "--seeds", "1,2"], ["unknown preset 'nope'"]),
        (["sweep", "--preset", "demo", "--seeds", "1,x"], ["--seeds 1,x"]),
        (["queue", "add", "--preset", "demo", "--lr", "-1"], ["lr must be > 0"]),
        (["queue", "start", "--parallel", "999"], ["parallel 999", "cores"]),
        (["sweep", "--preset", "demo", "--seeds", "1,2", "--start", "--parallel", "0"], ["parallel must be >= 1"]),
        (["sweep", "--preset", "demo", "--seeds", "1,2", "--start", "--parallel", "999"], ["parallel 999", "cores"]),
        (["queue", "remove", "7"], ["queue entry 7"]),
    ],
)
def test_bad_sweeps_and_queue_commands_are_one_line_and_queue_nothing(argv, named, tmp_path, capfd):
    rejects(capfd, tmp_path, argv, named, "queue")


def test_a_sweep_file_is_checked_like_flags(tmp_path, capfd):
    good = tmp_path / "good.toml"
    good.write_text('base = "demo"\nseeds = [1, 2]\n[set]\nepochs = 1\n[grid]\nlr = [1e-3, 2e-3]\n')
    assert cli.main(["sweep", str(good), "--name", "file"]) == 0
    queue = Queue.of_root()
    assert [e.label for e in queue.entries()] == [
        "lr=0.001 seed=1",
        "lr=0.001 seed=2",
        "lr=0.002 seed=1",
        "lr=0.002 seed=2",
    ]
    assert all(e.config["epochs"] == 1 and e.sweep.endswith("sweeps/file") for e in queue.entries())
    bad = tmp_path / "bad.toml"
    bad.write_text('base = "demo"\n[grid]\nlr = 0.1\n')
    rejects(capfd, tmp_path, ["sweep", str(bad)], [str(bad), "grid lr must be a list"], "queue")


def test_sweep_and_queue_add_take_the_field_flags_train_takes(tmp_path, capsys):
    """`--augment` (no value), `--no_mixup`, `--augment_policy FULL`: spelt as for `fer-tui train`."""
    from fer_core.cli.main import build_parser

    def field_flags(*verb):
        parser = build_parser()
        for name in verb:
            parser = next(a for a in parser._actions if a.dest in ("verb", "queue_action")).choices[name]
        flags = {o: (a.nargs, a.const, a.choices) for a in parser._actions for o in a.option_strings}
        return {o: v for o, v in flags.items() if o.lstrip("-").removeprefix("no_") in cfg.FIELDS}

    train_flags = field_flags("train")
    assert field_flags("queue", "add") == train_flags
    assert field_flags("sweep") == {o: v for o, v in train_flags.items() if o not in ("--seed", "--save_dir")}
    fer("sweep", "--preset", "demo", "--grid", "lr=1e-3,2e-3", "--augment", "--augment_policy", "FULL", "--no_mixup")
    fer("queue", "add", "--preset", "demo", "--augment", "--augment_policy", "FULL", "--no_mixup")
    entries = Queue.of_root().entries()
    assert len(entries) == 3
    assert all(e.config["augment"] and e.config["augment_policy"] == "full" for e in entries)
    assert not any(e.config["mixup"] for e in entries)
    fer("sweep", "--preset", "demo", "--seeds", "1,2", "--augment", "false", "--mixup", "--name", "bools")
    assert [(e.config["augment"], e.config["mixup"]) for e in Queue.of_root().entries()[3:]] == [(False, True)] * 2


def test_a_sweep_preset_is_taken_in_any_case_and_named_as_the_preset(tmp_path, capsys):
    fer("sweep", "--preset", "DEMO", "--seeds", "1,2")
    entries = Queue.of_root().entries()
    assert [e.preset for e in entries] == ["demo", "demo"]
    assert Path(entries[0].sweep).name.endswith("-demo")
    assert cfg.read_toml(Path(entries[0].sweep) / "sweep.toml")["base"] == "demo"


@pytest.mark.parametrize("linked", [".queue", ".queue/entries", ".queue/entries.lock"])
def test_a_queue_file_or_folder_that_links_elsewhere_is_refused(linked, tmp_path, capfd):
    """The queue's folders and lock, made links out of the checkpoints root: `queue add` is one
    line naming the link, and nothing appears where it points."""
    root = Queue.of_root().folder.parent
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    link = root / linked
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(elsewhere / "target" if linked.endswith(".lock") else elsewhere)
    rejects(capfd, tmp_path, ["queue", "add", *TINY], [str(link), "symbolic link"], "queue")
    assert list(elsewhere.iterdir()) == []
