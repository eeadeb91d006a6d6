"""The one training-config schema, shared by presets, the CLI and the TUI form.

Field names keep the classic FER2013 script spellings (`data_csv`, `batch_size`, …) so an
existing `python src/train.py --batch_size 96 …` line works as `fer-tui train …`.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import tomllib
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from fer_core import fileio, locations
from fer_core.errors import ConfigError, did_you_mean
from fer_core.models import ARCHITECTURES

DEMO_DATA = "demo"  # `data_csv = "demo"` means the built-in synthetic face set
SPLITS = ("Training", "PublicTest", "PrivateTest")


class TrainConfig(BaseModel):
    """Every knob of a training run. Defaults are the classic script's."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    data_csv: str = Field(
        "fer2013.csv", min_length=1, description="FER2013 CSV (.csv/.csv.gz), image folder, or 'demo'"
    )
    device_target: Literal["CPU", "GPU", "Ascend"] = Field("CPU", description="MindSpore device")
    # More than one: the run is launched under MindSpore's msrun as that many data-parallel
    # processes (fer_core.train.parallel); batch_size stays the global batch, split evenly.
    workers: int = Field(
        1, ge=1, le=256, description="Data-parallel worker processes (msrun); batch_size is split among them"
    )
    arch: str = Field("fer_cnn", description="Architecture from the model registry")
    batch_size: int = Field(32, ge=1, le=4096, description="Images per training step")
    epochs: int = Field(50, ge=1, le=10_000, description="Maximum epochs")
    lr: float = Field(5e-4, gt=0, le=1, description="Peak learning rate (AdamWeightDecay)")
    min_lr: float = Field(1e-6, ge=0, description="Learning rate at the end of the cosine decay")
    warmup_epochs: int = Field(0, ge=0, description="Epochs of linear warm-up before the cosine decay")
    weight_decay: float = Field(0.0, ge=0, le=1, description="Decoupled weight decay")
    patience: int = Field(15, ge=0, description="Epochs without a better val accuracy before stopping (0: never)")
    augment: bool = Field(False, description="Augment training images (how: augment_policy)")
    augment_policy: Literal["crop_flip", "full"] = Field(
        "full", description="crop_flip: padded random crop + mirror; full: affine, brightness/contrast, erasing"
    )
    mixup: bool = Field(False, description="Mix pairs of images and their labels")
    mixup_alpha: float = Field(0.2, gt=0, le=10, description="Beta(alpha, alpha) mixing strength")
    label_smoothing: float = Field(0.0, ge=0, lt=1, description="Share of the target spread over all classes")
    val_split: Literal["PublicTest", "PrivateTest", "Training"] = Field(
        "PublicTest", description="Split used for validation, model selection and early stopping"
    )
    tta: bool = Field(False, description="Validate with test-time augmentation (flip averaging)")
    seed: int = Field(42, ge=0, le=2**31 - 1, description="Seed for shuffling, augmentation and init")
    # "auto" is what the CPU presets say: the same preset then trains on a GPU as typed
    # (`--preset cpu-best --device_target GPU`), where an explicit "fast" is refused.
    kernels: Literal["stock", "fast", "auto"] = Field(
        "stock",
        description="MindSpore's own operators (stock), fer-tui's CPU kernels (fast: 3×3 convolutions "
        "on oneDNN 3, BatchNorm+ReLU), or auto: fast on CPU, stock on GPU and Ascend",
    )
    state_every_minutes: float = Field(
        5.0, ge=0, le=1440, description="Save last_state.ckpt mid-epoch this often (0: at epoch ends and stops only)"
    )
    keep_checkpoints: int = Field(3, ge=0, le=1000, description="Periodic fer-<epoch>_<steps>.ckpt files kept")
    save_dir: str = Field(
        ".", min_length=1, description="Root of run directories (relative: under the checkpoints root)"
    )

    @field_validator("arch")
    @classmethod
    def _known_arch(cls, value: str) -> str:
        if value not in ARCHITECTURES:
            raise ValueError(f"must be one of {', '.join(ARCHITECTURES)}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> TrainConfig:
        """`min_lr` ≤ `lr`; `kernels = "fast"` only with `device_target = "CPU"`; `warmup_epochs` ≤
        `epochs`; `workers` divides `batch_size` (every worker trains an equal shard)."""
        if self.min_lr > self.lr:
            raise ValueError(f"min_lr must be <= lr ({self.lr:g}), got {self.min_lr:g}")
        if self.kernels == "fast" and self.device_target != "CPU":
            raise ValueError(f"kernels fast runs on CPU only, got device_target {self.device_target}")
        if self.warmup_epochs > self.epochs:
            raise ValueError(f"warmup_epochs must be <= epochs ({self.epochs}), got {self.warmup_epochs}")
        if self.batch_size % self.workers:  # equal shards: the mean of the workers' means is the batch mean
            raise ValueError(f"workers must divide batch_size ({self.batch_size}), got {self.workers}")
        return self

    @property
    def fast_kernels(self) -> bool:
        """Whether the run trains on fer-tui's kernels: `fast`, or `auto` on a CPU."""
        return self.kernels == "fast" or (self.kernels == "auto" and self.device_target == "CPU")

    def digest(self) -> str:
        """A short hash of the config, stored in checkpoint sidecars."""
        blob = json.dumps(self.model_dump(), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:12]

    def diff(self, other: TrainConfig) -> dict[str, tuple[Any, Any]]:
        """Fields whose values differ: name -> (self's, other's)."""
        mine, theirs = self.model_dump(), other.model_dump()
        return {k: (mine[k], theirs[k]) for k in mine if mine[k] != theirs[k]}


FIELDS = tuple(TrainConfig.model_fields)
BOOL_FIELDS = tuple(n for n, f in TrainConfig.model_fields.items() if f.annotation is bool)


# ---------------------------------------------------------------- one-line errors

_BOUNDS = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}
_TYPES = {
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "int_type": "an integer",
    "float_parsing": "a number",
    "float_type": "a number",
    "bool_parsing": "true or false",
    "bool_type": "true or false",
    "string_type": "text",
}


def explain(error: ValidationError) -> list[str]:
    """Pydantic's errors as `lr must be > 0, got -1` lines, one per bad field."""
    lines = []
    for item in error.errors():
        field = ".".join(str(p) for p in item["loc"]) or "config"
        kind, ctx, got = item["type"], item.get("ctx", {}), item.get("input")
        if kind in _BOUNDS:
            bound = next(iter(ctx.values()))
            text = f"must be {_BOUNDS[kind]} {_show(bound)}"
        elif kind in _TYPES:
            text = f"must be {_TYPES[kind]}"
        elif kind == "literal_error":
            text = f"must be one of {ctx.get('expected', '').replace(chr(39), '')}"
        elif kind == "extra_forbidden":
            lines.append(unknown_field(str(field)))
            continue
        elif kind == "string_too_short":
            text = "must not be empty"
        elif kind == "value_error":
            message = str(ctx.get("error", item["msg"]))
            if field == "config":  # cross-field rules already name their fields
                lines.append(message)
                continue
            text = message
        else:
            text = item["msg"].lower()
        lines.append(f"{field} {text}, got {_show(got)}")
    return lines


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value) if value == "" or " " in value else value
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def make_config(values: dict[str, Any]) -> TrainConfig:
    """Validate `values` into a TrainConfig or raise ConfigError with every problem on one line."""
    try:
        return TrainConfig(**values)
    except ValidationError as error:
        raise ConfigError("; ".join(explain(error))) from None


def check_field(name: str, raw: str, base: TrainConfig) -> str | None:
    """Validate one form field typed as text; return the error line or None (for the TUI)."""
    try:
        make_config({**base.model_dump(), name: parse_value(name, raw)})
    except ConfigError as error:
        return str(error)
    return None


def choices(name: str) -> tuple[str, ...]:
    """The values a field takes when it is a choice (`arch`, `device_target`, …), else ()."""
    if name == "arch":
        return tuple(ARCHITECTURES)
    annotation = TrainConfig.model_fields[name].annotation
    return tuple(get_args(annotation)) if get_origin(annotation) is Literal else ()


def unknown_field(name: str) -> str:
    """`unknown field 'lrr'; did you mean lr?`, or every field when none is close."""
    return f"unknown field '{name}'" + (did_you_mean(name, FIELDS) or f" (known: {', '.join(FIELDS)})")


def parse_value(name: str, raw: str) -> Any:
    """Text from a flag or a form into the Python value the schema expects."""
    if name not in TrainConfig.model_fields:
        raise ConfigError(unknown_field(name))
    if name in BOOL_FIELDS:
        lowered = raw.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        return raw  # let the schema say what is wrong
    annotation = TrainConfig.model_fields[name].annotation
    if name == "arch":  # `--arch FER_VGG`: a registered name in any case is that name
        return next((a for a in ARCHITECTURES if a.lower() == raw.strip().lower()), raw.strip())
    if get_origin(annotation) is Literal:
        # `--device_target gpu`, `--val_split publictest`: a choice in any case is that choice
        return next((c for c in get_args(annotation) if c.lower() == raw.strip().lower()), raw.strip())
    return raw.strip()


# ---------------------------------------------------------------- presets

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class Preset(BaseModel):
    name: str
    description: str
    config: TrainConfig
    path: Path
    user: bool = False


def _preset_files() -> dict[str, tuple[Path, bool]]:
    found: dict[str, tuple[Path, bool]] = {}
    for directory, user in ((locations.presets_dir(), False), (locations.user_presets_dir(), True)):
        if directory.is_dir():
            for path in sorted(directory.glob("*.toml")):
                found[path.stem] = (path, user)
    return found


def preset_names() -> list[str]:
    return list(_preset_files())


def preset_name(name: str) -> str:
    """The preset `name` means: itself, or the one preset it spells in another case or with
    `_` for `-` (`Demo`, `cpu_fast`), as choices are taken; else ConfigError naming the closest."""
    files = _preset_files()
    if name in files:
        return name
    same = [known for known in files if _spelling(known) == _spelling(name)]
    if len(same) == 1:
        return same[0]
    if same:  # user presets `my_set` and `my-set`: never guess
        raise ConfigError(f"preset '{name}' could be {' or '.join(same)}; give the name exactly")
    hint = did_you_mean(name, files)
    raise ConfigError(f"unknown preset '{name}' (known: {', '.join(files) or 'none'}){hint}")


def _spelling(name: str) -> str:
    return name.lower().replace("_", "-")


def load_preset(name: str) -> Preset:
    path, user = _preset_files()[preset_name(name)]
    return read_preset(path, user=user)


def read_preset(path: Path, user: bool = False) -> Preset:
    data = read_toml(path)
    description = str(data.pop("description", ""))
    try:
        config = make_config(data)
    except ConfigError as error:
        raise ConfigError(f"{path}: {error}") from None
    return Preset(name=path.stem, description=description, config=config, path=path, user=user)


def list_presets() -> list[Preset]:
    return [load_preset(name) for name in preset_names()]


def preset_name_problem(name: str, overwrite: bool = False) -> str | None:
    """Why `name` cannot be saved as a user preset, or None if it can."""
    if not _NAME.fullmatch(name):  # not match: `$` also matches before a trailing newline
        return f"preset name must be lowercase letters, digits, '-' or '_', got {name!r}"
    if (locations.presets_dir() / f"{name}.toml").exists():
        return f"preset '{name}' is shipped with fer-tui; choose another name"
    path = locations.user_presets_dir() / f"{name}.toml"
    if path.exists() and not overwrite:
        return f"preset '{name}' exists ({path}); choose another name or replace it (--force)"
    return None


def save_preset(name: str, config: TrainConfig, description: str = "", overwrite: bool = False) -> Path:
    """Write a user preset; refuses shipped names, and existing user presets unless `overwrite`."""
    problem = preset_name_problem(name, overwrite)
    if problem:
        raise ConfigError(problem)
    path = locations.user_presets_dir() / f"{name}.toml"
    fileio.write_toml(path, {"description": description or f"saved preset {name}", **config.model_dump()})
    return path


# ---------------------------------------------------------------- TOML files


def read_toml(path: Path) -> dict[str, Any]:
    """A TOML file anyone may have edited (a preset, --config, a run's config.toml): its size
    and nesting capped (fileio), every failure one ConfigError naming the file."""
    try:
        text = fileio.read_capped(path).decode("utf-8")
        return fileio.parse_toml(text)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML ({error})") from None
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path}: cannot read ({error})") from None
    except ValueError as error:  # too large, or nested deeper than any config
        raise ConfigError(f"{path}: not a config ({error})") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot read ({error.strerror or error})") from None


def load_config_file(path: Path) -> TrainConfig:
    """A run's config.toml (or any TOML of schema fields)."""
    data = read_toml(path)
    data.pop("description", None)
    try:
        return make_config(data)
    except ConfigError as error:
        raise ConfigError(f"{path}: {error}") from None


def resolve_save_dir(config: TrainConfig) -> Path:
    save_dir = Path(config.save_dir).expanduser()
    return save_dir if save_dir.is_absolute() else locations.checkpoints_root() / save_dir
