"""What runs a checkpoint's network for `infer.Predictor`: ONNX Runtime or MindSpore.

Both take normalised faces (B, 1, 48, 48) float32 at a fixed batch and give probabilities
(B, 7). MindSpore is the reference (the trainer's own graph); ONNX Runtime runs the same
weights exported once by MindSpore (`export.cached_onnx`) and is several times faster on CPU,
and once the export is cached, inference needs no MindSpore import at all. When the cache can
neither give nor keep the export (read-only, not a folder), `auto` falls back to MindSpore
and says so once; an explicit `--backend onnx` is a one-line error naming the way out.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

from fer_core.errors import CacheError, FerError
from fer_core.mindspore_setup import cpu_threads
from fer_core.train import readback

if TYPE_CHECKING:
    import onnxruntime as ort

BACKENDS = ("auto", "onnx", "mindspore")
_said_fallback = False
_said_no_cache = False


def choose_backend(backend: str, device_target: str = "CPU") -> str:
    """ "onnx" or "mindspore". auto: ONNX Runtime on CPU when it is installed, else MindSpore
    (said once on stderr); an accelerator always runs MindSpore."""
    global _said_fallback
    if backend not in BACKENDS:
        raise FerError(f"--backend must be one of {', '.join(BACKENDS)}, got {backend}")
    if backend == "mindspore" or (backend == "auto" and device_target != "CPU"):
        return "mindspore"
    if device_target != "CPU":
        raise FerError(f"--backend onnx runs on the CPU only; drop it for --device_target {device_target}")
    try:
        import_onnxruntime()  # imported here once; the session needs it anyway
        return "onnx"
    except ImportError:
        pass
    if backend == "onnx":
        raise FerError("--backend onnx: onnxruntime is not installed (pip install onnxruntime)")
    if not _said_fallback:
        print("note: onnxruntime is not installed; MindSpore runs inference", file=sys.stderr)
        _said_fallback = True
    return "mindspore"


def import_onnxruntime() -> ModuleType:
    """ONNX Runtime, imported with its telemetry off unless the user set ORT_DISABLE_TELEMETRY:
    on import it would otherwise write a device id and an event database under
    $XDG_CACHE_HOME/Microsoft, outside fer-tui's own folders."""
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    import onnxruntime

    return onnxruntime


def make_runner(
    backend: str, path: Path, arch: str, device_target: str, fallback: bool = False
) -> OnnxRunner | MindSporeRunner:
    """The runner for a chosen backend; `fallback`: an ONNX runner may hand over to MindSpore
    when the export cache cannot be used (the user asked for `auto`, not for ONNX)."""
    if backend == "onnx":
        return OnnxRunner(path, arch, device_target, fallback)
    return MindSporeRunner(path, arch, device_target)


def _say_no_cache_once(reason: str) -> None:
    global _said_no_cache
    if not _said_no_cache:
        print(f"note: {reason}; MindSpore runs inference", file=sys.stderr)
        _said_no_cache = True


class OnnxRunner:
    """One ONNX Runtime session per batch size, each on a cached export of the checkpoint."""

    name = "onnx"

    def __init__(self, path: Path, arch: str, device_target: str = "CPU", fallback: bool = False):
        self.path, self.arch, self.device_target, self.fallback = path, arch, device_target, fallback
        self.sessions: dict[int, Any] = {}  # onnxruntime.InferenceSession: no type information
        self._mindspore: MindSporeRunner | None = None

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if self._mindspore is not None:
            return self._mindspore(x)
        session = self.sessions.get(len(x))
        if session is None:
            try:
                session = self._session(len(x))
            except CacheError as error:
                if not self.fallback:
                    raise FerError(f"--backend onnx: {error}; pass --backend mindspore") from None
                _say_no_cache_once(str(error))
                self._mindspore = MindSporeRunner(self.path, self.arch, self.device_target)
                self.name = self._mindspore.name
                return self._mindspore(x)
        return session.run(None, {session.get_inputs()[0].name: x})[0]

    def _session(self, batch: int) -> ort.InferenceSession:
        from fer_core.infer.export import cached_onnx

        ort = import_onnxruntime()
        options = ort.SessionOptions()
        options.intra_op_num_threads = cpu_threads()
        options.log_severity_level = 3  # its warnings are not the user's business
        # the verified bytes, not the path: what ONNX Runtime runs is what was checked
        session = ort.InferenceSession(
            cached_onnx(self.path, self.arch, batch), options, providers=["CPUExecutionProvider"]
        )
        self.sessions[batch] = session
        return session


class MindSporeRunner:
    """The trainer's own graph: the network in eval mode and a jit-compiled softmax."""

    name = "mindspore"

    def __init__(self, path: Path, arch: str, device_target: str = "CPU"):
        import mindspore as ms
        import mindspore.ops as ops

        from fer_core.ckpt.io import load_network

        net = load_network(path, arch, device_target)

        @ms.jit
        def predict(x: ms.Tensor) -> ms.Tensor:
            return ops.softmax(net(x), -1)

        self._predict, self._ms = predict, ms
        self._waiter = readback.Waiter()

    def __call__(self, x: np.ndarray) -> np.ndarray:
        (probs,) = self._waiter.numpy(self._predict(self._ms.Tensor(x)))
        return probs
