"""Where fer-tui keeps things. Every location can be moved with an environment variable."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser() if value else default


def presets_dir() -> Path:
    """The presets shipped with fer-tui."""
    return _env_path("FER_TUI_PRESETS", PROJECT_ROOT / "presets")


def user_presets_dir() -> Path:
    """Presets the user saved (from the form or `fer-tui presets save`)."""
    config_home = _env_path("XDG_CONFIG_HOME", Path.home() / ".config")
    return _env_path("FER_TUI_USER_PRESETS", config_home / "fer-tui" / "presets")


def checkpoints_root() -> Path:
    """The root the runs live under; a relative `save_dir` is resolved against it."""
    return _env_path("FER_TUI_CHECKPOINTS", PROJECT_ROOT / "checkpoints")


def shipped_dir() -> Path:
    """The models that come with fer-tui (listed in the dashboard whatever the root)."""
    return _env_path("FER_TUI_SHIPPED", PROJECT_ROOT / "checkpoints" / "shipped")


def cache_dir() -> Path:
    """Decoded data sets (.npy) keyed by path, size and mtime."""
    cache_home = _env_path("XDG_CACHE_HOME", Path.home() / ".cache")
    return _env_path("FER_TUI_CACHE", cache_home / "fer-tui")


def samples_dir() -> Path:
    """The default sample folder for one-key test inference."""
    return _env_path("FER_TUI_SAMPLES", PROJECT_ROOT / "samples")
