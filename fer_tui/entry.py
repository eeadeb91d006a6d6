"""The `fer-tui` console script: no verb opens the dashboard, a verb runs headless."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] == "ui" or argv[0].startswith("--root"):
        from fer_tui.app import run_app

        run_app(argv[1:] if argv and argv[0] == "ui" else argv)
        return
    from fer_core.cli import main as cli_main

    sys.exit(cli_main(argv))
