"""Fixtures for the reliability suites: tiny real runs, process hygiene, a figures ledger.

Figures (kills survived, epochs lost, bad inputs tried per kind) are collected in FIGURES while
the tests run, printed at the end of the session and written to
`<pytest basetemp>/reliability-figures.json` (or to $FER_TUI_FIGURES if set) for the README.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections import Counter
from pathlib import Path

import pytest

from fer_core import config, runs
from tests.helpers import small_csv, status_of

FIGURES: dict = {"bad_inputs": Counter(), "kill9": [], "hangup": [], "concurrency": []}


def count_input(kind: str, n: int = 1) -> None:
    FIGURES["bad_inputs"][kind] += n


@pytest.fixture(scope="session")
def tiny_csv(tmp_path_factory) -> Path:
    """280 training + 28 validation faces: a tiny_cnn epoch is well under a second on CPU."""
    return small_csv(tmp_path_factory.mktemp("data") / "tiny.csv", train_per_class=40, val_per_class=4)


def tiny_config(csv: Path, **overrides) -> config.TrainConfig:
    values = {"data_csv": str(csv), "arch": "tiny_cnn", "batch_size": 16, "epochs": 4, "lr": 3e-3,
              "patience": 0, "keep_checkpoints": 2, "augment": False, "mixup": False}
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
            if not runs.pid_alive(pid):
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
    figures = {"bad_inputs": dict(sorted(FIGURES["bad_inputs"].items())),
               "bad_inputs_total": sum(FIGURES["bad_inputs"].values()),
               "kill9": FIGURES["kill9"], "hangup": FIGURES["hangup"], "concurrency": FIGURES["concurrency"]}
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
        write(f"kill -9: {run['kills']} kills survived over {run['epochs']} epochs; epochs of work lost per "
              f"kill max {run['lost_max']:.2f} mean {run['lost_mean']:.2f}; strategies {run['strategies']}; "
              f"restarts fresh (no last_state yet) {run['fresh_restarts']}; {run['seconds']:.0f}s")
    for line in figures["hangup"] + figures["concurrency"]:
        write(str(line))
    if figures["bad_inputs_total"]:
        write(f"bad inputs tried: {figures['bad_inputs_total']} "
              + ", ".join(f"{k} {v}" for k, v in figures["bad_inputs"].items()))
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(figures, indent=2) + "\n")
        write(f"figures written to {path}")
