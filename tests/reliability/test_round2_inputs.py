"""Bad input the first round missed (issue 12, classes 5, 11 and 12): each is one line
naming the thing, exit 2 (or a listing that goes on), and nothing on disk changed.
"""

from __future__ import annotations

import ctypes
import os
import resource
import shutil
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest

from fer_core.cli import main as cli
from fer_core.runs import rundir
from tests.helpers import fer_rows, small_csv, write_csv
from tests.reliability.conftest import tiny_config
from tests.reliability.test_bad_inputs import rejects, snapshot

FER_TUI = str(Path(sys.executable).with_name("fer-tui"))
FAKE_TRAINER = Path(__file__).resolve().parent.parent / "fake_trainer.py"


@pytest.fixture
def area(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FER_TUI_TRAINER", f"{sys.executable} {FAKE_TRAINER}")
    (tmp_path / "in").mkdir()
    return tmp_path


def _stopped_run(area: Path, save_dir: str = "runs") -> Path:
    csv = small_csv(area / "in" / f"data-{save_dir}.csv")
    run_dir = rundir.create_run(tiny_config(csv, save_dir=save_dir), "r2")
    rundir.update_status(run_dir, state="stopped")
    return run_dir


# ---------------------------------------------------------------- class 5: config.toml on resume


@pytest.mark.parametrize("damage", ["lr = -1.0", "epochs = 'ten'", b"\xff\xfe not text", "a folder"])
def test_resume_validates_config_toml_before_spawning(capfd, area, damage):
    run_dir = _stopped_run(area)
    config = run_dir / rundir.CONFIG
    if damage == "a folder":
        config.unlink()
        config.mkdir()
    elif isinstance(damage, bytes):
        config.write_bytes(damage)
    else:
        key = damage.split(" = ")[0]
        lines = [line for line in config.read_text().splitlines() if not line.startswith(f"{key} =")]
        config.write_text("\n".join([*lines, damage]) + "\n")
    rejects(
        capfd, area, ["train", "--resume", str(run_dir), "--detach"], [str(config)], "r2: bad config.toml on --resume"
    )
    assert rundir.read_status(run_dir).state == "stopped"


def test_resume_with_a_bad_config_through_the_console_script(area):
    run_dir = _stopped_run(area)
    (run_dir / rundir.CONFIG).write_text((run_dir / rundir.CONFIG).read_text().replace("lr = ", "lr = -"))
    result = subprocess.run(
        [FER_TUI, "train", "--resume", run_dir.name, "--detach"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ},
    )
    assert result.returncode == 2 and "resumed" not in result.stdout, result
    assert len(result.stderr.strip().splitlines()) == 1 and "config.toml" in result.stderr, result.stderr


# ---------------------------------------------------------------- class 7: CSV numbers


def test_a_label_of_thousands_of_digits_is_one_line(capfd, area):
    label = "7" * 5000  # int() of it raises ValueError (Python's digit limit)
    path = write_csv(area / "in" / "long-label.csv", [*fer_rows(1), f"{label},{' '.join(['9'] * 2304)},Training"])
    line = rejects(
        capfd,
        area,
        ["data", str(path)],
        [path.name, "line 9", "emotion must be 0..6", "5000 characters"],
        "r2: csv label of 5000 digits",
    )
    assert len(line) < 300


def _limit_memory() -> None:
    """2 GB of address space: the file's content fits many times, 25.7 GiB does not."""
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


def test_millions_of_short_lines_are_refused_in_bounded_memory(area):
    """3,000,000 two-field lines (12 MB): one line naming line 2, not a 25.7 GiB allocation."""
    path = area / "in" / "short-lines.csv"
    path.write_bytes(b"emotion,pixels,Usage\n" + b"0,1\n" * 3_000_000)
    process = subprocess.Popen(
        [FER_TUI, "data", str(path), "--no-cache"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_limit_memory,
    )
    _, err = process.communicate(timeout=300)
    assert process.returncode == 2, err[-2000:]
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "line 2" in lines[0] and path.name in lines[0], err[-2000:]
    assert "Traceback" not in err and "MemoryError" not in err


# ---------------------------------------------------------------- class 8: image size


@pytest.fixture(scope="module")
def huge_png(tmp_path_factory) -> Path:
    """A real, valid 20000×20000 grayscale PNG of ~400 KB (400 M pixels once decoded)."""
    side = 20000
    packer = zlib.compressobj(9)
    row = b"\0" * (side + 1)  # filter byte + one row of black
    body = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    path = tmp_path_factory.mktemp("huge") / "huge.png"
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", body)
        + chunk(b"IEND", b"")
    )
    return path


def test_a_huge_image_is_refused_from_its_header(capfd, area, huge_png):
    shipped = Path(__file__).resolve().parents[2] / "checkpoints" / "shipped" / "demo-tiny_cnn" / "best_model.ckpt"
    folder = area / "in" / "faces" / "happy"
    folder.mkdir(parents=True)
    shutil.copy(huge_png, folder / "face.png")
    names = ["20000×20000", "megapixel limit"]
    started = time.monotonic()
    rejects(
        capfd,
        area,
        ["infer", "--ckpt_path", str(shipped), "--image_path", str(huge_png)],
        [str(huge_png), *names],
        "r2: image over the pixel limit",
    )
    rejects(
        capfd,
        area,
        ["data", str(area / "in" / "faces")],
        [str(folder / "face.png"), *names],
        "r2: image over the pixel limit",
    )
    rejects(
        capfd,
        area,
        ["visualize", "--ckpt", str(shipped), "--input", str(huge_png), "--output", str(area / "out.png")],
        [str(huge_png), *names],
        "r2: image over the pixel limit",
    )
    assert time.monotonic() - started < 60, "the refusals must not decode the image"


@pytest.mark.parametrize("ext", [".jpg", ".png"])
def test_a_photo_cut_short_is_refused_not_half_read(capfd, area, ext):
    """libjpeg decoded half a photo (grey below), printed 'Premature end of JPEG file' and fer-tui
    classified it, exit 0: now refused from its bytes by infer and visualize alike."""
    import cv2
    import numpy as np

    shipped = Path(__file__).resolve().parents[2] / "checkpoints" / "shipped" / "demo-tiny_cnn" / "best_model.ckpt"
    ok, encoded = cv2.imencode(ext, np.random.default_rng(3).integers(0, 256, (120, 120, 3), dtype=np.uint8))
    photo = area / "in" / f"photo{ext}"
    photo.write_bytes(encoded.tobytes()[: len(encoded) * 2 // 3])
    names = [str(photo), "cut short", "incomplete"]
    rejects(
        capfd, area, ["infer", "--ckpt_path", str(shipped), "--image_path", str(photo)], names, "r2: a photo cut short"
    )
    rejects(
        capfd,
        area,
        ["visualize", "--ckpt", str(shipped), "--input", str(photo), "--output", str(area / "out.png")],
        names,
        "r2: a photo cut short",
    )


def test_a_video_given_to_image_mode_is_told_to_use_video_mode(capfd, area):
    shipped = Path(__file__).resolve().parents[2] / "checkpoints" / "shipped" / "demo-tiny_cnn" / "best_model.ckpt"
    clip = area / "in" / "clip.mp4"
    clip.write_bytes(b"\0\0\0\x18ftypmp42" + b"\0" * 64)
    rejects(
        capfd,
        area,
        ["visualize", "--ckpt", str(shipped), "--input", str(clip)],
        [str(clip), "--mode video"],
        "r2: a video in image mode",
    )


# ---------------------------------------------------------------- class 11: the smaller ones


def test_preset_name_with_a_trailing_newline_is_refused(capfd, area):
    rejects(capfd, area, ["presets", "demo", "--save", "mine\n"], ["preset name", "'mine\\n'"], "r2: preset name")


def test_one_bad_user_preset_does_not_hide_the_others(area):
    presets = Path(os.environ["FER_TUI_USER_PRESETS"])
    presets.mkdir(parents=True, exist_ok=True)
    (presets / "broken-one.toml").write_text("lr = 'fast'\n")
    result = subprocess.run([FER_TUI, "presets"], capture_output=True, text=True, timeout=120)
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith("demo ") for line in lines), result.stdout
    broken = [line for line in lines if line.startswith("broken-one")]
    assert len(broken) == 1 and "broken:" in broken[0] and "lr" in broken[0], result.stdout
    assert result.returncode == 1


def test_an_id_two_runs_share_is_refused_not_guessed(capfd, area):
    for _ in range(20):  # two save_dirs, the same second: the same run id
        first, second = _stopped_run(area, "left"), _stopped_run(area, "right")
        if first.name == second.name:
            break
        time.sleep(0.05)
    else:
        pytest.skip("could not create two runs within one second")
    for argv in (["train", "--resume", first.name, "--detach"], ["stop", first.name]):
        line = rejects(capfd, area, argv, [first.name, str(first), str(second)], "r2: ambiguous run id")
        assert "2 runs" in line


SETPRIV = shutil.which("setpriv")


@pytest.mark.skipif(os.geteuid() != 0 or not SETPRIV, reason="needs root and setpriv to drop the read override")
def test_an_unreadable_checkpoint_is_one_row(tmp_path):
    """chmod 000 on one .ckpt: `checkpoints --quick` and the full check list it as unreadable
    and go on with the others (run without CAP_DAC_OVERRIDE: root reads anything)."""
    shipped = Path(__file__).resolve().parents[2] / "checkpoints" / "shipped" / "demo-tiny_cnn"
    folder = tmp_path / "ckpts"
    folder.mkdir()
    for name in ("good.ckpt", "locked.ckpt"):
        shutil.copy(shipped / "best_model.ckpt", folder / name)
    (folder / "locked.ckpt").chmod(0)
    env = {**os.environ, "GLOG_v": "3"}
    for extra in (["--quick"], ["--samples", "demo"]):
        result = subprocess.run(
            [SETPRIV, "--bounding-set", "-dac_override,-dac_read_search", FER_TUI, "checkpoints", str(folder), *extra],
            capture_output=True,
            text=True,
            timeout=600,
            env=env,
        )
        assert "Traceback" not in result.stderr, result.stderr[-2000:]
        rows = [line for line in result.stdout.splitlines() if ".ckpt" in line]
        assert len(rows) == 2, (extra, result.stdout, result.stderr[-2000:])
        locked = next(r for r in rows if "locked.ckpt" in r)
        assert "broken: unreadable (Permission denied)" in locked, (extra, result.stdout)
        assert "broken" not in next(r for r in rows if "good.ckpt" in r), (extra, result.stdout)
        assert result.returncode == 1


# ---------------------------------------------------------------- class 12: the device


def _has_cuda() -> bool:
    for name in ("libcuda.so.1", "libcuda.so"):
        try:
            ctypes.CDLL(name)
            return True
        except OSError:
            continue
    return False


@pytest.mark.skipif(_has_cuda(), reason="this machine has a CUDA driver")
def test_a_gpu_preset_without_cuda_is_refused_before_a_run_exists(capfd, area):
    root = Path(os.environ["FER_TUI_CHECKPOINTS"])
    line = rejects(
        capfd,
        area,
        ["train", "--preset", "demo", "--device_target", "GPU", "--detach"],
        ["device_target GPU", "libcuda"],
        "r2: device without a driver",
    )
    assert not root.exists() or not any(root.iterdir()), line
    before = snapshot(area)
    result = subprocess.run(
        [FER_TUI, "train", "--preset", "demo", "--device_target", "GPU"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert snapshot(area) == before
    assert cli  # the in-process and the console-script paths are the same code
