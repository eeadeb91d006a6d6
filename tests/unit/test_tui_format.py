"""Pure helpers behind the dashboard's text."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from fer_core.config import TrainConfig
from fer_core.records import EpochRow, RunStatus
from fer_core.runs.columns import age
from fer_tui import format as fmt
from fer_tui.widgets.config_form import choices
from fer_tui.widgets.run_facts import facts_text, message_text
from fer_tui.widgets.run_progress import progress_label


def test_age_is_coarse():
    assert [age(s) for s in (0, 59, 60, 3599, 3600, 86400 * 3, -5)] == ["0s", "59s", "1m", "59m", "1h", "3d", "0s"]


def test_duration():
    assert fmt.duration(9.4) == "9s"
    assert fmt.duration(245) == "4m05s"
    assert fmt.duration(3720) == "1h02m"
    assert fmt.duration(None) == "-" and fmt.duration(-1) == "-"


@given(st.floats(min_value=0, max_value=1e7, allow_nan=False))
def test_duration_never_raises_and_is_short(seconds):
    assert len(fmt.duration(seconds)) <= 8


def test_percent_and_number():
    assert fmt.percent(0.68214) == "68.21%"
    assert fmt.percent(None) == "-"
    assert fmt.number(True) == "on" and fmt.number(3e-3) == "0.003" and fmt.number(8) == "8"


def test_diff_text_orders_old_to_new_and_limits():
    base = TrainConfig(lr=3e-3, epochs=8)
    new = TrainConfig(lr=1e-2, epochs=4)
    assert fmt.diff_text(base.diff(new)) == "epochs 8→4, lr 0.003→0.01"
    assert fmt.diff_text({}) == "no changes"
    many = {f"f{i}": (i, i + 1) for i in range(5)}
    assert fmt.diff_text(many, limit=2).endswith("+3 more")


def test_differing_fields():
    configs = [{"lr": 1, "epochs": 2}, {"lr": 1, "epochs": 3}, {"lr": 1}]
    assert fmt.differing_fields(configs) == {"epochs"}
    assert fmt.differing_fields([{"a": 1}]) == set()


def test_best_point_prefers_the_flag_then_the_max():
    rows = [
        EpochRow(epoch=1, val_acc=0.4, is_best=True),
        EpochRow(epoch=2, val_acc=0.5),
        EpochRow(epoch=3, val_acc=0.45),
        EpochRow(epoch=4, is_best=True),
    ]  # no val_acc: skipped
    assert fmt.best_point(rows) == (1, 0.4)  # the trainer's flag wins (it may use TTA)
    for row in rows:
        row.is_best = False  # rows older than the flag
    assert fmt.best_point(rows) == (2, 0.5)
    assert fmt.best_point([]) is None


def test_series_skips_missing_values():
    rows = [EpochRow(epoch=1, lr=0.1), EpochRow(epoch=2), EpochRow(epoch=3, lr=0.05)]
    assert fmt.series(rows, "lr") == ([1, 3], [0.1, 0.05])
    assert fmt.series(rows, "val_acc") == ([], [])


def test_run_label_drops_the_date_and_keeps_what_tells_runs_apart():
    assert fmt.run_label("20261128-000626-demo", 16) == "000626-demo"
    assert fmt.run_label("20261128-001544-demo", 16) == "001544-demo"
    assert fmt.run_label("20261127-153012-gpu-recommended", 18) == "153012-gpu-recomm…"
    assert fmt.run_label("20261127-153012-t", 40) == "20261127-153012-t"  # room: the whole id
    assert fmt.run_label("cpu-tuned-fer_cnn", 16) == "cpu-tuned-fer_c…"


def test_short_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert fmt.short_path(tmp_path / "checkpoints") == "checkpoints"
    assert fmt.short_path(tmp_path) == "."
    assert fmt.short_path(Path("/")) == "/"


def test_choice_fields_come_from_the_schema():
    assert choices("device_target") == ["CPU", "GPU", "Ascend"]
    assert "tiny_cnn" in choices("arch")
    assert choices("lr") is None


def test_facts_show_state_best_and_failure_message():
    status = RunStatus(
        run_id="r1", preset="demo", best_val_acc=0.61, best_epoch=3, patience_left=2, message="CUDA out of memory"
    )
    text = facts_text(status, "failed", "GPU", "fer_cnn", patience=15).plain
    assert "failed  r1" in text and "best 61.00% @3" in text and "patience 2/15 left" in text
    assert "patience 2 left" in facts_text(status, "failed", "GPU", "fer_cnn").plain  # config unreadable
    assert "patience" not in facts_text(status, "failed", "GPU", "fer_cnn", patience=0).plain
    # the longest preset's line fits the Run screen's 78 columns (80, less its padding)
    widest = RunStatus(preset="gpu-recommended", best_val_acc=0.6821, best_epoch=25, patience_left=15)
    line = facts_text(widest, "running", "GPU", "resnet18_attn", patience=15).plain.splitlines()[1]
    assert line.endswith("patience 15/15 left") and len(line) <= 78
    assert "CUDA out of memory" in message_text(status, "failed").plain
    assert message_text(status, "finished") is None
    fallback = facts_text(RunStatus(run_id="r2"), "running", "CPU", "tiny_cnn", (4, 0.5)).plain
    assert "best 50.00% @4" in fallback and "out of memory" not in fallback


def test_progress_label_shows_speed_and_eta_only_when_live():
    status = RunStatus(epoch=3, epochs=8, step=40, steps=100, images_per_second=812.4, eta_seconds=80)
    assert progress_label(status, True) == "epoch 3/8 · step 40/100 · 812 img/s · ETA 1m20s"
    assert progress_label(status, False) == "epoch 3/8 · step 40/100"


def test_a_data_parallel_run_shows_its_workers_and_their_images_per_second_together():
    status = RunStatus(
        run_id="r3",
        preset="demo",
        epoch=1,
        epochs=2,
        step=5,
        steps=32,
        images_per_second=1234.0,
        eta_seconds=10,
        workers=2,
    )
    assert "demo · CPU · tiny_cnn · 2 workers" in facts_text(status, "running", "CPU", "tiny_cnn").plain
    assert "1,234 img/s on 2 workers" in progress_label(status, True)
    one = status.evolve(workers=1)
    assert "workers" not in facts_text(one, "running", "CPU", "tiny_cnn").plain + progress_label(one, True)


def test_a_folder_on_a_status_line_is_named_or_cut_from_the_left(monkeypatch, tmp_path):
    from fer_core import locations
    from fer_tui.format import place_name

    assert place_name(locations.shipped_data("samples")) == "the shipped sample faces"
    deep = tmp_path / "lib" / "python3.11" / "site-packages" / "somewhere" / "my-samples"
    shown = place_name(deep)
    assert len(shown) <= 32 and shown.startswith("…") and shown.endswith("/my-samples")
    monkeypatch.chdir(tmp_path)
    assert place_name(tmp_path / "samples") == "samples"
