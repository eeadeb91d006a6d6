"""`fer-tui` with no verb, `ui` or `--root` opens the dashboard; verbs go to the CLI."""

from __future__ import annotations

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
