"""fer-tui screens and modals, one module each."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, cast

if TYPE_CHECKING:
    from textual.dom import DOMNode
    from textual.notifications import SeverityLevel

    from fer_core.runs.rundir import RunInfo
    from fer_tui.actions import Action
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

    def keys_of(self, action: Action) -> str: ...

    def notify(
        self,
        message: str | Sequence[str],
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None: ...


def host(node: DOMNode) -> Host:
    """The dashboard app a screen runs in, typed as it is (Textual's `node.app` is any App)."""
    return cast(Host, node.app)


def key_hint(screen: DOMNode, action: str) -> str:
    """The key(s) in force for one of `screen`'s actions, as a hint names them (`f`, or what
    the user's keymap moved it to): hints never spell a key of their own."""
    declared = next(a for a in getattr(type(screen), "ACTIONS", ()) if a.action == action)
    return host(screen).keys_of(declared)
