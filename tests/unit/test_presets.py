"""Presets: the shipped values, loading by name, saving user presets without clobbering."""

import pytest

from fer_core import config
from fer_core.errors import ConfigError

EXPECTED = {
    "cpu-basic": dict(
        device_target="CPU",
        arch="fer_vgg",
        batch_size=32,
        epochs=50,
        lr=5e-4,
        patience=15,
        augment=False,
        kernels="auto",
        save_dir="checkpoints_50epoch",
    ),
    "cpu-augment": dict(
        device_target="CPU",
        arch="fer_vgg",
        batch_size=32,
        epochs=50,
        lr=5e-4,
        patience=15,
        augment=True,
        augment_policy="crop_flip",
        label_smoothing=0.1,
        kernels="auto",
        save_dir="checkpoints_50epoch",
    ),
    "cpu-fast": dict(device_target="CPU", arch="fer_vgg", batch_size=128, epochs=16, lr=2e-3, kernels="auto"),
    "gpu-recommended": dict(
        device_target="GPU",
        batch_size=96,
        epochs=50,
        lr=7e-4,
        patience=15,
        augment=True,
        mixup=True,
        mixup_alpha=0.4,
        label_smoothing=0.12,
        weight_decay=3e-5,
    ),
    "gpu-fast": dict(
        device_target="GPU", batch_size=64, epochs=50, lr=5e-4, patience=15, augment=True, label_smoothing=0.1
    ),
    "demo": dict(device_target="CPU", data_csv="demo", arch="tiny_cnn"),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_shipped_preset_values(name):
    preset = config.load_preset(name)
    for field, value in EXPECTED[name].items():
        assert getattr(preset.config, field) == value, field
    assert preset.description and "\n" not in preset.description


def test_every_shipped_preset_trains_in_one_process():
    # --workers N is a choice for the machine at hand, never a preset's default
    assert {p.name: p.config.workers for p in config.list_presets()} == {n: 1 for n in config.preset_names()}


def test_unknown_preset():
    with pytest.raises(ConfigError, match="unknown preset 'nope'"):
        config.load_preset("nope")


def test_save_and_load_user_preset():
    cfg = config.make_config({"lr": 1e-3, "batch_size": 48})
    path = config.save_preset("mine", cfg, "my recipe")
    loaded = config.load_preset("mine")
    assert loaded.user and loaded.config == cfg and loaded.description == "my recipe"
    assert "mine" in config.preset_names() and path.exists()


def test_cannot_overwrite_a_shipped_preset_or_use_a_bad_name():
    before = (config.locations.presets_dir() / "demo.toml").read_bytes()
    with pytest.raises(ConfigError, match="shipped"):
        config.save_preset("demo", config.TrainConfig())
    with pytest.raises(ConfigError, match="preset name"):
        config.save_preset("../evil", config.TrainConfig())
    assert (config.locations.presets_dir() / "demo.toml").read_bytes() == before


def test_bad_preset_file_names_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("FER_TUI_PRESETS", str(tmp_path))
    (tmp_path / "broken.toml").write_text("lr = -3\n")
    (tmp_path / "garbled.toml").write_text("lr = = 3\n")
    with pytest.raises(ConfigError, match=r"broken.toml: lr must be > 0, got -3"):
        config.load_preset("broken")
    with pytest.raises(ConfigError, match=r"garbled.toml: not valid TOML"):
        config.load_preset("garbled")
