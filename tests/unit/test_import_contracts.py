"""The engine never imports textual; the TUI never loads mindspore (it must start fast)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys; print(' '.join(sys.modules))"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    ).stdout
    return {name.split(".")[0] for name in out.split()}


@pytest.mark.parametrize(
    "module",
    [
        "fer_tui.app",
        "fer_tui.entry",
        "fer_core.cli.main",
        "fer_core.runs.rundir",
        "fer_core.runs.launcher",
        "fer_core.config",
        "fer_core.records",
        "fer_core.train.reporter",
        "fer_core.models",
        "fer_core.ckpt.sidecar",
        "fer_core.ckpt.index",
        "fer_core.ckpt.listing",
        "fer_core.ckpt.verdict",
        "fer_core.ckpt.arch",
        "fer_core.ckpt.deep",
        "fer_core.ckpt.io",
        "fer_core.infer.predictor",
        "fer_core.job.events",
        "fer_core.job.kinds",
        "fer_core.data.samples",
        "fer_core.infer.visualize",
        "fer_core.infer.evaluate",
    ],
)
def test_ui_side_modules_do_not_load_mindspore(module):
    assert "mindspore" not in _modules_after(f"import {module}")


def test_building_the_cli_parser_does_not_load_mindspore():
    assert "mindspore" not in _modules_after("from fer_core.cli.main import build_parser; build_parser()")


@pytest.mark.parametrize("argv", [["stop", "nowhere"], ["runs", "nowhere"], ["presets"]])
def test_a_headless_verb_imports_only_what_it_needs(argv):
    """The parser is built for the verb given: `fer-tui stop` starts in a fifth of a second,
    not with the numpy and OpenCV that `infer` needs."""
    loaded = _modules_after(f"from fer_core.cli.main import main; main({argv!r})")
    assert not loaded & {"numpy", "cv2", "mindspore", "textual"}, sorted(loaded & {"numpy", "cv2"})


@pytest.mark.parametrize(
    "module", ["fer_core.train.loop", "fer_core.cli.main", "fer_core.data.dataset", "fer_core.ckpt.io"]
)
def test_engine_does_not_load_textual(module):
    loaded = _modules_after(f"import {module}")
    assert not loaded & {"textual", "textual_plotext", "textual_image", "fer_tui"}


def test_import_linter_contracts_hold():
    # the lint-imports beside the interpreter running the tests: a git worktree has no .venv of
    # its own, and `python -m importlinter.cli` runs nothing (it printed nothing and passed)
    linter = Path(sys.executable).parent / "lint-imports"
    assert linter.exists(), f"{linter}: install the dev extra (import-linter)"
    result = subprocess.run([str(linter)], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    import tomllib

    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    assert f"Contracts: {len(contracts)} kept, 0 broken" in result.stdout


def test_no_module_imports_itself_in_a_circle():
    """Lazy imports inside functions count too: a circle is a layering mistake either way."""
    import grimp

    graph = grimp.build_graph("fer_core", "fer_tui")
    circles = [
        (a, b)
        for a in sorted(graph.modules)
        for b in graph.find_modules_directly_imported_by(a)
        if graph.chain_exists(importer=b, imported=a)
    ]
    assert not circles, circles
