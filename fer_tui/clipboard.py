"""`y`: copy a path through the terminal's clipboard (OSC 52, which travels over SSH)."""

from __future__ import annotations

from pathlib import Path

from textual.app import App


def copy_path(app: App, path: Path | None, what: str) -> None:
    """Copy the absolute `path` and say what was copied; `what` names it ("run", "checkpoint")."""
    if path is None:
        app.notify(f"no {what} under the cursor", severity="warning")
        return
    text = str(Path(path).absolute())
    app.copy_to_clipboard(text)
    # markup off: a path may hold [brackets]
    app.notify(f"{what} path copied: {text}", title="Copied", markup=False)
