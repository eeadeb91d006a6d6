"""One module per `fer-tui` verb: `add_arguments(parser)` and `run(args) -> int`."""

import argparse

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
