"""The `fer-tui` console script: no verb opens the dashboard, a verb runs headless.

`--root DIR` may come first either way: `fer-tui --root DIR` opens the dashboard on it,
`fer-tui --root DIR runs` lists it (the CLI takes it as a global option).
"""

from __future__ import annotations

import sys

from fer_core.cli import main as cli


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    rest = cli.after_global_flags(argv)
    if not rest or rest[0] == "ui":
        from fer_tui.app import run_app

        run_app([*argv[: len(argv) - len(rest)], *rest[1:]])
        return
    sys.exit(cli.main(argv))
