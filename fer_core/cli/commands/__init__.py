"""One module per `fer-tui` verb: `add_arguments(parser)` and `run(args) -> int`."""

import argparse
import os
from pathlib import Path

from fer_core.errors import DataError, RunError

DEVICES = ("CPU", "GPU", "Ascend")


def add_model_arguments(parser: argparse.ArgumentParser, arch: bool = True, backend: bool = False) -> None:
    """`--arch`, `--device_target` (and `--backend`), the same for every verb that loads a
    checkpoint."""
    from fer_core.models import ARCHITECTURES

    if arch:
        parser.add_argument(
            "--arch",
            choices=tuple(ARCHITECTURES),
            help="architecture, when the checkpoint has no sidecar and is not recognised",
        )
    parser.add_argument("--device_target", default="CPU", choices=DEVICES, help="where MindSpore runs (default CPU)")
    if backend:
        parser.add_argument(
            "--backend",
            default="auto",
            choices=("auto", "onnx", "mindspore"),
            help="what runs the network: auto (ONNX Runtime on CPU when installed), onnx, or mindspore (the reference)",
        )


def check_named_root(args: argparse.Namespace) -> None:
    """`fer-tui --root DIR runs`: a root the user named must be a folder (a typo is not an
    empty root: RunError, exit 2); the default root may not exist yet (no runs yet), nor may
    FER_TUI_CHECKPOINTS's (set once for every later shell), but a file there is no root."""
    given = getattr(args, "global_root", None)
    named = os.environ.get("FER_TUI_CHECKPOINTS")
    if given is not None:  # checked first: `--root DIR` has set FER_TUI_CHECKPOINTS to it
        where, path = f"--root {given}", Path(given).expanduser()
    elif named:
        where, path = f"FER_TUI_CHECKPOINTS={named}", Path(named).expanduser()
    else:
        return
    if path.is_dir() or (given is None and not path.exists()):
        return
    raise RunError(f"{where}: {'not a folder' if path.exists() else 'no such folder'}")


def check_data_exists(data_csv: str) -> None:
    """A run's data must be there before anything is made; the default `fer2013.csv` missing is
    most likely a first try, so the one line says how to get going."""
    from fer_core.config import DEMO_DATA, TrainConfig

    if data_csv == DEMO_DATA or Path(data_csv).expanduser().exists():
        return
    hint = ""
    if data_csv == TrainConfig.model_fields["data_csv"].default:
        hint = f"; download FER2013's {data_csv}, pass --data_csv PATH, or try --preset demo (synthetic, no download)"
    raise DataError(f"data_csv {data_csv}: no such file or folder{hint}")
