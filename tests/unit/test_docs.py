"""The docs: the reference pages the code writes are current, the site builds with
`mkdocs build --strict` (a broken link fails it), and the README stays a five-minute read."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def load_gen():
    spec = importlib.util.spec_from_file_location("docs_gen", ROOT / "docs" / "gen.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_reference_pages_are_current():
    stale = load_gen().stale()
    assert not stale, f"run `python docs/gen.py`: {stale} differ from what the code says"


def test_the_key_page_lists_every_binding_and_its_id():
    from fer_tui.actions import spell
    from fer_tui.keys import sections

    page = load_gen().keys_page()
    for title, owner in sections():
        part = page.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]
        for action in owner.ACTIONS:
            assert f"`{spell(action.key)}`" in part and f"`{action.binding_id}`" in part, (title, action)


def test_the_config_page_has_every_field_and_the_verdict_page_every_rule():
    from fer_core.ckpt.verdict import RULES
    from fer_core.config import TrainConfig

    gen = load_gen()
    config_page, verdicts_page = gen.config_page(), gen.verdicts_page()
    assert all(f"| `{name}` |" in config_page for name in TrainConfig.model_fields)
    assert all(f"| `{name}` |" in verdicts_page for name in RULES)


def test_the_readme_is_short_and_keeps_the_two_commands():
    assert len(README.encode()) <= 10_000
    lines = README.splitlines()
    assert lines[3].startswith("python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/fer-tui")
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert lines[4] == ci, "the README's second command is CI's, byte for byte"


def test_readme_links_point_at_files_that_exist():
    import re

    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", README):
        if "://" not in target:
            assert (ROOT / target).exists(), target


def _mkdocs() -> str:
    found = shutil.which("mkdocs", path=str(Path(sys.executable).parent))
    if not found or importlib.util.find_spec("material") is None:
        pytest.skip("mkdocs-material is not installed (the test extra has it)")
    return found


def _build(site_root: Path, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [_mkdocs(), "build", "--strict", "-f", str(site_root / "mkdocs.yml"), "-d", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=site_root,
        env={**__import__("os").environ, "NO_MKDOCS_2_WARNING": "1", "PYTHONPATH": str(ROOT)},
    )


@pytest.mark.slow
def test_the_site_builds_strict(tmp_path):
    result = _build(ROOT, tmp_path / "site")
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "site" / "reference" / "keys" / "index.html").exists()
    assert "Two packages and one rule" in (tmp_path / "site" / "architecture" / "index.html").read_text()


@pytest.mark.slow
def test_a_broken_link_fails_the_build(tmp_path):
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in ("mkdocs.yml", "ARCHITECTURE.md"):
        shutil.copy(ROOT / name, copy / name)
    shutil.copytree(ROOT / "docs", copy / "docs", ignore=shutil.ignore_patterns("__pycache__"))
    page = copy / "docs" / "speed.md"
    page.write_text(page.read_text() + "\n[gone](no-such-page.md)\n")
    result = _build(copy, tmp_path / "site")
    assert result.returncode != 0 and "no-such-page.md" in result.stderr
