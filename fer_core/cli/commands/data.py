import argparse

from fer_core.data.dataset import describe, load_dataset
from fer_core.text import shown


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", help="fer2013.csv, fer2013.csv.gz, an image folder, or 'demo'")
    parser.add_argument("--no-cache", action="store_true", help="decode again, ignoring the cache")


def run(args: argparse.Namespace) -> int:
    dataset = load_dataset(args.path, use_cache=not args.no_cache)
    print("\n".join(map(shown, describe(dataset))))
    return 0
