"""Bad inputs: every one is a one-line error naming the thing, exit != 0, no traceback, and
nothing on disk changed (every file and folder under the test's directory, with sizes and
mtimes, is the same after as before).

The CLI runs in-process (`fer_core.cli.main`, fd-level capture, so MindSpore's or OpenCV's own
stderr chatter would count as extra lines) for the property-based cases; `test_console_script`
repeats one of each kind through the real `fer-tui` executable. Training commands use
`--detach` with the fake trainer: a bad input that slipped through would leave a run behind.
Counts per kind are printed at the end of the session (tests/reliability/conftest.py).
"""

from __future__ import annotations

import gzip
import os
import re
import subprocess
import sys
from itertools import count
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from fer_core import config as cfg
from fer_core.cli import main as cli
from tests.helpers import fer_rows, image_folder, small_csv, write_csv
from tests.reliability.conftest import HYPO, count_input, rejects, snapshot

FER_TUI = str(Path(sys.executable).with_name("fer-tui"))
_names = count()


def fresh(area: Path, suffix: str) -> Path:
    return area / "in" / f"input{next(_names)}{suffix}"


GOOD_PIXELS = " ".join(["128"] * 2304)


def _both_commands(capfd, area, path, names, kind):
    """`fer-tui data PATH` and `fer-tui train --data_csv PATH` refuse it the same way."""
    rejects(capfd, area, ["data", str(path)], names, kind)
    rejects(
        capfd, area, ["train", "--detach", "--preset", "demo", "--epochs", "1", "--data_csv", str(path)], names, kind
    )


# ---------------------------------------------------------------- CSV files


@HYPO
@given(n=st.integers(0, 5000).filter(lambda n: n != 2304))
def test_csv_wrong_pixel_count(capfd, area, n):
    path = write_csv(fresh(area, ".csv"), fer_rows(1) + [f"3,{' '.join(['7'] * n)},Training"])
    _both_commands(capfd, area, path, [path.name, "line 9"], "csv: wrong pixel count")


@HYPO
@given(value=st.one_of(st.integers(max_value=-1), st.integers(min_value=256)), where=st.integers(0, 2303))
@example(value=2**32, where=0).via("int32 wrapped it to 0")
@example(value=2**32 + 100, where=7).via("int32 wrapped it to 100")
@example(value=10**23 - 1, where=2303).via("int32 showed it as -1")
@example(value=-(10**30), where=1)
def test_csv_pixel_out_of_range(capfd, area, value, where):
    """Named with its row and its text as written, whatever its size (never a wrapped number)."""
    pixels = ["9"] * 2304
    pixels[where] = str(value)
    path = write_csv(fresh(area, ".csv"), fer_rows(1) + [f"2,{' '.join(pixels)},PublicTest"])
    _both_commands(
        capfd, area, path, [path.name, "line 9", str(value)[:24], f"position {where + 1}"], "csv: pixel out of range"
    )


@HYPO
@given(
    token=st.text(
        st.characters(blacklist_characters=',\n\r" ', blacklist_categories=("Cs",)), min_size=1, max_size=8
    ).filter(lambda t: not re.fullmatch(r"-?[0-9]+", t.strip()))
)
def test_csv_pixel_not_a_number(capfd, area, token):
    pixels = ["9"] * 2304
    pixels[100] = token
    path = write_csv(fresh(area, ".csv"), fer_rows(1) + [f"2,{' '.join(pixels)},Training"])
    _both_commands(capfd, area, path, [path.name, "line 9"], "csv: pixel not a number")


@HYPO
@given(
    label=st.text(st.characters(blacklist_characters=",\n\r", blacklist_categories=("Cs",)), max_size=6).filter(
        lambda t: (
            not re.fullmatch(r'\s*"?\s*[0-9]*[0-6]?\s*"?\s*', t)
            or not re.search("[0-9]", t)
            or re.fullmatch(r'\s*"?\s*0*[7-9][0-9]*\s*"?\s*', t) is not None
        )
    )
)
def test_csv_bad_label(capfd, area, label):
    if re.fullmatch(r'\s*"?\s*0*[0-6]\s*"?\s*', label):
        return  # a valid label after all
    path = write_csv(fresh(area, ".csv"), [*fer_rows(1), f"{label},{GOOD_PIXELS},Training"])
    _both_commands(capfd, area, path, [path.name, "line 9"], "csv: bad label")


@pytest.mark.parametrize("usage", ["training", "Test", "", "PrivateTest2"])
def test_csv_bad_usage(capfd, area, usage):
    path = write_csv(fresh(area, ".csv"), [*fer_rows(1), f"1,{GOOD_PIXELS},{usage}"])
    _both_commands(capfd, area, path, [path.name, "Usage"], "csv: bad usage")


@pytest.mark.parametrize(
    "header,missing",
    [
        ("pixels,Usage", "emotion"),
        ("emotion,Usage", "pixels"),
        ("label,pixels,Usage", "emotion"),
        ("emotion pixels Usage", "emotion"),
        ("emotion;pixels;Usage", "emotion"),
    ],
)
def test_csv_missing_column(capfd, area, header, missing):
    path = write_csv(fresh(area, ".csv"), ["1,2,Training"], header=header)
    _both_commands(capfd, area, path, [path.name, missing], "csv: missing column")


@pytest.mark.parametrize(
    "content", [b"", b"\n\n", b"   \r\n", b"\xef\xbb\xbf", b"emotion,pixels,Usage\n", b"emotion,pixels,Usage\r\n\r\n"]
)
def test_csv_empty(capfd, area, content):
    path = fresh(area, ".csv")
    path.write_bytes(content)
    _both_commands(capfd, area, path, path.name, "csv: empty")


@HYPO
@given(junk=st.binary(min_size=1, max_size=4096))
def test_csv_binary_junk(capfd, area, junk):
    path = fresh(area, ".csv")
    path.write_bytes(junk)
    _both_commands(capfd, area, path, path.name, "csv: binary junk")


@HYPO
@given(junk=st.binary(max_size=2048), gz_prefix=st.booleans())
def test_csv_gz_junk(capfd, area, junk, gz_prefix):
    path = fresh(area, ".csv.gz")
    path.write_bytes((gzip.compress(b"emotion,pixels,Usage\n1,2")[:12] if gz_prefix else b"") + junk)
    _both_commands(capfd, area, path, path.name, "csv: corrupt .gz")


@pytest.mark.parametrize(
    "newline,bom,gz", [("\r\n", False, False), ("\n", True, False), ("\r\n", True, False), ("\r\n", True, True)]
)
def test_csv_crlf_and_bom_are_read(capfd, area, newline, bom, gz):
    """CRLF line ends and a UTF-8 BOM are what Excel writes: read, not refused."""
    path = fresh(area, ".csv.gz" if gz else ".csv")
    write_csv(path, fer_rows(2), newline=newline, header=("\ufeff" if bom else "") + "emotion,pixels,Usage", gz=gz)
    assert cli.main(["data", str(path), "--no-cache"]) == 0
    out = capfd.readouterr().out
    assert re.search(r"Training\s+14\s+2\s+2", out), out
    count_input("csv: CRLF/BOM (accepted)")
    bad = fresh(area, ".csv")
    write_csv(
        bad,
        [*fer_rows(1), "8,1 2,Training"],
        newline=newline,
        header=("\ufeff" if bom else "") + "emotion,pixels,Usage",
    )
    rejects(capfd, area, ["data", str(bad)], [bad.name, "line 9"], "csv: CRLF/BOM with a bad row")


# ---------------------------------------------------------------- image folders


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"not an image",
        b"\x89PNG\r\n\x1a\n" + b"\0" * 40,
        "png-truncated",
        "jpg-truncated",
        "jpg-photo-truncated",
        "png-photo-truncated",
    ],
)
def test_image_folder_with_a_broken_image(capfd, area, content):
    """Cut-short files included: libjpeg decodes half a photo (grey below) and says so only on
    stderr, so they are refused from their bytes (no end-of-image marker, no IEND chunk)."""
    root = image_folder(fresh(area, "-faces"), per_class=1)
    if isinstance(content, str):
        import cv2
        import numpy as np

        ext = ".png" if content.startswith("png") else ".jpg"
        pixels = (
            np.random.default_rng(0).integers(0, 256, (96, 96), dtype=np.uint8)
            if "photo" in content
            else np.full((48, 48), 99, np.uint8)
        )
        ok, encoded = cv2.imencode(ext, pixels)
        content = encoded.tobytes()[: len(encoded) // 2]
    bad = root / "train" / "happy" / "zz_broken.png"
    bad.write_bytes(content)
    _both_commands(capfd, area, root, bad.name, "images: broken image file")


def test_image_folder_with_unreadable_entries(capfd, area):
    """A directory and a dangling symlink named like images, a text file: listed as skipped, not read."""
    root = image_folder(fresh(area, "-faces"), per_class=1)
    (root / "train" / "sad" / "folder.png").mkdir()
    (root / "train" / "sad" / "gone.png").symlink_to(root / "nowhere.png")
    (root / "train" / "sad" / "notes.txt").write_text("hi")
    assert cli.main(["data", str(root)]) == 0
    out = capfd.readouterr().out
    assert "notes.txt: not an image file" in out
    count_input("images: non-image entries (skipped, said)")


@pytest.mark.parametrize("layout", ["empty", "only-text", "bad-class-names", "images-at-root"])
def test_image_folder_without_images(capfd, area, layout):
    root = fresh(area, "-faces")
    root.mkdir()
    if layout == "only-text":
        (root / "happy").mkdir()
        (root / "happy" / "a.txt").write_text("x")
    elif layout == "bad-class-names":
        image_folder(root, per_class=1, split=None)
        for folder in root.iterdir():
            folder.rename(root / f"x{folder.name}")
    elif layout == "images-at-root":
        small = image_folder(area / "in" / f"tmp{next(_names)}", per_class=1, split=None)
        for png in small.rglob("*.png"):
            png.rename(root / png.name)
    _both_commands(capfd, area, root, [root.name, "no images found"], "images: no usable images")


# ---------------------------------------------------------------- checkpoints


@pytest.fixture(scope="module")
def real_ckpts(tmp_path_factory):
    """A trained-format tiny_cnn checkpoint (with sidecar), a fer_cnn one, and a face image."""
    import mindspore as ms

    from fer_core.ckpt.io import save_weights
    from fer_core.ckpt.sidecar import Sidecar
    from fer_core.models import build_model

    folder = tmp_path_factory.mktemp("ckpts")
    save_weights(build_model("tiny_cnn"), folder / "tiny.ckpt", Sidecar(arch="tiny_cnn"))
    ms.save_checkpoint(build_model("fer_cnn"), str(folder / "fercnn.ckpt"))
    image = next(image_folder(folder / "faces", per_class=1, split=None).rglob("*.png"))
    return folder / "tiny.ckpt", folder / "fercnn.ckpt", image


def _ckpt_commands(capfd, area, ckpt: Path, image: Path, names, kind, arch: str | None = None):
    extra = ["--arch", arch] if arch else []
    rejects(capfd, area, ["infer", "--ckpt", str(ckpt), "--image", str(image), *extra], names, kind)
    rejects(capfd, area, ["eval", "--ckpt", str(ckpt), "--data_csv", "demo", *extra], names, kind)


@HYPO
@given(fraction=st.floats(0.0, 1.0, exclude_max=True))
def test_ckpt_truncated_at_random_offsets(capfd, area, real_ckpts, fraction):
    tiny, _, image = real_ckpts
    data = tiny.read_bytes()
    path = fresh(area, ".ckpt")
    path.write_bytes(data[: int(len(data) * fraction)])
    path.with_suffix(".json").write_bytes(tiny.with_suffix(".json").read_bytes())  # the sidecar survived
    _ckpt_commands(capfd, area, path, image, path.name, "ckpt: truncated at a random offset")


@pytest.mark.parametrize("content", [b"", b"hello, I am a text file\n", "fer2013.csv", "random-bytes"])
def test_ckpt_not_a_checkpoint(capfd, area, real_ckpts, content):
    _, _, image = real_ckpts
    if content == "fer2013.csv":
        content = small_csv(area / "in" / "x.csv").read_bytes()
    elif content == "random-bytes":
        content = os.urandom(5000)
    path = fresh(area, ".ckpt")
    path.write_bytes(content)
    _ckpt_commands(
        capfd,
        area,
        path,
        image,
        path.name,
        "ckpt: zero bytes" if not content else "ckpt: not a checkpoint (text, CSV, random)",
    )


def test_ckpt_of_another_architecture(capfd, area, real_ckpts):
    tiny, fercnn, image = real_ckpts
    _ckpt_commands(
        capfd, area, fercnn, image, [fercnn.name, "not a tiny_cnn checkpoint"], "ckpt: another arch", arch="tiny_cnn"
    )
    liar = fresh(area, ".ckpt")  # a fer_cnn checkpoint beside a tiny_cnn sidecar
    liar.write_bytes(fercnn.read_bytes())
    liar.with_suffix(".json").write_bytes(tiny.with_suffix(".json").read_bytes())
    _ckpt_commands(capfd, area, liar, image, [liar.name, "not a tiny_cnn checkpoint"], "ckpt: another arch")
    rejects(
        capfd,
        area,
        ["infer", "--ckpt", str(tiny), "--image", str(image), "--arch", "resnet9000"],
        "resnet9000",
        "ckpt: unknown --arch",
    )


def test_ckpt_missing_or_a_folder(capfd, area, real_ckpts):
    _, _, image = real_ckpts
    _ckpt_commands(capfd, area, area / "in" / "nope.ckpt", image, "nope.ckpt", "missing path")
    folder = area / "in" / "folder.ckpt"
    folder.mkdir()
    _ckpt_commands(capfd, area, folder, image, "folder.ckpt", "ckpt: a folder")


def test_infer_image_missing_or_not_an_image(capfd, area, real_ckpts):
    tiny, _, _ = real_ckpts
    for name, content in [("missing.png", None), ("text.png", b"hello"), ("empty.jpg", b"")]:
        path = area / "in" / name
        if content is not None:
            path.write_bytes(content)
        rejects(
            capfd,
            area,
            ["infer", "--ckpt", str(tiny), "--image", str(path)],
            name,
            "missing path" if content is None else "images: broken image file",
        )


def test_resume_from_a_damaged_last_state(capfd, area, real_ckpts):
    """A lost run whose last_state.ckpt is truncated: --resume says so before touching the run."""
    from fer_core import fileio
    from fer_core.runs import rundir

    tiny, _, _ = real_ckpts
    run_dir = rundir.create_run(cfg.make_config({"data_csv": "demo", "arch": "tiny_cnn", "epochs": 3}), "x")
    rundir.update_status(run_dir, state="stopped")
    for content in (tiny.read_bytes()[:3000], b"", b"text"):
        fileio.write_text(run_dir / rundir.LAST_STATE, "")
        (run_dir / rundir.LAST_STATE).write_bytes(content)
        rejects(
            capfd,
            area,
            ["train", "--resume", str(run_dir), "--detach"],
            [rundir.LAST_STATE],
            "ckpt: damaged last_state.ckpt on --resume",
        )


# ---------------------------------------------------------------- missing paths, unwritable places


def test_missing_paths(capfd, area):
    gone = str(area / "in" / "gone")
    for argv, name in [
        (["data", gone], "gone"),
        (["train", "--detach", "--config", gone + ".toml"], "gone.toml"),
        (["train", "--detach", "--resume", gone], "gone"),
        (["stop", gone], "gone"),
        (["checkpoints", gone], "gone"),
        (["eval", "--ckpt", gone + ".ckpt", "--data_csv", "demo"], "gone.ckpt"),
        (["train", "--detach", "--preset", "nope"], "nope"),
    ]:
        rejects(capfd, area, argv, name, "missing path")


def test_unwritable_checkpoints_root(capfd, area, monkeypatch):
    """As root chmod stops nothing: the root lies under a regular file instead."""
    blocker = area / "in" / "plain-file"
    blocker.write_text("x")
    monkeypatch.setenv("FER_TUI_CHECKPOINTS", str(blocker / "checkpoints"))
    rejects(capfd, area, ["train", "--detach", "--preset", "demo"], "plain-file", "unwritable save dir")
    monkeypatch.setenv("FER_TUI_CHECKPOINTS", str(blocker))
    rejects(capfd, area, ["train", "--detach", "--preset", "demo"], "plain-file", "unwritable save dir")


def test_eval_report_dir_under_a_file(capfd, area, real_ckpts):
    tiny, _, _ = real_ckpts
    blocker = area / "in" / "plain-file"
    blocker.write_text("x")
    rejects(
        capfd,
        area,
        ["eval", "--ckpt", str(tiny), "--data_csv", "demo", "--report", str(blocker / "r")],
        "plain-file",
        "unwritable save dir",
    )


# ---------------------------------------------------------------- the real console script


def test_console_script(area, real_ckpts):
    """One of each kind through `fer-tui` itself: exit 2, one line on stderr, no traceback."""
    tiny, _, image = real_ckpts
    csv = area / "in" / "bad.csv"
    write_csv(csv, [*fer_rows(1), "9,1 2 3,Training"])
    trunc = area / "in" / "trunc.ckpt"
    trunc.write_bytes(tiny.read_bytes()[:4000])
    cases = [
        (["data", str(csv)], "bad.csv"),
        (["train", "--detach", "--preset", "demo", "--data_csv", str(csv)], "bad.csv"),
        (["infer", "--ckpt", str(trunc), "--image", str(image)], "trunc.ckpt"),
        (["train", "--detach", "--preset", "demo", "--lr", "abc"], "lr"),
        (["train", "--detach", "--preset", "demo", "--save_dir", str(csv / "x")], "bad.csv"),
    ]
    for argv, name in cases:
        before = snapshot(area)
        result = subprocess.run(
            [FER_TUI, *argv], capture_output=True, text=True, timeout=120, cwd=area, env={**os.environ, "GLOG_v": "3"}
        )
        assert result.returncode == 2, (argv, result.stdout, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1 and name in result.stderr, result.stderr
        assert "Traceback" not in result.stdout + result.stderr
        assert snapshot(area) == before, argv
        count_input("console script")
