"""ONNX Runtime inference: the same classes as MindSpore, exports cached by the checkpoint's
bytes, `fer-tui export`, no MindSpore import once an export is cached."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fer_core.cli.main import main
from fer_core.infer.export import ExportSidecar, file_digest
from fer_core.infer.predictor import Predictor

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted((ROOT / "checkpoints" / "shipped").glob("*/best_model.ckpt"))


@pytest.fixture(scope="module")
def faces():
    from fer_core.data.dataset import read_face, scan_class_folder

    found, _ = scan_class_folder(ROOT / "samples")
    return np.stack([read_face(path) for path, _ in found])


@pytest.mark.parametrize("ckpt", SHIPPED, ids=lambda p: p.parent.name)
def test_both_backends_give_the_same_class_on_every_sample_face(ckpt, faces):
    onnx = Predictor(ckpt, batch_size=8, backend="onnx")
    reference = Predictor(ckpt, batch_size=8, backend="mindspore")
    assert (onnx.backend, reference.backend) == ("onnx", "mindspore")
    a, b = onnx.predict(faces, tta=None), reference.predict(faces, tta=None)
    assert len(faces) >= 20 and np.array_equal(a.argmax(1), b.argmax(1))
    assert np.abs(a - b).max() < 1e-4


def test_a_changed_checkpoint_never_meets_its_old_export(tmp_path, faces):
    import mindspore as ms

    from fer_core.models import build_model

    ckpt = tmp_path / "model.ckpt"
    shutil.copy(SHIPPED[0], ckpt)
    first = Predictor(ckpt, batch_size=4, backend="onnx").predict(faces[:4], tta=None)
    exports = set((tmp_path / "cache" / "onnx").glob("*.onnx"))
    arch = json.loads(SHIPPED[0].with_suffix(".json").read_text())["arch"]
    ms.set_seed(7)
    ms.save_checkpoint(build_model(arch), str(ckpt))  # other weights, same name
    second = Predictor(ckpt, batch_size=4, backend="onnx").predict(faces[:4], tta=None)
    reference = Predictor(ckpt, batch_size=4, backend="mindspore").predict(faces[:4], tta=None)
    assert len(set((tmp_path / "cache" / "onnx").glob("*.onnx")) - exports) == 1
    assert np.abs(second - reference).max() < 1e-4 and np.abs(second - first).max() > 1e-3


def test_export_command_writes_onnx_and_mindir_with_a_sidecar(tmp_path, faces, capsys):
    import onnxruntime as ort

    ckpt = SHIPPED[0]
    out = tmp_path / "model.onnx"
    assert main(["export", "--ckpt", str(ckpt), "--output", str(out), "--batch", "4"]) == 0
    side = json.loads((tmp_path / "model.onnx.json").read_text())
    assert side["input"]["shape"] == [4, 1, 48, 48] and len(side["class_names"]) == 7
    assert ExportSidecar.model_validate(side).source_sha256 == file_digest(ckpt)
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    from fer_core.data import augment

    probs = session.run(None, {session.get_inputs()[0].name: augment.normalise(faces[:4])})[0]
    expected = Predictor(ckpt, batch_size=4, backend="mindspore").predict(faces[:4], tta=None)
    assert np.abs(probs - expected).max() < 1e-4
    assert main(["export", "--ckpt", str(ckpt), "--format", "mindir", "--output", str(tmp_path / "m.mindir")]) == 0
    assert (tmp_path / "m.mindir").stat().st_size > 1000 and (tmp_path / "m.mindir.json").exists()
    capsys.readouterr()
    before = out.read_bytes()
    assert main(["export", "--ckpt", str(ckpt), "--output", str(out)]) == 2  # exists, no --force
    assert "pass --force" in capsys.readouterr().err and out.read_bytes() == before
    junk = tmp_path / "junk.ckpt"
    junk.write_text("emotion,pixels,Usage\n")
    assert main(["export", "--ckpt", str(junk)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "not a MindSpore checkpoint" in err
    assert not (tmp_path / "junk.onnx").exists()
    assert main(["export", "--ckpt", str(ckpt), "--format", "mindir", "--output", str(tmp_path / "m2.onnx")]) == 2
    assert "--format ONNX" in capsys.readouterr().err and not (tmp_path / "m2.onnx").exists()


def test_a_shipped_checkpoint_exports_to_the_current_folder_not_into_the_package(tmp_path, monkeypatch, capsys):
    shipped = ROOT / "checkpoints" / "shipped" / "demo-tiny_cnn"
    before = sorted(p.name for p in shipped.iterdir())
    monkeypatch.chdir(tmp_path)
    assert main(["export", "--ckpt", str(shipped / "best_model.ckpt")]) == 0
    assert (tmp_path / "demo-tiny_cnn-best_model.onnx").stat().st_size > 1000
    assert "demo-tiny_cnn-best_model.onnx" in capsys.readouterr().out
    assert sorted(p.name for p in shipped.iterdir()) == before


def test_a_cached_export_serves_inference_without_importing_mindspore(tmp_path, faces, monkeypatch):
    from fer_core.ckpt import arch

    monkeypatch.setattr(arch, "_manifests", {})  # so this test's cache gets the manifest too
    ckpt = SHIPPED[0]
    Predictor(ckpt, batch_size=1, backend="onnx").predict(faces[:1])  # makes the export
    code = (
        "import sys, numpy as np; from fer_core.infer.predictor import Predictor; "
        f"p = Predictor({str(ckpt)!r}, batch_size=1); p.predict(np.zeros((2, 48, 48), np.uint8)); "
        "print(p.backend, 'mindspore' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=os.environ, timeout=300, cwd=ROOT
    )
    assert out.stdout.split() == ["onnx", "False"], out.stderr


def test_without_onnxruntime_mindspore_runs_inference_and_says_so_once(tmp_path):
    code = (
        "import sys; sys.modules['onnxruntime'] = None; import numpy as np; "
        "from fer_core.infer.predictor import Predictor; "
        f"ps = [Predictor({str(SHIPPED[0])!r}, batch_size=1) for _ in range(2)]; "
        "ps[0].predict(np.zeros((1, 48, 48), np.uint8)); print(ps[0].backend)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=os.environ, timeout=300, cwd=ROOT
    )
    assert out.stdout.strip() == "mindspore", out.stderr
    assert out.stderr.count("onnxruntime is not installed") == 1


def test_an_export_is_never_written_into_the_shipped_data(tmp_path, capsys):
    shipped = ROOT / "checkpoints" / "shipped" / "demo-tiny_cnn"
    before = sorted(p.name for p in shipped.iterdir())
    output = shipped / "mine.onnx"
    assert main(["export", "--ckpt", str(shipped / "best_model.ckpt"), "--output", str(output)]) == 2
    assert "shipped models" in capsys.readouterr().err
    assert sorted(p.name for p in shipped.iterdir()) == before


def test_onnx_runtime_writes_nothing_outside_fer_tuis_folders(tmp_path):
    """Imported the way inference imports it, ONNX Runtime (1.32) leaves no device id or
    telemetry database under $XDG_CACHE_HOME/Microsoft (it writes both on import)."""
    xdg = tmp_path / "xdg-cache"
    xdg.mkdir()
    script = (
        "from fer_core.infer.backends import choose_backend, import_onnxruntime\n"
        "assert choose_backend('onnx') == 'onnx'\n"
        "print(import_onnxruntime().get_available_providers())\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "ORT_DISABLE_TELEMETRY"} | {"XDG_CACHE_HOME": str(xdg)}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "CPUExecutionProvider" in done.stdout
    assert list(xdg.rglob("*")) == []
