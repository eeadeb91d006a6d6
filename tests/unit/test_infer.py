"""`fer-tui infer` and the Predictor: crops, photos (Haar cascade or centre square), TTA, bad input."""

from __future__ import annotations

import re

import cv2
import numpy as np
import pytest

from fer_core import CLASS_NAMES
from fer_core.cli.main import main
from fer_core.data.dataset import demo_dataset
from fer_core.infer.faces import find_faces
from fer_core.infer.predictor import Predictor
from tests.unit.test_checkpoints import trained_run

pytestmark = pytest.mark.slow
LINE = re.compile(r"^Prediction: (\w+) Probability: (0\.\d{4}|1\.0000)$")


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    return trained_run(tmp_path_factory) / "best_model.ckpt"


@pytest.fixture(scope="module")
def face():
    return demo_dataset().split("PublicTest").images[3]


def test_infer_on_a_48x48_crop_prints_the_classic_line(ckpt, face, tmp_path, capsys):
    crop = tmp_path / "face.png"
    cv2.imwrite(str(crop), face)
    assert main(["infer", "--ckpt_path", str(ckpt), "--image_path", str(crop), "--device_target", "CPU"]) == 0
    out = capsys.readouterr()
    assert LINE.match(out.out.strip()) and out.err == ""
    assert main(["infer", "--ckpt_path", str(ckpt), "--image_path", str(crop), "--all"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 8 and LINE.match(lines[0])
    probs = [float(line.split()[1]) for line in lines[1:]]
    assert [line.split()[0] for line in lines[1:]] == list(CLASS_NAMES)
    assert sum(probs) == pytest.approx(1.0, abs=1e-3)
    assert f"{max(probs):.4f}" == lines[0].split()[-1]


def test_infer_on_a_photo_finds_the_face_or_says_it_used_the_centre(ckpt, face, tmp_path, capsys):
    photo = np.full((240, 320), 128, np.uint8)
    photo[70:166, 120:216] = cv2.resize(face, (96, 96))
    path = tmp_path / "photo.jpg"
    cv2.imwrite(str(path), photo)
    assert main(["infer", "--ckpt_path", str(ckpt), "--image_path", str(path)]) == 0
    out = capsys.readouterr()
    assert LINE.match(out.out.strip())
    assert "Haar cascade" in out.err  # either "1 face found by…" or "no face found by…; centre square"


def test_photo_without_a_face_falls_back_to_the_centre_square():
    blank = np.full((200, 300), 90, np.uint8)
    faces, note = find_faces(blank)
    assert len(faces) == 1 and faces[0].box == (50, 0, 200, 200) and "centre square" in note
    assert faces[0].image.shape == (48, 48)


def test_predictor_tta_modes_give_probabilities(ckpt, face):
    predictor = Predictor(ckpt, batch_size=4)
    images = np.stack([face] * 5)
    for tta in (None, "flip", "ten_crop"):
        probs = predictor.predict(images, tta=tta)
        assert probs.shape == (5, 7) and np.allclose(probs.sum(1), 1, atol=1e-5)
    assert predictor.predict(face).shape == (1, 7)


def test_checkpoint_without_sidecar_loads_by_its_weights(ckpt, tmp_path, face):
    bare = tmp_path / "classic.ckpt"
    bare.write_bytes(ckpt.read_bytes())
    assert Predictor(bare).arch == "tiny_cnn"
    assert np.allclose(Predictor(bare).predict(face), Predictor(ckpt).predict(face), atol=1e-6)


@pytest.mark.parametrize("case", ["no_image", "not_image", "no_ckpt", "wrong_arch"])
def test_bad_input_is_one_line_and_exit_2(case, ckpt, face, tmp_path, capsys):
    image = tmp_path / "face.png"
    cv2.imwrite(str(image), face)
    text = tmp_path / "text.png"
    text.write_text("not an image")
    args = {
        "no_image": [str(ckpt), str(tmp_path / "missing.png")],
        "not_image": [str(ckpt), str(text)],
        "no_ckpt": [str(tmp_path / "missing.ckpt"), str(image)],
        "wrong_arch": [str(ckpt), str(image)],
    }[case]
    extra = ["--arch", "fer_cnn"] if case == "wrong_arch" else []
    assert main(["infer", "--ckpt_path", args[0], "--image_path", args[1], *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("fer-tui infer: error: ")


def test_infer_and_visualize_count_the_same_faces(ckpt, tmp_path, capsys):
    """One finder, one setting: infer names as many faces as visualize annotates."""
    from fer_core.data.synthetic import draw_faces

    images, _ = draw_faces(1, 0)
    photo = np.full((176, 6 * 136), 128, np.uint8)
    for i in range(6):
        photo[40:136, 20 + i * 136 : 116 + i * 136] = cv2.resize(images[i], (96, 96))
    path = tmp_path / "group.png"
    cv2.imwrite(str(path), photo)
    assert main(["infer", "--ckpt_path", str(ckpt), "--image_path", str(path)]) == 0
    note = capsys.readouterr().err
    found = int(re.search(r"(\d+) faces? found", note).group(1))
    assert found > 1 and "the largest is classified" in note
    output = tmp_path / "annotated.png"
    assert main(["visualize", "--ckpt", str(ckpt), "--input", str(path), "--output", str(output)]) == 0
    assert capsys.readouterr().out.startswith(f"{found} faces annotated")
