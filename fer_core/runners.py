"""What runs a checkpoint's network for `infer.Predictor`: ONNX Runtime or MindSpore.

Both take normalised faces (B, 1, 48, 48) float32 at a fixed batch and give probabilities
(B, 7). MindSpore is the reference (the trainer's own graph); ONNX Runtime runs the same
weights exported once by MindSpore (`export.cached_onnx`) and is several times faster on CPU,
and once the export is cached, inference needs no MindSpore import at all.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import numpy as np

from fer_core import readback, sidecar
from fer_core.errors import CheckpointError, FerError

BACKENDS = ("auto", "onnx", "mindspore")
_said_fallback = False


def choose_backend(backend: str, device_target: str = "CPU") -> str:
    """"onnx" or "mindspore". auto: ONNX Runtime on CPU when it is installed, else MindSpore
    (said once on stderr); an accelerator always runs MindSpore."""
    global _said_fallback
    if backend not in BACKENDS:
        raise FerError(f"--backend must be one of {', '.join(BACKENDS)}, got {backend}")
    if backend == "mindspore" or (backend == "auto" and device_target != "CPU"):
        return "mindspore"
    if device_target != "CPU":
        raise FerError(f"--backend onnx runs on the CPU only; drop it for --device_target {device_target}")
    try:
        import onnxruntime  # noqa: F401  (imported here once; the session needs it anyway)

        return "onnx"
    except ImportError:
        pass
    if backend == "onnx":
        raise FerError("--backend onnx: onnxruntime is not installed (pip install onnxruntime)")
    if not _said_fallback:
        print("note: onnxruntime is not installed; MindSpore runs inference", file=sys.stderr)
        _said_fallback = True
    return "mindspore"


def make_runner(backend: str, path: Path, arch: str, device_target: str):
    return OnnxRunner(path, arch) if backend == "onnx" else MindSporeRunner(path, arch, device_target)


class OnnxRunner:
    """One ONNX Runtime session per batch size, each on a cached export of the checkpoint."""

    def __init__(self, path: Path, arch: str):
        self.path, self.arch = path, arch
        self.sessions: dict[int, object] = {}

    def __call__(self, x: np.ndarray) -> np.ndarray:
        session = self.sessions.get(len(x)) or self._session(len(x))
        return session.run(None, {session.get_inputs()[0].name: x})[0]

    def _session(self, batch: int):
        import onnxruntime as ort

        from fer_core.export import cached_onnx

        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, len(os.sched_getaffinity(0)))
        options.log_severity_level = 3  # its warnings are not the user's business
        session = ort.InferenceSession(str(cached_onnx(self.path, self.arch, batch)), options,
                                       providers=["CPUExecutionProvider"])
        self.sessions[batch] = session
        return session


class MindSporeRunner:
    """The trainer's own graph: the network in eval mode and a jit-compiled softmax."""

    def __init__(self, path: Path, arch: str, device_target: str = "CPU"):
        import mindspore as ms
        import mindspore.ops as ops

        net = load_network(path, arch, device_target)

        @ms.jit
        def predict(x):
            return ops.softmax(net(x), -1)

        self._predict, self._ms = predict, ms
        self._waiter = readback.Waiter()

    def __call__(self, x: np.ndarray) -> np.ndarray:
        (probs,) = self._waiter.numpy(self._predict(self._ms.Tensor(x)))
        return probs


def check_checkpoint(path: Path, arch: str | None) -> tuple[Path, str]:
    """The checkpoint's architecture, after its records were checked against it (no MindSpore)."""
    from fer_core import checkpoints

    index = checkpoints.open_index(path)
    arch = arch or checkpoints.identify(index, sidecar.read_sidecar(path)).arch
    if arch is None:
        raise CheckpointError(f"{path}: {checkpoints.unknown_arch_message(index)}; pass --arch")
    problems = checkpoints.structure_problems(index, arch)
    if problems:
        raise CheckpointError(f"{path}: not a {arch} checkpoint: {'; '.join(problems[:3])}")
    return path, arch


def load_network(path: Path, arch: str, device_target: str = "CPU"):
    """MindSpore network in eval mode with the checkpoint's weights; `path` and `arch` as
    `check_checkpoint` returned them (every caller checks first, once)."""
    import mindspore as ms

    from fer_core.mindspore_setup import configure
    from fer_core.models import build_model

    configure(device_target)
    net = build_model(arch)
    net.set_train(False)
    values = _load_checkpoint(path, {p.name for p in net.get_parameters()})
    not_loaded, _ = ms.load_param_into_net(net, values, strict_load=True)
    if not_loaded:
        raise CheckpointError(f"{path}: missing {len(not_loaded)} parameters of {arch}, e.g. {not_loaded[0]}")
    return net


def _load_checkpoint(path: Path, wanted: set[str]) -> dict:
    """ms.load_checkpoint of only the network's tensors (it insists on a .ckpt name)."""
    import mindspore as ms

    def choose(name: str) -> bool:
        return name in wanted

    try:
        if path.suffix == ".ckpt":
            return ms.load_checkpoint(str(path), choice_func=choose)
        with tempfile.TemporaryDirectory() as folder:
            link = Path(folder) / "model.ckpt"
            os.symlink(path.resolve(), link)
            return ms.load_checkpoint(str(link), choice_func=choose)
    except (RuntimeError, ValueError, OSError, TypeError) as error:
        raise CheckpointError(f"{path}: cannot load ({' '.join(str(error).split())[:160]})") from None
