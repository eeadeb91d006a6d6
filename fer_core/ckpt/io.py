"""MindSpore checkpoint files: written atomically and always with a sidecar, loaded into a
network or a training state. The only module of `fer_core.ckpt` that imports MindSpore, and
only inside its functions."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fer_core import fileio
from fer_core.ckpt.index import record_bytes, string_bytes
from fer_core.ckpt.sidecar import Sidecar, write_sidecar
from fer_core.errors import CheckpointError, one_line

if TYPE_CHECKING:
    import mindspore as ms
    from mindspore import nn

META_KEY = "fer_meta"


def _file_bytes(params: Iterable[ms.Parameter]) -> int:
    """The exact size MindSpore writes for these parameters (dtype-aware: global_step is int32)."""
    return sum(record_bytes(p.name, tuple(p.shape), str(p.dtype)) for p in params)


def save_weights(net: nn.Cell, path: Path, sidecar: Sidecar) -> None:
    """Weights only (+ BatchNorm statistics): what inference needs. `sidecar` says what the
    caller knows (arch, epoch, …); the file's kind, size and MindSpore version are added here."""
    import mindspore as ms

    params = list(net.get_parameters())
    with fileio.atomic_path(path, suffix=".ckpt") as tmp:
        ms.save_checkpoint(net, str(tmp))
    write_sidecar(
        path,
        sidecar.evolve(
            kind="weights",
            params=sum(p.size for p in params),
            expected_bytes=_file_bytes(params),
            mindspore_version=ms.__version__,
        ),
    )


def save_train_state(net: nn.Cell, optimizer: nn.Optimizer, path: Path, meta: dict[str, Any], sidecar: Sidecar) -> None:
    """Weights + optimizer moments + step + `meta` (epoch, best, RNG, history) in one file."""
    import mindspore as ms

    seen, params = set(), []
    for p in list(net.get_parameters()) + list(optimizer.get_parameters()):
        if p.name not in seen and p.name != "learning_rate":
            seen.add(p.name)
            params.append(p)
    with fileio.atomic_path(path, suffix=".ckpt") as tmp:
        ms.save_checkpoint(
            [{"name": p.name, "data": p} for p in params], str(tmp), append_dict={META_KEY: json.dumps(meta)}
        )
    write_sidecar(
        path,
        sidecar.evolve(
            kind="train_state",
            params=sum(p.size for p in net.get_parameters()),
            expected_bytes=_file_bytes(params) + string_bytes(META_KEY, json.dumps(meta)),
            mindspore_version=ms.__version__,
        ),
    )


def load_train_state(path: Path, net: nn.Cell, optimizer: nn.Optimizer) -> dict[str, Any]:
    """Restore weights and optimizer from last_state.ckpt; return its meta."""
    import mindspore as ms

    try:
        values = ms.load_checkpoint(str(path))
    except (RuntimeError, ValueError, OSError) as error:
        raise CheckpointError(f"{path}: cannot load ({one_line(error)})") from None
    raw = values.pop(META_KEY, None)
    if raw is None:
        raise CheckpointError(f"{path}: not a training state (no {META_KEY})")
    ms.load_param_into_net(net, values, strict_load=True)
    # the schedule is rebuilt from the config, not saved: hand the optimizer its own so
    # MindSpore does not warn about a parameter it did not load
    for param in optimizer.get_parameters():
        if param.name == "learning_rate":
            values.setdefault(param.name, param)
    ms.load_param_into_net(optimizer, values, strict_load=False)
    try:
        return fileio.parse_json(str(raw))
    except ValueError as error:
        raise CheckpointError(f"{path}: its training state is damaged ({error})") from None


def load_network(path: Path, arch: str, device_target: str = "CPU") -> nn.Cell:
    """MindSpore network in eval mode with the checkpoint's weights; `path` and `arch` as
    `ckpt.arch.check_checkpoint` returned them (every caller checks first, once)."""
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
        raise CheckpointError(f"{path}: cannot load ({one_line(error)})") from None
