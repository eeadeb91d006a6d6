"""Round 3 (issue 22): the caches fer-tui keeps and the exports it writes, attacked.

A cached ONNX export or kernel library is used only when its bytes still hash to the record
written beside it; anything else (another network's export, a planted or truncated `.so`,
junk, a folder) is a miss that is rebuilt, never loaded. A cache that cannot be written (a
read-only mount, a file where the folder should be) falls back to MindSpore. Exports never
replace a file they clash with, and a killed export leaves nothing behind for long.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fer_core.cli.main import main
from fer_core.data.synthetic import draw_faces
from tests.reliability.conftest import reap, wait_until

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "checkpoints" / "shipped" / "demo-tiny_cnn"


# ---------------------------------------------------------------- fixtures


def _mount(path: Path, options: str) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    return path


@pytest.fixture
def read_only_dir(tmp_path):
    """An empty read-only file system (root writes through chmod, not through `ro`)."""
    yield _mount(tmp_path / "ro", "ro,size=1m")
    subprocess.run(["umount", "-l", str(tmp_path / "ro")], capture_output=True)


@pytest.fixture
def full_dir(tmp_path):
    """A file system with room for almost nothing."""
    yield _mount(tmp_path / "full", "size=64k")
    subprocess.run(["umount", "-l", str(tmp_path / "full")], capture_output=True)


@pytest.fixture
def run_ckpt(tmp_path) -> Path:
    """The shipped tiny_cnn checkpoint and its sidecar, copied into a run folder of this test."""
    run = tmp_path / "checkpoints" / "run"
    run.mkdir(parents=True)
    for name in ("best_model.ckpt", "best_model.json"):
        shutil.copy(SHIPPED / name, run / name)
    return run / "best_model.ckpt"


@pytest.fixture
def other_ckpt(tmp_path) -> Path:
    """Another tiny_cnn: same shapes, other weights (its export fits the first one's slot)."""
    import mindspore as ms

    from fer_core.models import build_model

    path = tmp_path / "other" / "model.ckpt"
    path.parent.mkdir()
    ms.set_seed(11)
    ms.save_checkpoint(build_model("tiny_cnn"), str(path))
    return path


@pytest.fixture(scope="module")
def faces() -> np.ndarray:
    return draw_faces(2, 5)[0][:8]


@pytest.fixture(scope="module")
def reference(faces) -> np.ndarray:
    """MindSpore's own probabilities for the shipped checkpoint (every `run_ckpt` is a copy)."""
    return predict(SHIPPED / "best_model.ckpt", faces, "mindspore")


def env_with(**values) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GLOG_v": "3"}
    env.update({k: str(v) for k, v in values.items()})
    return env


def fer_tui(env: dict, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "fer_core.cli", *args], capture_output=True, text=True, env=env, timeout=timeout
    )


def cache_entries(cache: Path, ckpt: Path) -> list[Path]:
    """The cached exports of `ckpt` (named by the hash of its bytes)."""
    digest = hashlib.sha256(ckpt.read_bytes()).hexdigest()[:24]
    return sorted((cache / "onnx").glob(f"{digest}-*.onnx"))


def predict(ckpt: Path, faces: np.ndarray, backend: str) -> np.ndarray:
    from fer_core.infer.predictor import Predictor

    return Predictor(ckpt, batch_size=4, backend=backend).predict(faces, tta=None)


def one_line(text: str) -> str:
    text = text.strip()
    assert text and "\n" not in text and "Traceback" not in text, text
    return text


# ---------------------------------------------------------------- #6, #9: the export cache


def test_another_networks_export_at_the_cache_name_is_rebuilt_not_served(
    tmp_path, run_ckpt, other_ckpt, faces, reference
):
    assert np.abs(predict(run_ckpt, faces, "onnx") - reference).max() < 1e-4
    predict(other_ckpt, faces, "onnx")
    cache = tmp_path / "cache"
    (mine,), (foreign,) = cache_entries(cache, run_ckpt), cache_entries(cache, other_ckpt)
    shutil.copyfile(foreign, mine)  # the hostile copy: another network under this checkpoint's name
    served = predict(run_ckpt, faces, "onnx")
    assert np.abs(served - reference).max() < 1e-4, "another network's export was served"
    assert mine.read_bytes() != foreign.read_bytes()  # rebuilt in place
    assert stat.S_IMODE(mine.stat().st_mode) == 0o600 and stat.S_IMODE((cache / "onnx").stat().st_mode) == 0o700


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _junk(path: Path) -> None:
    path.write_bytes(os.urandom(4096))


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _folder(path: Path) -> None:
    path.unlink()
    (path / "inside").mkdir(parents=True)


@pytest.mark.parametrize("damage", [_truncate, _junk, _empty, _folder], ids=lambda f: f.__name__[1:])
def test_a_damaged_cached_export_never_breaks_inference(tmp_path, run_ckpt, faces, reference, damage):
    predict(run_ckpt, faces, "onnx")
    (entry,) = cache_entries(tmp_path / "cache", run_ckpt)
    damage(entry)
    assert np.abs(predict(run_ckpt, faces, "auto") - reference).max() < 1e-4
    if entry.is_file():  # a file in the way is rebuilt; a folder there is not ours to delete
        assert np.abs(predict(run_ckpt, faces, "onnx") - reference).max() < 1e-4
        assert entry.stat().st_size > 1000


def test_a_junk_cached_export_does_not_stop_the_checkpoint_triage(tmp_path, run_ckpt):
    shutil.copytree(run_ckpt.parent, run_ckpt.parent.parent / "second")
    env = env_with(FER_TUI_CACHE=tmp_path / "cache")
    first = fer_tui(env, "checkpoints", str(run_ckpt.parent.parent), "--json")  # caches the export it uses
    assert first.returncode == 0, first.stderr[-2000:]
    entries = cache_entries(tmp_path / "cache", run_ckpt)
    assert entries
    for entry in entries:
        _junk(entry)
    done = fer_tui(env, "checkpoints", str(run_ckpt.parent.parent), "--json")
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert done.returncode == 0, done.stderr[-2000:]
    assert sorted(Path(r["path"]).parent.name for r in rows) == ["run", "second"], done.stdout
    assert {r["verdict"]["level"] for r in rows} == {"ok"}, rows


# ---------------------------------------------------------------- #17: a cache that cannot be written


@pytest.fixture(params=["read-only", "a file"])
def unusable_cache(request, tmp_path):
    if request.param == "a file":
        path = tmp_path / "cache-file"
        path.write_text("not a folder\n")
        return path
    return request.getfixturevalue("read_only_dir")


def test_infer_and_the_full_check_fall_back_to_mindspore_without_a_cache(tmp_path, run_ckpt, unusable_cache):
    from fer_core.data.imagefile import read_image
    from fer_core.infer.predictor import Predictor

    image = next((ROOT / "samples" / "happy").glob("*.png"))
    probs = Predictor(run_ckpt, batch_size=1, backend="mindspore").predict(read_image(image), tta="none")[0]
    env = env_with(FER_TUI_CACHE=unusable_cache)
    done = fer_tui(env, "infer", "--ckpt", str(run_ckpt), "--image", str(image), "--tta", "none", "--json")
    assert done.returncode == 0, done.stderr[-2000:]
    said = json.loads(done.stdout)
    assert abs(said["probability"] - float(probs.max())) < 1e-4
    assert "MindSpore runs inference" in done.stderr and "Traceback" not in done.stderr
    checked = fer_tui(env, "checkpoints", str(run_ckpt.parent), "--json")
    assert checked.returncode == 0, checked.stderr[-2000:]
    assert json.loads(checked.stdout)["verdict"]["level"] == "ok"


def test_a_read_only_cache_still_serves_the_exports_it_verifies(tmp_path, run_ckpt, faces, reference):
    predict(run_ckpt, faces, "onnx")  # cached in tmp_path/cache
    frozen = tmp_path / "frozen"
    frozen.mkdir()
    bind = subprocess.run(["mount", "--bind", str(tmp_path / "cache"), str(frozen)], capture_output=True, text=True)
    if bind.returncode != 0:
        pytest.skip(f"cannot bind-mount here: {bind.stderr.strip()}")
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(frozen)], check=True, capture_output=True)
        code = (
            "import numpy as np; from fer_core.infer.predictor import Predictor; "
            f"p = Predictor({str(run_ckpt)!r}, batch_size=4); "
            f"print(p.backend, p.predict(np.load({str(tmp_path / 'faces.npy')!r}), tta=None).tolist())"
        )
        np.save(tmp_path / "faces.npy", faces)
        done = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            env=env_with(FER_TUI_CACHE=frozen),
            timeout=300,
        )
    finally:
        subprocess.run(["umount", "-l", str(frozen)], capture_output=True)
    backend, probs = done.stdout.split(" ", 1)
    assert backend == "onnx" and "MindSpore runs inference" not in done.stderr, done.stderr[-2000:]
    assert np.abs(np.array(json.loads(probs)) - reference).max() < 1e-4


def test_backend_onnx_without_a_cache_is_one_line_naming_the_way_out(tmp_path, run_ckpt, monkeypatch, capsys):
    cache = tmp_path / "cache-file"
    cache.write_text("")
    monkeypatch.setenv("FER_TUI_CACHE", str(cache))
    image = next((ROOT / "samples" / "happy").glob("*.png"))
    assert main(["infer", "--ckpt", str(run_ckpt), "--image", str(image), "--backend", "onnx"]) == 2
    err = one_line(capsys.readouterr().err)
    assert str(cache) in err and "--backend mindspore" in err


# ---------------------------------------------------------------- #6, #8, #12: the kernel cache

EVIL = r"""
#include <fstream>
#include <cstdlib>
__attribute__((constructor)) static void planted() {
    std::ofstream(std::getenv("PLANTED_MARKER")) << "the planted library ran\n";
}
"""
FAILING_CXX = """#!/bin/sh
# the installed compiler's name and version (the cache key), but it builds nothing
if [ "$1" = "--version" ]; then exec g++ --version; fi
echo "error: this compiler builds nothing" >&2
exit 1
"""
LOAD = (
    "import ctypes, sys; from pathlib import Path; from fer_core.kernels import library; "
    "found = library.path(); print(found if isinstance(found, Path) else 'unavailable: ' + found); "
    "isinstance(found, Path) and ctypes.CDLL(str(found))"
)


def _seeded_cache(tmp_path: Path, kernel_library: Path) -> Path:
    """A cache holding the session's kernel build (with whatever was recorded beside it)."""
    folder = tmp_path / "cache" / "kernels"
    folder.mkdir(parents=True)
    for file in kernel_library.parent.iterdir():
        if file.is_file() and file.name.startswith(kernel_library.name):
            shutil.copy2(file, folder / file.name)
    return folder / kernel_library.name


def _failing_compiler(tmp_path: Path) -> Path:
    cxx = tmp_path / "bin" / "g++"
    cxx.parent.mkdir()
    cxx.write_text(FAILING_CXX)
    cxx.chmod(0o755)
    return cxx


def test_a_library_planted_at_the_kernel_cache_name_is_never_loaded(tmp_path, kernel_library):
    target = _seeded_cache(tmp_path, kernel_library)
    source = tmp_path / "planted.cc"
    source.write_text(EVIL)
    subprocess.run(["g++", "-shared", "-fPIC", "-o", str(target), str(source)], check=True, capture_output=True)
    marker = tmp_path / "marker"
    env = env_with(FER_TUI_CACHE=tmp_path / "cache", CXX=_failing_compiler(tmp_path), PLANTED_MARKER=marker)
    done = subprocess.run([sys.executable, "-c", LOAD], capture_output=True, text=True, env=env, timeout=300)
    assert not marker.exists(), "the planted library's constructor ran"
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("unavailable: "), done.stdout  # the rebuild failed: MindSpore's operators


def test_a_truncated_kernel_library_is_rebuilt_not_loaded(tmp_path, kernel_library):
    target = _seeded_cache(tmp_path, kernel_library)
    _truncate(target)
    env = env_with(FER_TUI_CACHE=tmp_path / "cache")
    done = subprocess.run([sys.executable, "-c", LOAD], capture_output=True, text=True, env=env, timeout=900)
    assert done.returncode == 0, f"exit {done.returncode}: {done.stderr[-2000:]}"
    assert done.stdout.strip() == str(target)
    assert target.stat().st_size > 2 * 1024 and stat.S_IMODE(target.stat().st_mode) == 0o600
    assert stat.S_IMODE(target.parent.stat().st_mode) == 0o700


def test_fast_kernels_on_a_read_only_cache_train_on_mindspores_operators(tmp_path, read_only_dir, tiny_csv):
    env = env_with(FER_TUI_CACHE=read_only_dir, FER_TUI_CHECKPOINTS=tmp_path / "checkpoints")
    done = fer_tui(
        env, "train", "--data_csv", str(tiny_csv), "--arch", "tiny_cnn", "--epochs", "1", "--batch_size", "32",
        "--kernels", "fast", "--save_dir", "ro-cache",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "fast kernels unavailable" in done.stderr and "Traceback" not in done.stderr, done.stderr[-3000:]


def test_a_cache_that_is_a_file_is_a_reason_not_a_traceback(tmp_path, monkeypatch):
    from fer_core.kernels import build

    cache = tmp_path / "cache-file"
    cache.write_text("")
    monkeypatch.setenv("FER_TUI_CACHE", str(cache))
    reason = build.library()
    assert isinstance(reason, str) and str(cache) in reason, reason


# ---------------------------------------------------------------- #19: the data cache on a full disk


def test_a_full_disk_under_the_data_cache_is_one_line(full_dir, tiny_csv):
    done = fer_tui(env_with(FER_TUI_CACHE=full_dir), "data", str(tiny_csv))
    assert done.returncode == 0, done.stderr
    assert one_line(done.stderr).endswith("cache not written: disk full"), done.stderr
    assert list(full_dir.iterdir()) == []  # no partial cache left


# ---------------------------------------------------------------- #3, #13, #21: exports


def test_export_never_replaces_a_checkpoints_sidecar(run_ckpt, capsys):
    side = run_ckpt.with_suffix(".json")
    before = side.read_bytes(), run_ckpt.read_bytes()
    stem = str(run_ckpt.with_suffix(""))
    for extra in ([], ["--force"]):
        assert main(["export", "--ckpt", str(run_ckpt), "--output", stem, *extra]) == 2
        assert str(side) in one_line(capsys.readouterr().err)
    for name in (run_ckpt, side, run_ckpt.with_name("other.ckpt")):
        assert main(["export", "--ckpt", str(run_ckpt), "--output", str(name), "--force"]) == 2
        assert str(name) in one_line(capsys.readouterr().err)
    assert (side.read_bytes(), run_ckpt.read_bytes()) == before
    assert not Path(stem).exists() and not run_ckpt.with_name("other.ckpt").exists()


def test_an_exports_own_sidecar_is_checked_for_clashes_too(run_ckpt, tmp_path, capsys):
    out = tmp_path / "model.onnx"
    mine = out.with_name("model.onnx.json")
    mine.write_text("the user's notes\n")
    assert main(["export", "--ckpt", str(run_ckpt), "--output", str(out)]) == 2
    err = one_line(capsys.readouterr().err)
    assert str(mine) in err and "--force" in err, err
    assert mine.read_text() == "the user's notes\n" and not out.exists()
    assert main(["export", "--ckpt", str(run_ckpt), "--output", str(out), "--force"]) == 0
    assert json.loads(mine.read_text())["file"] == "model.onnx"


def test_an_absurd_export_batch_is_one_line(run_ckpt, capsys):
    assert main(["export", "--ckpt", str(run_ckpt), "--batch", "100000000"]) == 2
    assert "--batch" in one_line(capsys.readouterr().err)
    assert not run_ckpt.with_suffix(".onnx").exists()


def test_an_export_into_a_missing_folder_is_one_line_and_makes_no_folder(run_ckpt, tmp_path, capsys):
    out = tmp_path / "typo" / "deeper" / "model.onnx"
    assert main(["export", "--ckpt", str(run_ckpt), "--output", str(out)]) == 2
    err = one_line(capsys.readouterr().err)
    assert f"no folder {out.parent}" in err, err
    assert not (tmp_path / "typo").exists()


def test_a_read_only_export_folder_names_the_output_not_a_temporary(run_ckpt, read_only_dir, capsys):
    out = read_only_dir / "model.onnx"
    assert main(["export", "--ckpt", str(run_ckpt), "--output", str(out)]) == 2
    err = one_line(capsys.readouterr().err)
    assert str(out) in err and ".export" not in err, err


def test_an_export_killed_midway_leaves_no_folder_after_the_next_one(run_ckpt, tmp_path):
    out_dir = tmp_path / "exports"
    out_dir.mkdir()
    (out_dir / ".export-notmine").mkdir()  # a user's folder that looks like ours
    before = set(os.listdir(out_dir))
    job = subprocess.Popen(
        [sys.executable, "-m", "fer_core.job", "export", "--ckpt", str(run_ckpt), "--output", str(out_dir / "a.onnx")],
        env=env_with(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_until(lambda: set(os.listdir(out_dir)) - before, 300, 0.002, "the export's temporary folder")
        os.killpg(job.pid, signal.SIGKILL)
    finally:
        job.wait(30)
        reap(job.pid)
    left = set(os.listdir(out_dir)) - before - {"a.onnx", "a.onnx.json"}
    assert left, "nothing was left to clean: the kill came too late"
    assert main(["export", "--ckpt", str(run_ckpt), "--output", str(out_dir / "b.onnx")]) == 0
    assert {name for name in os.listdir(out_dir) if name.startswith(".")} == {".export-notmine"}
    assert (out_dir / "b.onnx").stat().st_size > 1000
