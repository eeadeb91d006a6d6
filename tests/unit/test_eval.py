"""`fer-tui eval`: agrees with the trainer's logged val accuracy; report folder; bad input."""

from __future__ import annotations

import csv
import json

import cv2
import numpy as np
import pytest

from fer_core import CLASS_NAMES
from fer_core.cli.main import main
from fer_core.infer.evaluate import evaluate
from fer_core.runs import rundir
from tests.unit.test_checkpoints import trained_run

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    return trained_run(tmp_path_factory)


@pytest.fixture(scope="module")
def data(run_dir):
    return rundir.read_config(run_dir).data_csv


def test_eval_reproduces_the_logged_val_accuracy(run_dir, data):
    logged = {
        json.loads(line)["epoch"]: json.loads(line)["val_acc"]
        for line in (run_dir / "metrics.jsonl").read_text().splitlines()
    }
    ckpts = sorted(run_dir.glob("fer-*.ckpt")) + [run_dir / "best_model.ckpt"]
    assert len(ckpts) >= 3
    for ckpt in ckpts:
        epoch = json.loads(ckpt.with_suffix(".json").read_text())["epoch"]
        result = evaluate(ckpt, data, "PublicTest")
        assert abs(result.accuracy - logged[epoch]) <= 1e-6, ckpt.name
    assert len(set(logged.values())) > 1, "epochs differ, so agreement is not a coincidence"


def test_eval_json_has_precision_recall_and_confusion(run_dir, data, capsys):
    assert (
        main(["eval", "--ckpt", str(run_dir / "best_model.ckpt"), "--data_csv", data, "--json", "--batch_size", "5"])
        == 0
    )
    result = json.loads(capsys.readouterr().out)
    confusion = np.array(result["confusion"])
    assert confusion.shape == (7, 7) and confusion.sum() == result["total"] == 84
    assert result["accuracy"] == pytest.approx(np.trace(confusion) / 84)
    happy = result["per_class"]["happy"]
    assert happy["recall"] == pytest.approx(confusion[3, 3] / confusion[3].sum())
    assert happy["precision"] == pytest.approx(confusion[3, 3] / max(1, confusion[:, 3].sum()))


def test_eval_text_and_tta(run_dir, data, capsys):
    assert main(["eval", "--ckpt", str(run_dir / "best_model.ckpt"), "--data_csv", data, "--tta"]) == 0
    out = capsys.readouterr().out
    assert "TTA flip" in out and "Accuracy: " in out and "Confusion matrix" in out
    assert any(line.split() == list(CLASS_NAMES) for line in out.splitlines())  # each name whole


def test_report_folder_and_no_silent_overwrite(run_dir, data, tmp_path, capsys):
    report = tmp_path / "report"
    args = ["eval", "--ckpt", str(run_dir / "best_model.ckpt"), "--data_csv", data, "--report", str(report)]
    assert main(args) == 0
    image = cv2.imread(str(report / "confusion_matrix.png"))
    assert image is not None and image.shape[0] > 400
    rows = list(csv.reader((report / "per_class.csv").open()))
    assert rows[0] == ["class", "precision", "recall", "support"] and len(rows) == 9
    before = (report / "report.json").stat().st_mtime_ns
    capsys.readouterr()
    assert main(args) == 2
    assert "already exists" in capsys.readouterr().err
    assert (report / "report.json").stat().st_mtime_ns == before
    assert main(args + ["--force"]) == 0


@pytest.mark.parametrize("case", ["no_data", "no_split", "bad_batch", "no_ckpt", "bad_csv"])
def test_bad_input_is_one_line_and_exit_2(case, run_dir, data, tmp_path, capsys):
    broken_csv = tmp_path / "broken.csv"
    broken_csv.write_text("emotion,pixels,Usage\n9,1 2 3,Training\n")
    ckpt = str(run_dir / "best_model.ckpt")
    args = {
        "no_data": ["--ckpt", ckpt, "--data_csv", str(tmp_path / "none.csv")],
        "no_split": ["--ckpt", ckpt, "--data_csv", data, "--split", "PrivateTest"],
        "bad_batch": ["--ckpt", ckpt, "--data_csv", data, "--batch_size", "0"],
        "no_ckpt": ["--ckpt", str(tmp_path / "none.ckpt"), "--data_csv", data],
        "bad_csv": ["--ckpt", ckpt, "--data_csv", str(broken_csv)],
    }[case]
    assert main(["eval", *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("fer-tui eval: error: ")


def test_eval_defaults_to_the_tta_the_run_validated_with(tmp_path, capsys):
    """A run that validated flip-averaged is evaluated flip-averaged unless told otherwise, so
    its logged val_acc is what `eval` prints; `--tta none` gives the single view."""
    from tests.unit.test_checkpoints import train_tiny

    run = train_tiny(tmp_path, "tta", epochs=2, tta=True, keep_checkpoints=0)
    data = rundir.read_config(run).data_csv
    best = max(rundir.read_metrics(run), key=lambda row: row.val_acc)
    result = evaluate(run / "best_model.ckpt", str(data), "PublicTest")
    assert result.tta == "flip" and abs(result.accuracy - best.val_acc) <= 1e-6
    assert main(["eval", "--ckpt", str(run / "best_model.ckpt"), "--data_csv", str(data), "--tta", "none"]) == 0
    assert "no TTA" in capsys.readouterr().out
