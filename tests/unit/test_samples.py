"""The sample folder: correct faces per class from a CSV/folder/demo, overview, demo bootstrap."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from fer_core import CLASS_NAMES, locations
from fer_core.cli.main import main
from fer_core.data.dataset import load_dataset
from fer_core.data.samples import ensure_demo_samples, make_samples
from fer_core.infer.predictor import Predictor
from fer_core.runs import rundir
from tests.helpers import fer_rows, write_csv
from tests.unit.test_checkpoints import trained_run

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    return trained_run(tmp_path_factory)


@pytest.fixture(scope="module")
def csv_file(run_dir, tmp_path_factory):
    """The run's validation faces as a FER2013-format CSV."""
    split = load_dataset(rundir.read_config(run_dir).data_csv).split("PublicTest")
    path = tmp_path_factory.mktemp("csv") / "faces.csv"
    lines = ["emotion,pixels,Usage"] + [
        f"{label},{' '.join(map(str, image.ravel()))},PublicTest" for image, label in zip(split.images, split.labels)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_samples_verb_writes_correct_faces_per_class_and_an_overview(run_dir, csv_file, tmp_path, capsys):
    out = tmp_path / "samples"
    ckpt = run_dir / "best_model.ckpt"
    assert (
        main(["samples", "--csv", str(csv_file), "--ckpt", str(ckpt), "--num_samples", "2", "--output", str(out)]) == 0
    )
    assert "written to" in capsys.readouterr().out
    files = sorted(out.glob("*/correct_sample_*.png"))
    assert files and {f.parent.name for f in files} <= set(CLASS_NAMES)
    assert all(f.name in ("correct_sample_1.png", "correct_sample_2.png") for f in files)
    faces = np.stack([cv2.imread(str(f), cv2.IMREAD_GRAYSCALE) for f in files])
    predicted = Predictor(ckpt).predict(faces).argmax(1)
    assert [CLASS_NAMES[p] for p in predicted] == [f.parent.name for f in files], "only correct faces"
    assert cv2.imread(str(out / "overview.png")) is not None
    # the sample folder is what the folder worker and the behaviour check read
    assert load_dataset(out).split("PublicTest").images.shape[1:] == (48, 48)


def test_samples_never_overwrite_silently(run_dir, csv_file, tmp_path, capsys):
    out = tmp_path / "samples"
    args = ["samples", "--csv", str(csv_file), "--ckpt", str(run_dir / "best_model.ckpt"), "--output", str(out)]
    assert main(args) == 0
    assert main(args) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(args + ["--force"]) == 0


def test_force_with_fewer_samples_leaves_no_earlier_ones_behind(run_dir, csv_file, tmp_path, capsys):
    out = tmp_path / "samples"
    args = ["samples", "--csv", str(csv_file), "--ckpt", str(run_dir / "best_model.ckpt"), "--output", str(out)]
    assert main(args + ["--num_samples", "3"]) == 0
    assert any(out.glob("*/correct_sample_3.png"))
    assert main(args + ["--num_samples", "1"]) == 2, "samples 2 and 3 are there: not silently mixed"
    assert main(args + ["--num_samples", "1", "--force"]) == 0
    assert {f.name for f in out.glob("*/correct_sample_*.png")} == {"correct_sample_1.png"}
    assert main(["samples", "--csv", str(csv_file), "--output", str(out), "--force"]) == 0  # no model
    assert not (out / "overview.png").exists(), "the earlier model's overview is not this set's"


def test_the_shipped_sample_folder_is_never_written(monkeypatch, capsys):
    shipped = locations.shipped_data("samples")
    before = {p: p.stat().st_mtime_ns for p in shipped.rglob("*") if p.is_file()}
    monkeypatch.delenv("FER_TUI_SAMPLES")
    monkeypatch.chdir(shipped.parent)  # a checkout's root: ./samples is the shipped folder
    assert main(["samples", "--csv", "demo", "--num_samples", "1", "--force"]) == 2
    assert "shipped sample folder" in capsys.readouterr().err
    assert main(["samples", "--csv", "demo", "--output", str(shipped), "--force"]) == 2
    assert {p: p.stat().st_mtime_ns for p in shipped.rglob("*") if p.is_file()} == before


def test_synthetic_faces_judging_a_real_data_model_say_so(run_dir, csv_file, tmp_path):
    from fer_core.ckpt.deep import inspect
    from fer_core.data.samples import synthetic_faces

    ckpt = run_dir / "best_model.ckpt"  # trained on a CSV, not on the demo set
    assert synthetic_faces(locations.shipped_data("samples")) and synthetic_faces("demo")

    def behaviour(report):
        return next(c.verdict.text for c in report.checks if c.name == "behaviour")

    on_demo = behaviour(inspect(ckpt, samples="demo"))
    assert "synthetic demo faces" in on_demo
    real = tmp_path / "real-samples"
    assert main(["samples", "--csv", str(csv_file), "--output", str(real)]) == 0
    assert not synthetic_faces(real)
    assert "synthetic" not in behaviour(inspect(ckpt, samples=real))


def test_demo_samples_exist_before_any_training(tmp_path):
    folder = ensure_demo_samples()
    assert folder == locations.samples_dir()
    files = sorted(folder.glob("*/correct_sample_*.png"))
    assert len(files) == 3 * len(CLASS_NAMES)
    stamp = files[0].stat().st_mtime_ns
    assert ensure_demo_samples() == folder and files[0].stat().st_mtime_ns == stamp, "made once"


def test_demo_samples_with_a_checkpoint(run_dir, tmp_path):
    result = make_samples(run_dir / "best_model.ckpt", "demo", 1, tmp_path / "demo")
    # a model trained on brightness gets few synthetic faces right; whatever it gets is kept
    assert all(p.exists() for p in result.written)
    assert len(result.missing) + sum(p.name.startswith("correct") for p in result.written) >= len(CLASS_NAMES)


def test_one_face_written_is_said_as_one_face(tmp_path, capsys):
    csv = write_csv(tmp_path / "one.csv", fer_rows(1, usage="PublicTest")[:1])  # one face in the split
    assert main(["samples", "--csv", str(csv), "--num_samples", "1", "--output", str(tmp_path / "out")]) == 0
    assert capsys.readouterr().out.startswith(f"1 face from {csv} PublicTest written to ")


@pytest.mark.parametrize("case", ["zero", "no_csv", "output_is_file"])
def test_bad_input_is_one_line_and_exit_2(case, run_dir, tmp_path, capsys):
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    args = {
        "zero": ["--num_samples", "0"],
        "no_csv": ["--csv", str(tmp_path / "none.csv")],
        "output_is_file": ["--output", str(a_file)],
    }[case]
    assert main(["samples", "--ckpt", str(run_dir / "best_model.ckpt"), *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("fer-tui samples: error: ")
