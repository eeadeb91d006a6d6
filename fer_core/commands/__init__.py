"""One module per `fer-tui` verb: `add_arguments(parser)` and `run(args) -> int`."""
