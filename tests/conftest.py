"""Shared fixtures: every test gets its own checkpoints root, cache and user presets."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def isolated_locations(tmp_path, monkeypatch):
    """Point every fer-tui location at a fresh temporary folder."""
    monkeypatch.setenv("FER_TUI_CHECKPOINTS", str(tmp_path / "checkpoints"))
    monkeypatch.setenv("FER_TUI_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("FER_TUI_USER_PRESETS", str(tmp_path / "user-presets"))
    monkeypatch.setenv("FER_TUI_SAMPLES", str(tmp_path / "samples"))
    monkeypatch.setenv("FER_TUI_SHIPPED", str(tmp_path / "shipped"))
    return tmp_path
