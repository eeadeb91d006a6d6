"""Where fer-tui keeps things. Every location can be moved with an environment variable.

What ships (presets, the sample folder, the shipped models) is package data of
`fer_core.assets`, read through importlib.resources: the same files whether fer-tui runs from
a checkout (editable install) or from a wheel. What the user makes goes under the current
directory (runs in ./checkpoints, as the classic scripts did) or their home, never inside the
installed package.
"""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path


def _env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser() if value else default


def shipped_data(name: str) -> Path:
    """A folder of package data (`presets`, `samples` or `shipped`), as a real path."""
    # a regular package installed on disk (wheel or editable) is a plain directory; the
    # str() round trip turns the Traversable into the Path the callers glob and open, and
    # resolve() shows a checkout's real folder (samples/, not fer_core/assets/samples)
    return Path(str(files("fer_core.assets") / name)).resolve()


SHIPPED_FOLDERS = {"presets": "presets", "samples": "samples", "shipped": "models"}  # folder: what it holds


def in_shipped_data(path: Path) -> str | None:
    """What shipped folder `path` is in (`samples`, `models`, `presets`), followed through
    links; None when it is in none. fer-tui never writes there: in a wheel it is site-packages."""
    real = path.resolve()
    return next((what for name, what in SHIPPED_FOLDERS.items() if real.is_relative_to(shipped_data(name))), None)


def presets_dir() -> Path:
    """The presets shipped with fer-tui."""
    return _env_path("FER_TUI_PRESETS", shipped_data("presets"))


def user_presets_dir() -> Path:
    """Presets the user saved (from the form or `fer-tui presets NAME --save NEW_NAME`)."""
    config_home = _env_path("XDG_CONFIG_HOME", Path.home() / ".config")
    return _env_path("FER_TUI_USER_PRESETS", config_home / "fer-tui" / "presets")


def settings_file() -> Path:
    """The dashboard's user settings (theme, keymap): $XDG_CONFIG_HOME/fer-tui/settings.toml
    unless FER_TUI_CONFIG names another file."""
    config_home = _env_path("XDG_CONFIG_HOME", Path.home() / ".config")
    return _env_path("FER_TUI_CONFIG", config_home / "fer-tui" / "settings.toml")


def checkpoints_root() -> Path:
    """The root the runs live under: ./checkpoints in the current directory unless
    FER_TUI_CHECKPOINTS (or `--root`, which sets it) says otherwise; a relative `save_dir`
    is resolved against it."""
    return _env_path("FER_TUI_CHECKPOINTS", Path.cwd() / "checkpoints")


def shipped_dir() -> Path:
    """The models that come with fer-tui (listed in the dashboard whatever the root)."""
    return _env_path("FER_TUI_SHIPPED", shipped_data("shipped"))


def cache_dir() -> Path:
    """Decoded data sets (.npz) keyed by path, size and mtime."""
    cache_home = _env_path("XDG_CACHE_HOME", Path.home() / ".cache")
    return _env_path("FER_TUI_CACHE", cache_home / "fer-tui")


def user_samples_dir() -> Path:
    """A sample folder of real faces the dashboard makes from the user's FER2013 CSV."""
    data_home = _env_path("XDG_DATA_HOME", Path.home() / ".local" / "share")
    return _env_path("FER_TUI_USER_SAMPLES", data_home / "fer-tui" / "samples")


def samples_dir() -> Path:
    """The default sample folder for one-key test inference: FER_TUI_SAMPLES if set, else the
    real one made from the user's data once it exists, else the shipped (synthetic) one."""
    if os.environ.get("FER_TUI_SAMPLES"):
        return _env_path("FER_TUI_SAMPLES", shipped_data("samples"))
    made = user_samples_dir()
    if made.is_dir() and any(child.is_dir() for child in made.iterdir()):
        return made
    return shipped_data("samples")


def state_dir() -> Path:
    """The user's state folder: the registry of their runs (`fer-tui runs --all`)."""
    state_home = _env_path("XDG_STATE_HOME", Path.home() / ".local" / "state")
    return _env_path("FER_TUI_STATE", state_home / "fer-tui")
