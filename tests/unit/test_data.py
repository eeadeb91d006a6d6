"""The data layer: CSV and .gz, image folders, the cache, the demo set, and bad input."""

import os

import numpy as np
import pytest

from fer_core.data import dataset as data
from fer_core.errors import DataError
from tests.helpers import fer_rows, image_folder, small_csv, write_csv


def test_csv_and_gz_decode_the_same(tmp_path):
    plain = data.load_dataset(small_csv(tmp_path / "f.csv"))
    zipped = data.load_dataset(small_csv(tmp_path / "f.csv.gz", gz=True))
    assert set(plain.splits) == {"Training", "PublicTest"}
    assert len(plain.split("Training")) == 21 and len(plain.split("PublicTest")) == 7
    for name in plain.splits:
        assert np.array_equal(plain.splits[name].images, zipped.splits[name].images)
        assert plain.splits[name].images.shape[1:] == (48, 48)
        assert plain.splits[name].images.dtype == np.uint8
    assert plain.split("Training").class_counts() == [3] * 7


def test_pixels_round_trip_exactly(tmp_path):
    rows = fer_rows(1, 7)
    path = write_csv(tmp_path / "f.csv", rows)
    split = data.load_dataset(path).split("Training")
    first = np.array(rows[0].split(",")[1].split(), dtype=np.uint8).reshape(48, 48)
    assert np.array_equal(split.images[0], first)
    assert split.labels[0] == int(rows[0].split(",")[0])


def test_crlf_bom_and_missing_usage_column(tmp_path):
    rows = [",".join(r.split(",")[:2]) for r in fer_rows(1)]
    path = tmp_path / "f.csv"
    path.write_bytes(b"\xef\xbb\xbf" + ("emotion,pixels\r\n" + "\r\n".join(rows) + "\r\n").encode())
    dataset = data.load_dataset(path)
    assert len(dataset.split("Training")) == 7


def test_cache_hit_miss_and_invalidation(tmp_path, monkeypatch):
    path = small_csv(tmp_path / "f.csv")
    calls = []
    real_parse = data.parse_csv
    monkeypatch.setattr(data, "parse_csv", lambda p: calls.append(p) or real_parse(p))
    first = data.load_dataset(path)
    second = data.load_dataset(path)
    assert len(calls) == 1, "the second load must come from the cache"
    assert np.array_equal(first.split("Training").images, second.split("Training").images)
    # changing the file (size and mtime) invalidates the cache
    write_csv(path, fer_rows(1, 9))
    os.utime(path, ns=(1, 10**18))
    third = data.load_dataset(path)
    assert len(calls) == 2 and len(third.split("Training")) == 7
    # a damaged cache file is rebuilt, not fatal
    for cache in (tmp_path / "cache").glob("*.npz"):
        cache.write_bytes(b"junk")
    assert len(data.load_dataset(path).split("Training")) == 7 and len(calls) == 3


def test_image_folder_by_name_and_index(tmp_path):
    by_name = data.load_dataset(image_folder(tmp_path / "a", 2, split="train"))
    by_index = data.load_dataset(image_folder(tmp_path / "b", 2, split="test", by_index=True))
    flat = data.load_dataset(image_folder(tmp_path / "c", 1, split=None))
    assert by_name.split("Training").class_counts() == [2] * 7
    assert by_index.split("PublicTest").class_counts() == [2] * 7
    assert flat.split("PublicTest").class_counts() == [1] * 7


def test_demo_set_is_deterministic_and_balanced():
    demo = data.demo_dataset()
    assert demo.split("Training").class_counts() == [300] * 7
    from fer_core.data.synthetic import draw_faces

    again, labels = draw_faces(300, seed=1000)
    assert np.array_equal(again, demo.split("Training").images)


def _bad_csv(tmp_path, text):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    return path


ROW = fer_rows(1)[0]
PIXELS = ROW.split(",")[1]


@pytest.mark.parametrize(
    "text,message",
    [
        ("", "bad.csv: empty file"),
        ("emotion,pixels,Usage\n", "bad.csv: no data rows after the header"),
        ("pixels,Usage\n" + PIXELS + ",Training\n", "bad.csv line 1: missing column 'emotion'"),
        ("emotion,Usage\n3,Training\n", "bad.csv line 1: missing column 'pixels'"),
        (f"emotion,pixels,Usage\n{ROW}\n7,{PIXELS},Training\n", "bad.csv line 3: emotion must be 0..6, got '7'"),
        (f"emotion,pixels,Usage\nx,{PIXELS},Training\n", "bad.csv line 2: emotion must be 0..6, got 'x'"),
        (f"emotion,pixels,Usage\n3,{PIXELS} 1,Training\n", "bad.csv line 2: expected 2304 pixel values, got 2305"),
        (
            f"emotion,pixels,Usage\n3,{PIXELS.rsplit(' ', 1)[0]},Training\n",
            "bad.csv line 2: expected 2304 pixel values, got 2303",
        ),
        (
            f"emotion,pixels,Usage\n3,256 {PIXELS.split(' ', 1)[1]},Training\n",
            "bad.csv line 2: pixel values must be 0..255, got 256 at position 1",
        ),
        (
            f"emotion,pixels,Usage\n3,-1 {PIXELS.split(' ', 1)[1]},Training\n",
            "bad.csv line 2: pixel values must be 0..255, got -1 at position 1",
        ),
        (
            f"emotion,pixels,Usage\n3,ab {PIXELS.split(' ', 1)[1]},Training\n",
            "bad.csv line 2: pixel 1 is not a number: 'ab'",
        ),
        (
            f"emotion,pixels,Usage\n3,{PIXELS},Somewhere\n",
            "bad.csv line 2: Usage must be one of Training, PublicTest, PrivateTest, got 'Somewhere'",
        ),
        (f"emotion,pixels,Usage\n3,{PIXELS}\n", "bad.csv line 2: expected 3 columns, got 2"),
    ],
)
def test_bad_csv_gives_one_line_naming_file_and_line(tmp_path, text, message):
    with pytest.raises(data.DataError) as error:
        data.load_dataset(_bad_csv(tmp_path, text))
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_missing_file_binary_junk_and_bad_gzip(tmp_path):
    with pytest.raises(DataError, match="nope.csv: no such file"):
        data.load_dataset(tmp_path / "nope.csv")
    junk = tmp_path / "junk.csv"
    junk.write_bytes(bytes(range(256)) * 10)
    with pytest.raises(DataError, match="junk.csv"):
        data.load_dataset(junk)
    fake = tmp_path / "fake.csv.gz"
    fake.write_bytes(b"not gzip at all")
    with pytest.raises(DataError, match="fake.csv.gz: cannot read"):
        data.load_dataset(fake)


def test_unreadable_image_in_a_folder(tmp_path):
    root = image_folder(tmp_path / "d", 1, split="train")
    (root / "train" / "happy" / "broken.png").write_bytes(b"not a png")
    with pytest.raises(DataError, match=r"broken.png: not a readable image"):
        data.load_dataset(root)
    skipped = data.load_folder(root, skip_bad=True)
    assert any("broken.png" in s for s in skipped.skipped)
    assert len(skipped.split("Training")) == 7


def test_non_image_files_are_reported_not_loaded(tmp_path):
    root = image_folder(tmp_path / "d", 1, split="train")
    (root / "train" / "sad" / "notes.txt").write_text("hello")
    dataset = data.load_dataset(root)
    assert any("notes.txt: not an image file" in s for s in dataset.skipped)


def test_empty_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no images found"):
        data.load_dataset(tmp_path / "empty")


def test_missing_split(tmp_path):
    dataset = data.load_dataset(small_csv(tmp_path / "f.csv"))
    with pytest.raises(
        DataError, match=r"no rows in split PrivateTest \(splits found: Training \(21\), PublicTest \(7\)\)"
    ):
        dataset.split("PrivateTest")


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".bmp", ".webp", ".tif", ".pgm"])
def test_image_size_is_read_from_the_header_of_every_format_read(tmp_path, suffix):
    """The pixel limit is judged from the header: it must be the size the decoder sees."""
    import cv2

    from fer_core.data.imagefile import image_size

    image = np.zeros((37, 53), np.uint8)
    path = tmp_path / f"face{suffix}"
    assert cv2.imwrite(str(path), image)
    assert image_size(path) == (53, 37)
