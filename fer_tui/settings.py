"""The dashboard's user settings: one small TOML file in the XDG config folder.

    theme = "gruvbox"        # written when a theme is chosen in the palette
    [keymap]                 # binding id = key(s), comma-separated (ids: docs/reference/keys.md)
    stop = "x"

`fer_core.locations.settings_file()` says where (FER_TUI_CONFIG moves it). A file that cannot be
read is reported in one line and left as it is: the dashboard starts on its defaults and never
writes over it.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from fer_core import fileio, locations
from fer_core.config import read_toml
from fer_core.errors import ConfigError


class Settings(BaseModel):
    model_config = ConfigDict(extra="ignore")  # a newer fer-tui's keys do not break an older one

    theme: str | None = Field(None, description="The Textual theme chosen in the palette")
    keymap: dict[str, str] = Field(default_factory=dict, description="Binding id -> key(s)")


def load(path: Path | None = None) -> tuple[Settings, str | None]:
    """The settings and, when the file is unreadable or invalid, the one line that says why."""
    path = path or locations.settings_file()
    if not path.exists():
        return Settings(), None
    try:
        return Settings.model_validate(read_toml(path)), None
    except ConfigError as error:
        return Settings(), str(error)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        return Settings(), f"{path}: {where}: {first['msg'].lower()}"


def save_theme(theme: str, path: Path | None = None) -> str | None:
    """Remember the theme; every other key of the file stays. Returns why it could not, or None."""
    path = path or locations.settings_file()
    data: dict = {}
    if path.exists():
        try:
            data = read_toml(path)
        except ConfigError as error:  # never overwrite what the user wrote and we cannot read
            return str(error)
    if data.get("theme") == theme:
        return None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fileio.write_toml(path, {"theme": theme, **{k: v for k, v in data.items() if k != "theme"}})
    except OSError as error:
        return f"{path}: {error.strerror or error}"
    return None


def unknown_ids(keymap: dict[str, str], known: set[str]) -> list[str]:
    return sorted(set(keymap) - known)


def key_clashes(keymap: dict[str, str], scopes: dict[str, list[tuple[str, str]]]) -> list[str]:
    """Keys that the keymap gives to two actions of one scope (a screen, with the app's own keys):
    `q on Runs: stop, quit`. `scopes` maps a scope's title to its (binding id, declared keys);
    only clashes a remapped id takes part in are said (the declared keys are the app's own)."""
    said = []
    for title, actions in scopes.items():
        owners: dict[str, list[str]] = {}
        for binding_id, declared in actions:
            for key in keymap.get(binding_id, declared).split(","):
                ids = owners.setdefault(key.strip(), [])
                if binding_id not in ids:
                    ids.append(binding_id)
        for key, ids in owners.items():
            if len(ids) > 1 and any(i in keymap for i in ids):
                said.append(f"{key} on {title}: {', '.join(ids)}")
    return said
