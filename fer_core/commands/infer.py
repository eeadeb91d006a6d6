"""Placeholder until this verb lands."""
from fer_core.errors import FerError


def add_arguments(parser):
    parser.add_argument("rest", nargs="*")


def run(args) -> int:
    raise FerError("not implemented yet")
