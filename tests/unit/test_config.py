"""The config schema: every field's bounds give a one-line message naming the field."""

import pytest

from fer_core import config
from fer_core.errors import ConfigError

BAD_VALUES = [
    ("lr", -1, "lr must be > 0, got -1"),
    ("lr", 0, "lr must be > 0, got 0"),
    ("lr", "abc", "lr must be a number, got abc"),
    ("batch_size", 0, "batch_size must be >= 1, got 0"),
    ("batch_size", 5000, "batch_size must be <= 4096, got 5000"),
    ("batch_size", "x", "batch_size must be an integer, got x"),
    ("batch_size", 3.5, "batch_size must be an integer, got 3.5"),
    ("epochs", 0, "epochs must be >= 1, got 0"),
    ("patience", -1, "patience must be >= 0, got -1"),
    ("device_target", "TPU", "device_target must be one of CPU, GPU or Ascend, got TPU"),
    ("mixup_alpha", 0, "mixup_alpha must be > 0, got 0"),
    ("label_smoothing", 1, "label_smoothing must be < 1, got 1"),
    ("label_smoothing", -0.1, "label_smoothing must be >= 0, got -0.1"),
    ("weight_decay", -1, "weight_decay must be >= 0, got -1"),
    ("min_lr", -1, "min_lr must be >= 0, got -1"),
    ("warmup_epochs", -2, "warmup_epochs must be >= 0, got -2"),
    ("keep_checkpoints", -1, "keep_checkpoints must be >= 0, got -1"),
    ("seed", -5, "seed must be >= 0, got -5"),
    ("state_every_minutes", -1, "state_every_minutes must be >= 0, got -1"),
    ("workers", 0, "workers must be >= 1, got 0"),
    ("workers", 257, "workers must be <= 256, got 257"),
    ("val_split", "Test", "val_split must be one of PublicTest, PrivateTest or Training, got Test"),
    ("augment", "maybe", "augment must be true or false, got maybe"),
    ("augment_policy", "heavy", "augment_policy must be one of crop_flip or full, got heavy"),
    ("kernels", "turbo", "kernels must be one of stock, fast or auto, got turbo"),
    ("arch", "vgg99", "arch must be one of tiny_cnn, fer_vgg, fer_cnn, resnet18_attn, got vgg99"),
    ("data_csv", "", "data_csv must not be empty, got ''"),
    ("save_dir", "", "save_dir must not be empty, got ''"),
]


@pytest.mark.parametrize("field,value,message", BAD_VALUES)
def test_bad_value_gives_its_message(field, value, message):
    with pytest.raises(ConfigError) as error:
        config.make_config({field: value})
    assert str(error.value) == message
    assert "\n" not in str(error.value)


def test_every_field_has_a_bad_value_case():
    checked = {field for field, _, _ in BAD_VALUES}
    numeric_or_choice = set(config.FIELDS) - {"mixup", "tta"}  # bools share augment's rule
    assert numeric_or_choice <= checked


def test_cross_field_rules():
    with pytest.raises(ConfigError, match=r"^min_lr must be <= lr \(0.001\), got 0.01$"):
        config.make_config({"lr": 1e-3, "min_lr": 1e-2})
    with pytest.raises(ConfigError, match=r"^warmup_epochs must be <= epochs \(5\), got 6$"):
        config.make_config({"epochs": 5, "warmup_epochs": 6})
    with pytest.raises(ConfigError, match=r"^workers must divide batch_size \(64\), got 3$"):
        config.make_config({"batch_size": 64, "workers": 3})
    assert config.make_config({"batch_size": 64, "workers": 4}).workers == 4


def test_unknown_field_and_several_errors_on_one_line():
    with pytest.raises(ConfigError) as error:
        config.make_config({"lr": -1, "batch_size": 0, "colour": "red"})
    text = str(error.value)
    assert "lr must be > 0" in text and "batch_size must be >= 1" in text and "unknown field 'colour'" in text
    assert "\n" not in text


def test_text_values_from_flags_and_forms_are_coerced():
    cfg = config.make_config(
        {
            f: config.parse_value(f, v)
            for f, v in [("lr", "7e-4"), ("batch_size", "96"), ("augment", "yes"), ("mixup", "off")]
        }
    )
    assert (cfg.lr, cfg.batch_size, cfg.augment, cfg.mixup) == (7e-4, 96, True, False)


def test_check_field_for_the_form():
    base = config.TrainConfig()
    assert config.check_field("lr", "-1", base) == "lr must be > 0, got -1"
    assert config.check_field("lr", "0.01", base) is None


def test_diff_and_digest():
    a, b = config.TrainConfig(), config.TrainConfig(lr=1e-3, augment=True)
    assert a.diff(b) == {"lr": (5e-4, 1e-3), "augment": (False, True)}
    assert a.digest() != b.digest() and a.digest() == config.TrainConfig().digest()
