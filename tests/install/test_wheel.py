"""`pip install .` gives the same product as the editable install: a wheel built from this
tree, installed into a fresh venv, finds its presets, samples and shipped models as package
data and writes runs under the current directory, never inside the package.

The fresh venv gets only the wheel (--no-deps); mindspore, textual… come from this
interpreter's site-packages through a .pth line that sorts after the venv's own
site-packages, so the wheel's fer_core is the one imported (asserted below), and CI does not
install 2.4 GB again.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# what the build reads; copied so that a stale build/ or a concurrent build in the checkout
# cannot leak into (or break) this wheel
BUILD_INPUTS = ("pyproject.toml", "README.md", "fer_core", "fer_tui", "presets", "samples", "checkpoints/shipped")
TIMEOUT = 900  # MindSpore start-up and a demo epoch on 2 busy cores; generous on purpose

pytestmark = pytest.mark.slow


def _run(command: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT)
    assert "Traceback" not in result.stderr, result.stderr
    return result


def _build_wheel(tmp_path: Path) -> Path:
    source = tmp_path / "src"
    for name in BUILD_INPUTS:
        origin, target = REPO / name, source / name
        if origin.is_dir():  # symlinks=True: fer_core/assets keeps its links to the top-level folders
            shutil.copytree(origin, target, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(origin, target)
    # build with this venv's setuptools (no network); one that cannot make a wheel by itself
    # (setuptools < 70.1 without the wheel package, as a fresh venv has) gets pip's isolated build
    import setuptools

    can_build = importlib.util.find_spec("wheel") or tuple(map(int, setuptools.__version__.split(".")[:2])) >= (70, 1)
    command = [
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        *(["--no-build-isolation"] if can_build else []),
        "-q",
        "-w",
        str(tmp_path / "dist"),
        str(source),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT)
    assert result.returncode == 0, result.stderr
    (wheel,) = (tmp_path / "dist").glob("fer_tui-*.whl")
    return wheel


def _venv_with(wheel: Path, venv: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=TIMEOUT)
    python = venv / "bin" / "python"
    result = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(wheel)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert result.returncode == 0, result.stderr
    site = Path(
        subprocess.check_output(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], text=True
        ).strip()
    )
    # only the directories: .pth files in them (the editable install's finder) are not run
    ours = dict.fromkeys([sysconfig.get_path("purelib"), sysconfig.get_path("platlib")])
    (site / "zz_fer_tui_test_deps.pth").write_text("".join(f"{p}\n" for p in ours))
    return site


def test_a_wheel_installed_elsewhere_is_the_whole_product(tmp_path):
    wheel = _build_wheel(tmp_path)
    venv = tmp_path / "venv"
    site = _venv_with(wheel, venv)
    fer_tui = str(venv / "bin" / "fer-tui")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("FER_TUI_CHECKPOINTS", "FER_TUI_SAMPLES", "FER_TUI_SHIPPED", "FER_TUI_PRESETS", "PYTHONPATH")
    }
    env["GLOG_v"] = "3"
    packaged = sorted(p.relative_to(site) for p in (site / "fer_core").rglob("*") if "__pycache__" not in p.parts)

    where = _run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import fer_core, fer_tui\nfrom fer_core import locations as l\n"
            "for p in (fer_core.__file__, fer_tui.__file__, l.presets_dir(), l.samples_dir(), l.shipped_dir(), "
            "l.checkpoints_root()): print(p)",
        ],
        elsewhere,
        env,
    )
    core, tui, presets, samples, shipped, root = map(Path, where.stdout.split("\n")[:6])
    assert core.is_relative_to(site) and tui.is_relative_to(site), f"imported from the checkout: {core}, {tui}"
    for folder in (presets, samples, shipped):
        assert folder.is_relative_to(site) and folder.is_dir() and not folder.is_symlink(), folder
    assert root == elsewhere / "checkpoints"
    assert len(list(samples.glob("*/correct_sample_*.png"))) == 21
    assert {p.name for p in shipped.iterdir()} >= {"demo-tiny_cnn", "fer_vgg-cpu-best"}

    listed = _run([fer_tui, "presets"], elsewhere, env)
    assert listed.returncode == 0, listed.stderr
    assert "demo" in listed.stdout and "gpu-recommended" in listed.stdout

    trained = _run([fer_tui, "train", "--preset", "demo", "--epochs", "1"], elsewhere, env)
    assert trained.returncode == 0, trained.stdout[-2000:] + trained.stderr[-2000:]
    # <root>/<the preset's save_dir>/<run id>/
    (best,) = (elsewhere / "checkpoints").rglob("best_model.ckpt")
    run_dir = best.parent
    assert (run_dir / "best_model.json").is_file() and (run_dir / "status.json").is_file()

    table = _run([fer_tui, "checkpoints"], elsewhere, env)  # MindSpore structure + behaviour on the shipped samples
    assert table.returncode in (0, 1), table.stderr  # 1: a 1-epoch model may be judged broken; still a table
    assert run_dir.name[-20:] in table.stdout and "best_model.ckpt" in table.stdout, table.stdout
    shipped_table = _run([fer_tui, "checkpoints", str(shipped), "--quick"], elsewhere, env)
    assert shipped_table.returncode == 0 and "demo-tiny_cnn" in shipped_table.stdout, shipped_table.stdout

    after = sorted(p.relative_to(site) for p in (site / "fer_core").rglob("*") if "__pycache__" not in p.parts)
    assert after == packaged, "nothing is written inside the installed package"
