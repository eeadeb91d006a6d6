"""fer-tui screens and modals, one module each."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, cast

if TYPE_CHECKING:
    from textual.dom import DOMNode


class Host(Protocol):
    """What the screens ask of the dashboard app (fer_tui.app.FerApp), named here so a screen
    needs no import of the app that imports it."""

    root: Path
    clock: Callable[[], float]

    def open_run(self, run_dir: Path) -> None: ...

    def action_runs(self) -> None: ...


def host(node: DOMNode) -> Host:
    """The dashboard app a screen runs in, typed as it is (Textual's `node.app` is any App)."""
    return cast(Host, node.app)
