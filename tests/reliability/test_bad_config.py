"""Bad configuration: every TrainConfig field out of range or of the wrong type (from its
schema, and any text for the numeric ones), broken config files and `--workers` launches this
machine cannot start. Each is one line naming the field, exit != 0, nothing on disk changed
(the property `rejects` checks: tests/reliability/conftest.py)."""

from __future__ import annotations

import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fer_core import config as cfg
from fer_core.config import TrainConfig
from tests.reliability.conftest import HYPO, rejects

# ---------------------------------------------------------------- config fields through the CLI


def _bad_values(name: str) -> list[str]:
    """Out-of-range and wrong-type spellings for one TrainConfig field, from its schema."""
    field = TrainConfig.model_fields[name]
    values: list[str] = []
    if field.annotation is bool:
        return ["maybe", "2", "yes please", "-1"]
    if field.annotation is int:
        values += ["abc", "1.5", "1e3x", "", "0x10"]
    if field.annotation is float:
        values += ["abc", "1,5", "", "--1"]
    for meta in field.metadata:
        for attr, step in (("ge", -1), ("gt", 0), ("le", 1), ("lt", 0)):
            bound = getattr(meta, attr, None)
            if bound is not None:
                values.append(
                    str(bound + step)
                    if field.annotation is int
                    else (str(bound) if attr in ("gt", "lt") else str(bound + step * 0.5))
                )
        if getattr(meta, "min_length", None):
            values.append("")
    if field.annotation is float:
        values += ["nan"] if name != "min_lr" else []
    if name == "arch":
        values += ["resnet9000", "tiny cnn"]  # any case is the arch: TINY_CNN is tiny_cnn
    if name in ("device_target", "val_split", "augment_policy", "kernels"):
        values += ["TPU", "cpu0", "Public Test"]  # any case is accepted: "cpu" is CPU
    return values


@pytest.mark.parametrize("name", list(TrainConfig.model_fields))
def test_every_config_field_out_of_range_or_wrong_type(capfd, area, name):
    values = _bad_values(name)
    if name == "data_csv":
        values += [str(area / "in" / "missing.csv")]
    if name == "save_dir":
        blocker = area / "in" / "a-file"
        blocker.write_text("x")
        values += [str(blocker / "runs"), str(blocker)]
    assert values, name
    for value in values:
        args = ["train", "--detach", "--preset", "demo", f"--{name}={value}"]
        if name in ("epochs", "lr"):  # so the cross-field rules don't hide the field's own message
            args += ["--warmup_epochs", "0", "--min_lr", "0"]
        rejects(capfd, area, args, name if name != "save_dir" or value == "" else "save_dir", f"config field: {name}")


@HYPO
@given(
    name=st.sampled_from([n for n, f in TrainConfig.model_fields.items() if f.annotation in (int, float)]),
    value=st.text(st.characters(blacklist_categories=("Cs",)), max_size=12),
)
def test_numeric_fields_with_any_text(capfd, area, name, value):
    try:
        cfg.make_config({**cfg.load_preset("demo").config.model_dump(), name: cfg.parse_value(name, value)})
        return  # a value the schema accepts (e.g. " 7"): not a bad input
    except Exception:  # noqa: BLE001 - any refusal: the CLI must say it in one line
        pass
    rejects(
        capfd,
        area,
        ["train", "--detach", "--preset", "demo", f"--{name}={value}"],
        name,
        "config field: hypothesis text",
    )


@pytest.mark.parametrize(
    "content,names",
    [
        ("epochs = 'many'\n", "epochs"),
        ("lr = -1\n", "lr"),
        ("bogus = 1\n", "bogus"),
        ("epochs = \n", "bad.toml"),
        ("\0\1\2", "bad.toml"),
        ("[x]\nepochs = 1\n", "x"),
    ],
)
def test_config_file_bad(capfd, area, content, names):
    path = area / "in" / "bad.toml"
    path.write_text(content)
    rejects(capfd, area, ["train", "--detach", "--config", str(path)], names, "config file: bad")


# ---------------------------------------------------------------- data-parallel launches (--workers N)


def test_workers_this_machine_cannot_start(capfd, area, monkeypatch):
    """Refused before a run directory exists: too many workers, a busy port, no msrun, bad nodes."""
    import socket

    cores = len(os.sched_getaffinity(0))
    demo = ["train", "--detach", "--preset", "demo", "--epochs", "1"]
    rejects(capfd, area, [*demo, "--workers", "0"], "workers must be >= 1, got 0", "workers: bad count")
    rejects(
        capfd,
        area,
        [*demo, "--workers", str(cores + 1), "--batch_size", str(8 * (cores + 1))],
        [f"workers {cores + 1}", f"{cores} cores", "--force"],
        "workers: more than cores",
    )
    rejects(
        capfd, area, [*demo, "--workers", "3"], "workers must divide batch_size (64), got 3", "workers: uneven shards"
    )
    rejects(capfd, area, [*demo, "--workers", "2", "--nodes", "3", "--force"], "multiple of nodes", "workers: nodes")
    rejects(capfd, area, [*demo, "--workers", "2", "--nodes", "2", "--node_rank", "2"], "node_rank", "workers: nodes")
    rejects(capfd, area, [*demo, "--workers", "2", "--master_port", "80", "--force"], "master_port", "workers: port")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        rejects(
            capfd,
            area,
            [*demo, "--workers", "2", "--force", "--master_port", str(port)],
            [f"master_port {port} is busy"],
            "workers: busy port",
        )
    monkeypatch.setenv("FER_TUI_MSRUN", str(area / "in" / "no-msrun"))
    rejects(capfd, area, [*demo, "--workers", "2", "--force"], ["msrun not found", "no-msrun"], "workers: no msrun")
