import argparse

import tomli_w

from fer_core import config
from fer_core.errors import ConfigError
from fer_core.text import shown


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", nargs="?", help="show this preset's values")
    parser.add_argument(
        "--save", metavar="NEW_NAME", help="save preset NAME (with its --set changes) as the user preset NEW_NAME"
    )
    parser.add_argument(
        "--set", nargs=2, action="append", default=[], metavar=("FIELD", "VALUE"), help="change a field before saving"
    )
    parser.add_argument("--description", default="", help="one line: what the saved preset is for")
    parser.add_argument("--force", action="store_true", help="replace a user preset of that name")


def run(args: argparse.Namespace) -> int:
    saving = [
        flag
        for flag, given in (
            ("--save", args.save),
            ("--set", args.set),
            ("--description", args.description),
            ("--force", args.force),
        )
        if given
    ]
    if saving and not args.name:
        raise ConfigError(
            f"presets {saving[0]}: name the preset to start from "
            "(fer-tui presets NAME --save NEW_NAME [--set FIELD VALUE])"
        )
    if saving and not args.save:
        raise ConfigError(f"presets {saving[0]}: changes a preset being saved; add --save NEW_NAME")
    if not args.name:
        broken = 0
        for name in config.preset_names():
            try:  # one bad user preset is one line, not the end of the listing
                preset = config.load_preset(name)
            except ConfigError as error:
                broken += 1
                print(shown(f"{name:<18} broken: {error}"))
                continue
            mark = " (user)" if preset.user else ""
            print(shown(f"{preset.name:<18} {preset.description}{mark}"))
        return 1 if broken else 0
    preset = config.load_preset(args.name)
    if args.save:
        values = preset.config.model_dump()
        values.update({f: config.parse_value(f, v) for f, v in args.set})
        path = config.save_preset(args.save, config.make_config(values), args.description, overwrite=args.force)
        print(shown(f"saved preset {args.save} to {path}"))
        return 0
    print(tomli_w.dumps({"description": preset.description, **preset.config.model_dump()}), end="")
    return 0
