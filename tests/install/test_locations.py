"""Where things are when no environment variable says otherwise: what ships is package data,
what the user makes goes under the current directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from fer_core import locations

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def defaults(monkeypatch, tmp_path):
    for name in ("FER_TUI_CHECKPOINTS", "FER_TUI_SAMPLES", "FER_TUI_SHIPPED", "FER_TUI_PRESETS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_runs_go_under_the_current_directory(defaults):
    assert locations.checkpoints_root() == defaults / "checkpoints"


def test_what_ships_is_package_data_that_resolves_to_the_top_level_folders(defaults):
    # in a checkout the links lead to the folders the design keeps at the top
    assert locations.presets_dir() == REPO / "presets"
    assert locations.samples_dir() == REPO / "samples"
    assert locations.shipped_dir() == REPO / "checkpoints" / "shipped"
    assert (locations.presets_dir() / "demo.toml").is_file()


def test_every_shipped_file_is_in_the_package_data_globs():
    """A file added to presets/, samples/ or checkpoints/shipped/ that the globs would miss
    would be in the checkout and silently absent from a wheel."""
    from glob import glob

    import tomllib

    globs = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    assets = REPO / "fer_core" / "assets"
    packaged = {
        Path(p).resolve()
        for pattern in globs["fer_core.assets"]
        for p in glob(str(assets / pattern), recursive=True)
        if Path(p).is_file()
    }
    shipped = {
        p.resolve()
        for folder in ("presets", "samples", "checkpoints/shipped")
        for p in (REPO / folder).rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert shipped and shipped <= packaged, sorted(map(str, shipped - packaged))


def test_samples_without_output_never_writes_the_shipped_folder(defaults, monkeypatch):
    from fer_core.cli.main import main

    seen = {}

    def fake_make_samples(ckpt, csv, num, output, **kwargs):
        seen["output"] = output
        from fer_core.data.samples import SampleSet

        return SampleSet(folder=output)

    monkeypatch.setattr("fer_core.data.samples.make_samples", fake_make_samples)
    assert main(["samples"]) == 0
    assert Path(seen["output"]).resolve() == defaults / "samples"
