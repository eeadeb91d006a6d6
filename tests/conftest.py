"""Shared fixtures: every test gets its own checkpoints root, cache and user presets."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.helpers import shared_once

# every folder fer-tui reads or writes, by the variable that moves it
LOCATIONS = {
    "FER_TUI_CHECKPOINTS": "checkpoints",
    "FER_TUI_CACHE": "cache",
    "FER_TUI_USER_PRESETS": "user-presets",
    "FER_TUI_STATE": "state",
    "FER_TUI_CONFIG": "settings.toml",
    "FER_TUI_USER_SAMPLES": "user-samples",
    "XDG_CACHE_HOME": "xdg-cache",
    "XDG_CONFIG_HOME": "xdg-config",
    "XDG_DATA_HOME": "xdg-data",
    "XDG_STATE_HOME": "xdg-state",
}


def pytest_configure(config: pytest.Config) -> None:
    """Before any fixture (session-scoped ones too, which the per-test isolation below does not
    cover), every location points into this process's own temporary folder: a shared trained
    run once registered itself in the real user's state folder."""
    base = Path(tempfile.mkdtemp(prefix="fer-tui-session-"))
    config.add_cleanup(lambda: shutil.rmtree(base, ignore_errors=True))
    for name, where in LOCATIONS.items():
        os.environ[name] = str(base / where)
    os.environ["FER_TUI_NOTIFY"] = "0"
    if os.environ.get("PYTEST_XDIST_WORKER"):
        # each xdist worker's MindSpore and ONNX Runtime take one kernel thread: with a worker per
        # core or more, two threads each only wait on each other (the suite: 8 % less CPU, measured)
        os.environ.setdefault("FER_TUI_THREADS", "1")


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: one worker more than this process may use cores. A worker spends part of
    its time waiting (on a trainer, msrun's workers, a dashboard's timer), and the extra one
    fills those waits: on 2 cores the suite took 333 s at 3 workers against 372 s and 359 s at
    2, minutes apart, for the same CPU time within 6 % (docs/checks.md)."""
    return len(os.sched_getaffinity(0)) + 1


@pytest.fixture(autouse=True)
def isolated_locations(tmp_path, monkeypatch):
    """Point every fer-tui location at a fresh temporary folder."""
    monkeypatch.setenv("FER_TUI_CHECKPOINTS", str(tmp_path / "checkpoints"))
    monkeypatch.setenv("FER_TUI_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("FER_TUI_USER_PRESETS", str(tmp_path / "user-presets"))
    monkeypatch.setenv("FER_TUI_SAMPLES", str(tmp_path / "samples"))
    monkeypatch.setenv("FER_TUI_SHIPPED", str(tmp_path / "shipped"))
    monkeypatch.setenv("FER_TUI_STATE", str(tmp_path / "state"))  # the registry of runs
    monkeypatch.setenv("FER_TUI_NOTIFY", "0")  # no desktop notifications from tests
    monkeypatch.setenv("FER_TUI_CONFIG", str(tmp_path / "settings.toml"))
    monkeypatch.setenv("FER_TUI_USER_SAMPLES", str(tmp_path / "user-samples"))
    return tmp_path


@pytest.fixture(scope="session")
def kernel_library(tmp_path_factory) -> Path:
    """fer-tui's kernel library compiled once for the session (once for all xdist workers) into
    a temporary cache (its folder's parent is a whole FER_TUI_CACHE; tests point at it or copy
    the file)."""
    from fer_core.kernels import build

    def compile_kernels(cache: Path) -> Path:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("FER_TUI_CACHE", str(cache))
            built = build.library()
        assert isinstance(built, Path), f"the kernels must build here: {built}"
        return built

    return shared_once(tmp_path_factory, "kernels", compile_kernels)
