"""`fer-tui visualize`: annotated images and videos written to files; webcam fails cleanly."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from fer_core.cli.main import main
from fer_core.data.dataset import demo_dataset
from tests.unit.test_checkpoints import trained_run

pytestmark = pytest.mark.slow
FRAMES = 12


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    return trained_run(tmp_path_factory) / "best_model.ckpt"


def scene(i: int) -> np.ndarray:
    """A 320×240 frame with a drawn face that drifts."""
    face = cv2.resize(demo_dataset().split("PublicTest").images[i % 7], (96, 96))
    frame = np.full((240, 320), 110, np.uint8)
    frame[60 + i : 156 + i, 100 + 2 * i : 196 + 2 * i] = face
    return cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)


@pytest.fixture
def clip(tmp_path):
    path = tmp_path / "clip.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10, (320, 240))
    for i in range(FRAMES):
        writer.write(scene(i))
    writer.release()
    return path


def read_frames(path: Path) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    capture.release()
    return frames


def test_video_mode_writes_a_readable_video_with_every_frame(ckpt, clip, capsys):
    assert main(["visualize", "--mode", "video", "--ckpt", str(ckpt), "--input", str(clip)]) == 0
    output = clip.with_name("clip_annotated.mp4")
    assert f"{FRAMES} frames" in capsys.readouterr().out
    frames = read_frames(output)
    assert len(frames) == FRAMES and frames[0].shape == (240, 320, 3)
    assert not np.array_equal(frames[0], read_frames(clip)[0]), "something was drawn"


def test_image_mode_draws_on_the_photo_and_keeps_existing_files(ckpt, tmp_path, capsys):
    photo = tmp_path / "photo.png"
    cv2.imwrite(str(photo), scene(0))
    assert main(["visualize", "--mode", "image", "--ckpt", str(ckpt), "--input", str(photo)]) == 0
    output = tmp_path / "photo_annotated.png"
    annotated = cv2.imread(str(output))
    assert annotated.shape == (240, 320, 3) and "1 face annotated" in capsys.readouterr().out
    assert main(["visualize", "--mode", "image", "--ckpt", str(ckpt), "--input", str(photo)]) == 2
    assert "already exists" in capsys.readouterr().err


@pytest.mark.skipif(Path("/dev/video0").exists(), reason="a camera is attached")
def test_webcam_without_a_camera_is_one_line(ckpt, tmp_path, capsys):
    assert (
        main(
            [
                "visualize",
                "--mode",
                "webcam",
                "--ckpt",
                str(ckpt),
                "--input",
                "0",
                "--output",
                str(tmp_path / "cam.mp4"),
            ]
        )
        == 2
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["fer-tui visualize: error: camera 0: cannot open it (no camera on this machine, or it is busy)"]
    assert not (tmp_path / "cam.mp4").exists()


@pytest.mark.parametrize("case", ["no_video", "text_video", "no_input", "bad_camera", "no_image"])
def test_bad_input_is_one_line_and_exit_2(case, ckpt, tmp_path, capsys):
    text = tmp_path / "clip.mp4"
    text.write_text("not a video")
    args = {
        "no_video": ["--mode", "video", "--input", str(tmp_path / "none.mp4")],
        "text_video": ["--mode", "video", "--input", str(text)],
        "no_input": ["--mode", "video"],
        "bad_camera": ["--mode", "webcam", "--input", "front"],
        "no_image": ["--mode", "image", "--input", str(tmp_path / "none.png")],
    }[case]
    assert main(["visualize", "--ckpt", str(ckpt), *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("fer-tui visualize: error: ")


def test_an_image_in_the_shipped_samples_is_annotated_in_the_current_folder(ckpt, tmp_path, monkeypatch, capsys):
    """The shipped sample set is package data: an annotated file there would be its 22nd face."""
    import fer_core

    happy = Path(fer_core.__file__).parent / "assets" / "samples" / "happy"  # through the package's link
    before = sorted(p.name for p in happy.parent.rglob("*"))
    monkeypatch.chdir(tmp_path)
    assert main(["visualize", "--ckpt", str(ckpt), "--input", str(happy / "correct_sample_1.png")]) == 0
    out = capsys.readouterr().out
    assert cv2.imread(str(tmp_path / "correct_sample_1_annotated.png")) is not None
    assert str(tmp_path / "correct_sample_1_annotated.png") in out and "shipped samples" in out
    assert sorted(p.name for p in happy.parent.rglob("*")) == before
    refused = ["visualize", "--ckpt", str(ckpt), "--input", str(happy / "correct_sample_1.png")]
    assert main([*refused, "--output", str(happy / "mine.png")]) == 2
    assert "shipped samples" in capsys.readouterr().err and not (happy / "mine.png").exists()


def test_an_image_in_a_class_folder_is_annotated_in_the_current_folder(ckpt, tmp_path, monkeypatch, capsys):
    """happy/face.png is a face to eval, infer and the checks: happy/face_annotated.png would be one more."""
    happy = tmp_path / "faces" / "happy"
    happy.mkdir(parents=True)
    cv2.imwrite(str(happy / "face.png"), scene(0))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    assert main(["visualize", "--ckpt", str(ckpt), "--input", str(happy / "face.png")]) == 0
    assert (work / "face_annotated.png").is_file() and "class folder happy/" in capsys.readouterr().out
    assert sorted(p.name for p in happy.iterdir()) == ["face.png"]
    monkeypatch.chdir(happy)  # the current folder is that class folder too: no default is safe
    assert main(["visualize", "--ckpt", str(ckpt), "--input", "face.png"]) == 2
    assert "--output" in capsys.readouterr().err and sorted(p.name for p in happy.iterdir()) == ["face.png"]
