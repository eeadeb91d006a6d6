"""The `fer-tui` console script: no verb opens the dashboard, a verb runs headless.

`--root DIR` may come first either way: `fer-tui --root DIR` opens the dashboard on it,
`fer-tui --root DIR runs` lists it (the CLI takes it as a global option).
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    rest = _after_root(argv)
    if not rest or rest[0] == "ui":
        from fer_tui.app import run_app

        run_app([*argv[: len(argv) - len(rest)], *rest[1:]])
        return
    from fer_core.cli.main import main as cli_main

    sys.exit(cli_main(argv))


def _after_root(argv: list[str]) -> list[str]:
    """What follows a leading `--root DIR` / `--root=DIR` (all of argv if there is none; a
    `--root` without its DIR goes to the CLI, whose error is one line)."""
    if argv[:1] == ["--root"] and len(argv) > 1:
        return argv[2:]
    if argv and argv[0].startswith("--root="):
        return argv[1:]
    return argv
