"""fer-tui screens and modals, one module each."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from textual.dom import DOMNode

    from fer_tui.app import FerApp


def host(node: DOMNode) -> FerApp:
    """The dashboard app a screen runs in, typed as it is (Textual's `node.app` is any App)."""
    return cast("FerApp", node.app)
