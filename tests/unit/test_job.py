"""The job protocol without MindSpore: events round-trip, every kind is listed, a job's stdout
holds only events, and bad input ends in one error event naming the file."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest

from fer_core.ckpt.listing import CheckpointRow
from fer_core.ckpt.verdict import Verdict
from fer_core.job.__main__ import main
from fer_core.job.events import KINDS, Error, InferSummary, Prediction, Progress, Result, Skipped, Started, dump, parse


@pytest.mark.parametrize(
    "event",
    [
        Started(job="infer", total=3, arch="tiny_cnn"),
        Progress(done=1, total=3, prediction=Prediction(path="a.png", true=2, pred=2, probs=[0.1] * 7, correct=True)),
        Progress(done=0, skipped=Skipped(path="notes.txt", reason="not an image file")),
        Progress(
            done=1,
            verdict=Verdict("broken", "truncated"),
            report=CheckpointRow(path="x.ckpt", file="x.ckpt", size=9, verdict=Verdict("broken", "truncated")),
            lines=["structure: broken"],
        ),
        Result(
            verdict=Verdict("warning", "uniform output"),
            summary=InferSummary(total=2, correct=1, accuracy=0.5, seconds=0.1),
            text="done",
        ),
        Error(message="x.ckpt: empty file (0 bytes)"),
    ],
)
def test_every_event_survives_a_line_of_json(event):
    line = dump(event)
    assert "\n" not in line and parse(line) == event


def test_lines_that_are_not_events_are_not_events():
    for line in (
        "",
        "[WARNING] ME(123) some chatter",
        "{}",
        '{"event": "image"}',
        '{"event": "error"}',
        '{"event": "result", "verdict": {"level": "skipped"}}',
    ):
        assert parse(line) is None, line
    assert parse('{"event": "error", "message": "m", "from_a_newer_engine": 1}') == Error(message="m")


def run(*argv: str) -> tuple[int, list]:
    out = io.StringIO()
    status = main(list(argv), out=out)
    return status, [parse(line) for line in out.getvalue().splitlines()]


def test_the_data_job_says_what_fer_tui_data_says(capsys):
    status, events = run("data", "demo")
    assert status == 0 and [type(e) for e in events] == [Started, Result]
    assert events[1].summary.rows["Training"] == 2100 and "PublicTest" in events[1].text


def test_a_bad_csv_ends_in_one_error_event_naming_the_line(tmp_path):
    from tests.helpers import fer_rows, write_csv

    rows = fer_rows(1)
    rows[3] = "9," + rows[3].split(",", 1)[1]
    status, events = run("data", str(write_csv(tmp_path / "bad.csv", rows)))
    assert status == 2 and isinstance(events[-1], Error)
    assert "bad.csv" in events[-1].message and "line 5" in events[-1].message


def test_the_samples_job_by_true_class_needs_no_checkpoint(tmp_path):
    status, events = run("samples", "--csv", "demo", "--num_samples", "1", "--output", str(tmp_path / "s"))
    assert status == 0 and isinstance(events[-1], Result), events
    assert events[-1].summary.written == 7 and "7 faces from demo" in events[-1].text


@pytest.mark.parametrize("kind", ["check", "export", "infer"])
def test_a_missing_checkpoint_is_one_error_event(kind, tmp_path):
    missing = str(tmp_path / "nope.ckpt")
    argv = {"check": [missing], "export": ["--ckpt", missing], "infer": ["--ckpt", missing, "--folder", str(tmp_path)]}
    status, events = run(kind, *argv[kind])
    assert status == 2 and isinstance(events[-1], Error) and "nope.ckpt" in events[-1].message


CHATTY = """
from fer_core.job import kinds
real = kinds.data
def chatty(args, emit):
    print("chatter from a library")
    real(args, emit)
kinds.data = chatty
from fer_core.job.__main__ import main
raise SystemExit(main(["data", "demo"]))
"""


def test_stdout_holds_only_events_whatever_else_prints():
    out = subprocess.run([sys.executable, "-c", CHATTY], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert [type(parse(line)) for line in out.stdout.splitlines()] == [Started, Result]
    assert "chatter from a library" in out.stderr


def test_an_unknown_kind_names_the_kinds():
    out = subprocess.run([sys.executable, "-m", "fer_core.job", "train"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and all(kind in out.stderr for kind in KINDS), out.stderr


def test_the_reader_ends_a_silent_death_with_one_error_naming_the_exit_and_stderr():
    from fer_core.job.reader import EventReader, StderrTail, exit_text, job_env

    reader, stderr = EventReader(), StderrTail(lines=2)
    assert reader.feed("[WARNING] chatter") is None and reader.feed(dump(Started(job="infer"))) == Started(job="infer")
    stderr.add(b"Traceback (most recent call last):\n  File x\n\nRuntimeError: out of\n   memory\n")
    assert stderr.last() == "memory" and len(stderr.lines) == 2
    stderr.add("RuntimeError: out of memory\n")
    died = reader.unfinished(1, stderr)
    assert died == Error(message="the job exited with status 1: RuntimeError: out of memory")
    assert exit_text(-9) == "SIGKILL" and exit_text(-200) == "signal 200"
    assert reader.feed(dump(Error(message="bad"))) == Error(message="bad")
    assert reader.feed(dump(Started(job="infer"))) is None  # nothing after the last event
    assert reader.unfinished(0, stderr) is None
    assert job_env()["GLOG_v"]
