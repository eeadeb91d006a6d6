"""One module per `fer-tui` verb: `add_arguments(parser)` and `run(args) -> int`."""


DEVICES = ("CPU", "GPU", "Ascend")


def add_model_arguments(parser, arch: bool = True) -> None:
    """`--arch` and `--device_target`, the same for every verb that loads a checkpoint."""
    from fer_core.models import ARCHITECTURES

    if arch:
        parser.add_argument("--arch", choices=tuple(ARCHITECTURES),
                            help="architecture, when the checkpoint has no sidecar and is not recognised")
    parser.add_argument("--device_target", default="CPU", choices=DEVICES)
