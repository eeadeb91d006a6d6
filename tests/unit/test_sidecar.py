"""The sidecar model: every shipped sidecar reads, old and foreign keys are fine, damage is one
line naming the file and the field, and writing goes through the model. No MindSpore."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fer_core.ckpt.sidecar import Sidecar, load_sidecar, read_sidecar, sidecar_path, write_sidecar

SHIPPED = Path(__file__).resolve().parents[2] / "checkpoints" / "shipped"


@pytest.mark.parametrize("ckpt", sorted(SHIPPED.rglob("*.ckpt")), ids=lambda p: p.parent.name)
def test_every_shipped_sidecar_reads(ckpt):
    side, problem = load_sidecar(ckpt)
    assert problem is None and side is not None
    assert side.kind == "weights" and side.arch and side.bytes == ckpt.stat().st_size
    assert 0 < side.val_acc <= 1 and side.epoch >= 1 and side.class_names[0] == "angry"


def test_an_old_sidecar_with_few_keys_and_unknown_ones_reads(tmp_path):
    ckpt = tmp_path / "old.ckpt"
    sidecar_path(ckpt).write_text(json.dumps({"arch": "fer_cnn", "epoch": 3, "from_the_future": [1, 2]}))
    side = read_sidecar(ckpt)
    assert (side.arch, side.epoch, side.kind, side.expected_bytes) == ("fer_cnn", 3, None, None)
    assert not hasattr(side, "from_the_future")


@pytest.mark.parametrize(
    "content, says",
    [
        ('{"epoch": "three"}', "sidecar bad.json: epoch must be an integer, got three"),
        ('{"kind": "optimizer"}', "sidecar bad.json: kind must be one of"),
        ('{"val_acc": 61.2}', "sidecar bad.json: val_acc must be <= 1, got 61.2"),
        ("[1, 2]", "sidecar bad.json: not a JSON object"),
        ('{"epoch": 3', "sidecar bad.json: not valid JSON"),
    ],
)
def test_a_damaged_sidecar_is_one_line_naming_the_file_and_field(tmp_path, content, says):
    ckpt = tmp_path / "bad.ckpt"
    sidecar_path(ckpt).write_text(content)
    side, problem = load_sidecar(ckpt)
    assert side is None and problem.startswith(says) and "\n" not in problem
    assert read_sidecar(ckpt) is None  # inference only takes advice from a sound one


def test_no_sidecar_is_no_problem(tmp_path):
    assert load_sidecar(tmp_path / "x.ckpt") == (None, None)


def test_write_fills_the_facts_and_leaves_out_what_is_unknown(tmp_path):
    ckpt = tmp_path / "best_model.ckpt"
    ckpt.write_bytes(b"12345")
    path = write_sidecar(ckpt, Sidecar(arch="tiny_cnn", kind="weights", epoch=2, val_acc=0.5, config={"tta": True}))
    data = json.loads(path.read_text())
    assert data["file"] == "best_model.ckpt" and data["bytes"] == 5 and data["format"] == 1
    assert "step" not in data  # None is left out, not written as null
    side = read_sidecar(ckpt)
    assert side == Sidecar.from_json(data) and side.trained_tta == "flip"
    assert not list(tmp_path.glob(".*")), "written through a temporary file, renamed"
    with pytest.raises(ValueError):
        write_sidecar(ckpt, Sidecar.model_construct(epoch=-1))  # never a sidecar it could not read


def test_a_misspelt_field_is_an_error_when_writing_not_a_lost_fact(tmp_path):
    with pytest.raises(ValueError, match="val_accuracy"):
        Sidecar(arch="tiny_cnn", val_accuracy=0.5)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="epochs"):
        Sidecar(arch="tiny_cnn").evolve(epochs=3)
    assert Sidecar(arch="tiny_cnn").evolve(epoch=3).epoch == 3


def test_the_data_is_recorded_by_name_and_hash_never_by_a_machines_path(tmp_path):
    import hashlib

    from fer_core.ckpt.sidecar import portable_data

    data = tmp_path / "deep" / "folders" / "fer2013.csv.gz"
    data.parent.mkdir(parents=True)
    data.write_bytes(b"emotion,pixels,Usage\n")
    assert portable_data(str(data)) == ("fer2013.csv.gz", hashlib.sha256(b"emotion,pixels,Usage\n").hexdigest())
    assert portable_data("demo") == ("demo", None)
    assert portable_data(str(tmp_path / "deep")) == ("deep", None)  # an image folder: its name


def test_the_shipped_models_carry_no_absolute_path():
    from pathlib import Path

    shipped = Path(__file__).resolve().parents[2] / "checkpoints" / "shipped"
    for path in [*shipped.glob("*/*.json"), *shipped.glob("*/config.toml")]:
        assert '"/' not in path.read_text() and '= "/' not in path.read_text(), path


def test_a_runs_sidecars_name_its_data_without_its_folders(tmp_path):
    from fer_core.config import TrainConfig
    from fer_core.train.checkpoint_policy import CheckpointPolicy

    data = tmp_path / "data" / "fer2013.csv"
    data.parent.mkdir()
    data.write_text("emotion,pixels,Usage\n")
    stamp = CheckpointPolicy(tmp_path, TrainConfig(data_csv=str(data)), "run").sidecar(epoch=1)
    assert stamp.config is not None and stamp.config["data_csv"] == "fer2013.csv"
    assert stamp.data_sha256 is not None and len(stamp.data_sha256) == 64
    assert str(tmp_path) not in stamp.model_dump_json()
