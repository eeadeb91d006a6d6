"""fer-tui screens and modals, one module each."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, cast

if TYPE_CHECKING:
    from textual.dom import DOMNode

    from fer_core.runs.rundir import RunInfo
    from fer_tui.notify import EndWatch


class Host(Protocol):
    """What the screens ask of the dashboard app (fer_tui.app.FerApp), named here so a screen
    needs no import of the app that imports it."""

    root: Path
    clock: Callable[[], float]
    all_runs: bool  # the Runs screen lists this user's runs from every folder
    ends: EndWatch  # the runs seen live, told when they end

    def open_run(self, run_dir: Path) -> None: ...

    def list_runs(self) -> list[RunInfo]: ...

    def action_runs(self) -> None: ...


def host(node: DOMNode) -> Host:
    """The dashboard app a screen runs in, typed as it is (Textual's `node.app` is any App)."""
    return cast(Host, node.app)
