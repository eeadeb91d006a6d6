"""`fer-tui` with no verb, `ui` or `--root` opens the dashboard; verbs go to the CLI."""

from __future__ import annotations

import pytest

import fer_tui.app
from fer_tui import entry


def test_dashboard_routes(monkeypatch):
    seen = []
    monkeypatch.setattr(fer_tui.app, "run_app", seen.append)
    entry.main([])
    entry.main(["ui", "--root", "x"])
    entry.main(["--root", "y"])
    assert seen == [[], ["--root", "x"], ["--root", "y"]]


def test_root_option_moves_the_checkpoints_root(monkeypatch, tmp_path):
    launched = []
    monkeypatch.setattr(fer_tui.app.FerApp, "run", lambda self: launched.append(self.root))
    fer_tui.app.run_app(["--root", str(tmp_path / "runs")])
    assert launched == [tmp_path / "runs"]
    from fer_core import locations

    assert locations.checkpoints_root() == tmp_path / "runs"


def test_the_dashboards_help_names_the_root_as_the_verbs_help_does(capsys):
    """`fer-tui ui --help` and `fer-tui --help`: `--root DIR` in both."""
    for argv in (["ui", "--help"], ["--help"]):
        with pytest.raises(SystemExit) as done:
            entry.main(argv)
        assert done.value.code == 0
        out = capsys.readouterr().out
        assert "--root DIR" in out and "ROOT" not in out, argv
