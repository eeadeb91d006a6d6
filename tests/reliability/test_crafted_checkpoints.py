"""Checkpoints with the right names and shapes but the wrong tensor byte lengths (issue 12,
class 2): built here record by record, they must be `broken: <param> has N bytes …` in the
triage table and a one-line refusal in `infer`, never a crash inside MindSpore's loader.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fer_core.ckpt import index as ckpt_index
from fer_core.ckpt.arch import arch_manifest
from fer_core.ckpt.listing import describe

FER_TUI = str(Path(sys.executable).with_name("fer-tui"))


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def record(name: str, shape: tuple[int, ...], content: bytes, dtype: str = "Float32") -> bytes:
    """One Checkpoint.Value exactly as MindSpore writes it (dims unpacked, scalar as [0])."""
    dims = b"".join(_varint(1 << 3) + _varint(d) for d in (shape or (0,)))
    tensor = dims + _field(2, dtype.encode()) + _field(3, content)
    return _field(1, _field(1, name.encode()) + _field(2, tensor))


def write_ckpt(path: Path, tensors: dict[str, tuple[tuple[int, ...], bytes]]) -> Path:
    path.write_bytes(b"".join(record(name, shape, data) for name, (shape, data) in tensors.items()))
    return path


def tiny_cnn_tensors(seed: int = 0) -> dict[str, tuple[tuple[int, ...], bytes]]:
    rng = np.random.default_rng(seed)
    out = {}
    for name, shape in arch_manifest("tiny_cnn").shapes.items():
        values = rng.normal(0, 0.05, shape).astype(np.float32)
        if name.endswith("moving_variance") or name.endswith("gamma"):
            values = np.abs(values) + 1
        out[name] = (tuple(shape), values.tobytes())
    return out


@pytest.fixture(scope="module")
def crafted(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("crafted")
    good = tiny_cnn_tensors()
    conv = next(n for n, (s, _) in good.items() if len(s) == 4)  # the first conv weight
    bias = next(n for n, (s, _) in good.items() if len(s) == 1)
    short = dict(good)
    short[conv] = (good[conv][0], good[conv][1][:-8])  # 8 bytes short of its shape: within 2 % in size
    empty = dict(good)
    empty[bias] = (good[bias][0], b"")  # an empty tensor where a bias should be
    files = {
        "good": write_ckpt(folder / "good.ckpt", good),
        "short": write_ckpt(folder / "short.ckpt", short),
        "empty": write_ckpt(folder / "empty.ckpt", empty),
    }
    files["conv"], files["bias"] = conv, bias  # type: ignore[assignment]
    return files


def test_the_crafted_format_is_mindsporess_own(crafted):
    """Control: the well-formed file is byte for byte the size MindSpore would write, and loads."""
    import mindspore as ms

    shapes = arch_manifest("tiny_cnn").shapes
    assert crafted["good"].stat().st_size == ckpt_index.file_bytes(shapes)
    assert ckpt_index.read_index(crafted["good"]).error is None
    values = ms.load_checkpoint(str(crafted["good"]))
    assert set(values) == set(shapes)


def test_record_reader_names_the_tensor_with_the_wrong_byte_count(crafted):
    short = ckpt_index.read_index(crafted["short"])
    size = int(np.prod(arch_manifest("tiny_cnn").shapes[crafted["conv"]])) * 4
    assert short.error == (
        f"{crafted['conv']} has {size - 8} bytes, shape "
        f"{'x'.join(map(str, arch_manifest('tiny_cnn').shapes[crafted['conv']]))} Float32 needs {size}"
    )
    empty = ckpt_index.read_index(crafted["empty"])
    assert empty.error is not None and empty.error.startswith(f"{crafted['bias']} has 0 bytes")
    for name in ("short", "empty"):
        info = describe(crafted[name])
        assert info.verdict.level == "broken"
        assert info.verdict.text.startswith(f"{crafted['conv' if name == 'short' else 'bias']} has ")


@pytest.mark.slow
def test_triage_and_infer_judge_them_without_crashing(crafted, tmp_path):
    """The full check (real MindSpore) lists both as broken and exits 1; infer refuses each in
    one line (exit 2). Before the record reader checked lengths, MindSpore's loader was handed
    these files."""
    env = {**os.environ, "GLOG_v": "3"}
    table = subprocess.run(
        [FER_TUI, "checkpoints", str(crafted["good"].parent), "--samples", "demo"],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert table.returncode == 1, (table.returncode, table.stdout, table.stderr[-2000:])
    rows = {
        next(w for w in line.split() if w.endswith(".ckpt")): line
        for line in table.stdout.splitlines()[1:]
        if ".ckpt" in line
    }
    assert f"broken: {crafted['conv']} has " in rows["short.ckpt"], rows
    assert f"broken: {crafted['bias']} has 0 bytes" in rows["empty.ckpt"], rows
    assert "broken" not in rows["good.ckpt"], rows
    face = tmp_path / "face.png"
    import cv2

    cv2.imwrite(str(face), np.full((48, 48), 128, np.uint8))
    for name, param in (("short", crafted["conv"]), ("empty", crafted["bias"])):
        result = subprocess.run(
            [FER_TUI, "infer", "--ckpt_path", str(crafted[name]), "--image_path", str(face)],
            capture_output=True,
            text=True,
            timeout=600,
            env=env,
        )
        assert result.returncode == 2, (name, result.returncode, result.stderr[-2000:])
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and f"{param} has " in lines[0], result.stderr[-2000:]


CRASH_HOOK = '''
"""Test hook: inspecting a file named crash.ckpt dies of SIGSEGV, as MindSpore's loader did."""
import importlib.abc, importlib.machinery, os, signal, sys


class _Hook(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name != "fer_core.ckpt.deep":
            return None
        sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        run = spec.loader.exec_module

        def exec_module(module):
            run(module)
            real = module.inspect

            def inspect(ckpt, *args, **kwargs):
                if str(ckpt).endswith("crash.ckpt"):
                    os.kill(os.getpid(), signal.SIGSEGV)
                return real(ckpt, *args, **kwargs)

            module.inspect = inspect

        spec.loader.exec_module = exec_module
        return spec


sys.meta_path.insert(0, _Hook())
'''


@pytest.mark.slow
def test_a_file_that_crashes_the_loader_is_one_broken_row(crafted, tmp_path):
    """Whatever a file does to MindSpore's loader, the table survives it: the deep check loads
    in a worker process; the file it died on is `broken` with the signal, the others are judged."""
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(CRASH_HOOK)
    folder = tmp_path / "ckpts"
    folder.mkdir()
    for name in ("a_good.ckpt", "crash.ckpt", "z_good.ckpt"):
        (folder / name).write_bytes(crafted["good"].read_bytes())
    env = {**os.environ, "GLOG_v": "3", "PYTHONPATH": f"{hook}:{os.environ.get('PYTHONPATH', '')}"}
    table = subprocess.run(
        [FER_TUI, "checkpoints", str(folder), "--samples", "demo"], capture_output=True, text=True, timeout=600, env=env
    )
    rows = {
        next(w for w in line.split() if w.endswith(".ckpt")): line
        for line in table.stdout.splitlines()[1:]
        if ".ckpt" in line
    }
    assert table.returncode == 1, (table.returncode, table.stdout, table.stderr[-2000:])
    assert "broken: MindSpore's loader crashed on it (SIGSEGV)" in rows["crash.ckpt"], rows
    assert "broken" not in rows["a_good.ckpt"] and "broken" not in rows["z_good.ckpt"], rows
