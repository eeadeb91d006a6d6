"""Fixtures for the reliability suites: tiny real runs, process hygiene, a figures ledger.

Figures (kills survived, epochs lost, bad inputs tried per kind) are collected in FIGURES while
the tests run, printed at the end of the session and written to
`<pytest basetemp>/reliability-figures.json` (or to $FER_TUI_FIGURES if set) for the README.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from fer_core import config
from fer_core.cli import main as cli
from fer_core.runs import rundir
from tests.helpers import small_csv, status_of

FAKE_TRAINER = Path(__file__).resolve().parent.parent / "fake_trainer.py"
# Property tests over bad input: derandomized (a failure reproduces), examples from the env so
# a long soak can raise them.
BAD_EXAMPLES = int(os.environ.get("FER_TUI_BAD_EXAMPLES", "25"))
HYPO = settings(
    max_examples=BAD_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
FIGURES: dict = {"bad_inputs": Counter(), "kill9": [], "hangup": [], "concurrency": []}


def count_input(kind: str, n: int = 1) -> None:
    FIGURES["bad_inputs"][kind] += n


@pytest.fixture(scope="session")
def tiny_csv(tmp_path_factory) -> Path:
    """280 training + 28 validation faces: a tiny_cnn epoch is well under a second on CPU."""
    return small_csv(tmp_path_factory.mktemp("data") / "tiny.csv", train_per_class=40, val_per_class=4)


def tiny_config(csv: Path, **overrides) -> config.TrainConfig:
    values = {
        "data_csv": str(csv),
        "arch": "tiny_cnn",
        "batch_size": 16,
        "epochs": 4,
        "lr": 3e-3,
        "patience": 0,
        "keep_checkpoints": 2,
        "augment": False,
        "mixup": False,
    }
    return config.make_config({**values, **overrides})


class Processes:
    """Every trainer (or shell, or TUI) a test starts; teardown kills the whole group."""

    def __init__(self) -> None:
        self.pids: list[int] = []
        self.run_dirs: list[Path] = []

    def add(self, pid: int) -> int:
        self.pids.append(pid)
        return pid

    def watch(self, run_dir: Path) -> Path:
        self.run_dirs.append(Path(run_dir))
        return Path(run_dir)

    def kill_all(self) -> None:
        for run_dir in self.run_dirs:
            pid = status_of(run_dir).pid
            if isinstance(pid, int) and pid not in self.pids:
                self.pids.append(pid)
        for pid in self.pids:
            for kill in (os.killpg, os.kill):
                try:
                    kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            reap(pid, timeout=5)


def reap(pid: int, timeout: float = 10.0) -> None:
    """Wait for `pid` to be gone; collect its exit status if it is our child (no zombies)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done:
                return
        except ChildProcessError:  # not our child: poll until it is gone
            if not rundir.pid_alive(pid):
                return
        time.sleep(0.02)


def wait_until(predicate, timeout: float, interval: float = 0.05, what: str = ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what or predicate}")


@pytest.fixture
def procs():
    tracker = Processes()
    yield tracker
    tracker.kill_all()


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # noqa: ARG001
    figures = {
        "bad_inputs": dict(sorted(FIGURES["bad_inputs"].items())),
        "bad_inputs_total": sum(FIGURES["bad_inputs"].values()),
        "kill9": FIGURES["kill9"],
        "hangup": FIGURES["hangup"],
        "concurrency": FIGURES["concurrency"],
    }
    if not any((figures["bad_inputs_total"], figures["kill9"], figures["hangup"], figures["concurrency"])):
        return
    target = os.environ.get("FER_TUI_FIGURES")
    if target:
        path = Path(target)
    else:
        try:
            path = Path(config._tmp_path_factory.getbasetemp()) / "reliability-figures.json"
        except Exception:  # noqa: BLE001 - no tmp factory: skip the file, still print
            path = None
    write = terminalreporter.write_line
    terminalreporter.section("reliability figures")
    for run in figures["kill9"]:
        write(
            f"kill -9: {run['kills']} kills survived over {run['epochs']} epochs; epochs of work lost per "
            f"kill max {run['lost_max']:.2f} mean {run['lost_mean']:.2f}; strategies {run['strategies']}; "
            f"restarts fresh (no last_state yet) {run['fresh_restarts']}; {run['seconds']:.0f}s"
        )
    for line in figures["hangup"] + figures["concurrency"]:
        write(str(line))
    if figures["bad_inputs_total"]:
        write(
            f"bad inputs tried: {figures['bad_inputs_total']} "
            + ", ".join(f"{k} {v}" for k, v in figures["bad_inputs"].items())
        )
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(figures, indent=2) + "\n")
        write(f"figures written to {path}")


# ---------------------------------------------------------------- bad input: the property every case checks


def snapshot(root: Path) -> dict[str, tuple]:
    """Every file and folder under `root` with size and mtime, except the cache folder (a
    refusal may still memoise an architecture's parameter manifest there: harmless)."""
    tree = {}
    for dirpath, dirnames, filenames in os.walk(root):
        if Path(dirpath) == root and "cache" in dirnames:
            dirnames.remove("cache")
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            info = path.lstat()
            tree[str(path.relative_to(root))] = (info.st_size if not path.is_dir() else 0, info.st_mtime_ns)
    return tree


def rejects(capfd, root: Path, argv: list[str], names: str | list[str], kind: str) -> str:
    """Run `fer-tui ARGV`; it must fail with one line naming `names` and change nothing."""
    capfd.readouterr()
    before = snapshot(root)
    try:
        code = cli.main(argv)
    except SystemExit as exit_:  # argparse errors exit through the parser
        code = exit_.code
    out, err = capfd.readouterr()
    after = snapshot(root)
    lines = err.strip().splitlines()
    assert code not in (0, None), f"fer-tui {argv} succeeded: {out[-500:]}"
    assert len(lines) == 1, f"fer-tui {argv}: expected one line on stderr, got:\n{err[-2000:]}"
    assert "Traceback" not in out + err
    for name in [names] if isinstance(names, str) else names:
        assert name in lines[0], f"{name!r} not named in: {lines[0]}"
    changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    assert not changed, f"fer-tui {argv} changed {sorted(changed)[:10]}"
    count_input(kind)
    return lines[0]


@pytest.fixture
def area(tmp_path, monkeypatch):
    """The test's tree (inputs, checkpoints root, cache); trainers go to the fake, detached."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FER_TUI_TRAINER", f"{sys.executable} {FAKE_TRAINER}")
    monkeypatch.setenv("GLOG_v", "3")
    (tmp_path / "in").mkdir()
    yield tmp_path
    from fer_core.runs import rundir

    for run in rundir.find_runs(tmp_path / "checkpoints"):
        if rundir.pid_alive(run.status.pid):
            os.killpg(run.status.pid, 9)


def refused_in_one_line(result: subprocess.CompletedProcess, *names: str) -> str:
    """A `fer-tui` process failed (exit 2) with one line on stderr naming every one of `names`."""
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, (result.returncode, result.stdout[-800:], result.stderr[-800:])
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr[-2000:]
    for name in names:
        assert name in lines[0], f"{name!r} not named in: {lines[0]}"
    return lines[0]
