"""FER2013 data: the CSV (plain or gzip), image folders and the synthetic demo set.

Everything ends up as uint8 arrays of shape (N, 48, 48) plus int64 labels, one pair per
split. A CSV is decoded once and cached as .npz keyed by path, size and mtime: parsing
2,304 pixel strings per row is the slow part, and it must never happen per epoch.
"""

from __future__ import annotations

import errno
import gzip
import hashlib
import io
import stat as stat_mode
import sys
import warnings
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fer_core import CLASS_NAMES, IMAGE_SIZE, NUM_CLASSES, fileio, locations
from fer_core.config import DEMO_DATA, SPLITS
from fer_core.data.imagefile import image_kind, read_image
from fer_core.errors import DataError
from fer_core.text import shown

PIXELS = IMAGE_SIZE * IMAGE_SIZE
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".pgm", ".tif", ".tiff", ".webp")
CACHE_VERSION = "1"
# The most a CSV may hold, unpacked: FER2013 is about 300 MB, so this leaves room for a larger
# set in the same format while a .csv.gz that unpacks to gigabytes is one line, not all memory.
MAX_CSV_BYTES = 2 << 30

# Folder names people use for the splits; "test" is PublicTest so a train/test folder
# validates on its test half by default.
SPLIT_ALIASES = {
    "training": "Training",
    "train": "Training",
    "publictest": "PublicTest",
    "val": "PublicTest",
    "valid": "PublicTest",
    "validation": "PublicTest",
    "test": "PublicTest",
    "privatetest": "PrivateTest",
}


@dataclass
class Split:
    images: np.ndarray  # (N, 48, 48) uint8
    labels: np.ndarray  # (N,) int64

    def __len__(self) -> int:
        return len(self.labels)

    def class_counts(self) -> list[int]:
        return np.bincount(self.labels, minlength=NUM_CLASSES).tolist()


@dataclass
class Dataset:
    source: str
    splits: dict[str, Split] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)  # "path: why" for files left out

    def split(self, name: str) -> Split:
        if name not in self.splits or len(self.splits[name]) == 0:
            have = ", ".join(f"{k} ({len(v)})" for k, v in self.splits.items()) or "none"
            raise DataError(f"{self.source}: no rows in split {name} (splits found: {have})")
        return self.splits[name]


def load_dataset(spec: str | Path, use_cache: bool = True) -> Dataset:
    """Load `demo`, a FER2013 CSV (.csv or .csv.gz), or an image folder."""
    if str(spec) == DEMO_DATA:
        return demo_dataset()
    path = Path(spec).expanduser()
    if not path.exists():
        raise DataError(f"{path}: no such file or folder")
    if path.is_dir():
        return load_folder(path)
    kind = image_kind(path)
    if kind:  # `--data_csv overview.png`: say so, not "missing column 'emotion' (header: �png)"
        raise DataError(f"{path}: is an image ({kind}), not a CSV; give a FER2013 CSV, an image folder or 'demo'")
    return load_csv(path, use_cache=use_cache)


# ---------------------------------------------------------------- CSV


def load_csv(path: Path, use_cache: bool = True) -> Dataset:
    path = Path(path)
    try:
        stat = path.stat()
    except OSError as error:
        raise DataError(f"{path}: cannot read ({error.strerror})") from None
    if not stat_mode.S_ISREG(stat.st_mode):  # /dev/zero, a FIFO: reading never ends
        raise DataError(f"{path}: not a regular file; give a FER2013 CSV (.csv/.csv.gz) or an image folder")
    cache = _cache_file(f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}")
    if use_cache and cache.exists():
        try:
            return _read_cache(cache, str(path))
        except (OSError, ValueError, KeyError):
            pass  # a damaged cache is rebuilt below
    dataset = parse_csv(path)
    if use_cache:
        _write_cache(cache, dataset)
    return dataset


def parse_csv(path: Path) -> Dataset:
    """Decode `emotion,pixels,Usage` rows; any bad row is a one-line error with its line number."""
    raw = _read_bytes(path)
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in raw[:4096]:
        raise DataError(f"{path}: not UTF-8 text (UTF-16?); save it as a UTF-8 CSV")
    budget = len(raw) // (2 * PIXELS - 1) + 1  # a whole row takes >= 2,304 digits + spaces
    # lines end in LF or CRLF (the CR is cut per row), or in CR alone (old Mac spreadsheets)
    lines = raw.split(b"\n" if b"\n" in raw else b"\r")
    del raw
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines or not lines[0].strip():
        raise DataError(f"{path}: empty file")
    header = [h.strip().strip(b'"').decode("utf-8", "replace").strip().lower() for h in lines[0].split(b",")]
    for needed in ("emotion", "pixels"):
        if needed not in header:
            found = shown(",".join(header))
            found = found if len(found) <= 60 else found[:57] + "..."  # a header-less file's "header" is pixels
            raise DataError(f"{path} line 1: missing column '{needed}' (header: {found})")
    i_label, i_pixels = header.index("emotion"), header.index("pixels")
    i_usage = header.index("usage") if "usage" in header else None
    rows = lines[1:]
    if not rows:
        raise DataError(f"{path}: no data rows after the header")

    # sized by what the bytes can hold, not by the line count: a million short lines must be
    # a one-line error at line 2, not a request for gigabytes (a short row fails before the end)
    values = np.empty((min(len(rows), budget), PIXELS), dtype=np.uint8)
    labels = np.empty(len(rows), dtype=np.int64)
    usages = np.empty(len(rows), dtype=object)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy only warns when a token is not a number
        for n, line in enumerate(rows):
            fields = _split_fields(line, len(header))
            if fields is None:
                raise DataError(f"{path} line {n + 2}: expected {len(header)} columns, got {line.count(b',') + 1}")
            label = fields[i_label].strip().strip(b'"')
            digits = label.lstrip(b"0") or b"0"  # int() of thousands of digits raises, so look first
            if not label.isdigit() or len(digits) > 1 or int(digits) >= NUM_CLASSES:
                raise DataError(f"{path} line {n + 2}: emotion must be 0..6, got {_shown(label)}")
            labels[n] = int(digits)
            pixels = _parse_row(path, n + 2, fields[i_pixels])
            if pixels.size != PIXELS:
                raise DataError(f"{path} line {n + 2}: expected {PIXELS} pixel values, got {pixels.size}")
            if pixels.view(np.uint64).max() > 255:  # negatives are huge as unsigned: one pass
                column = int(np.flatnonzero((pixels < 0) | (pixels > 255))[0])
                token = fields[i_pixels].strip(b'" ').split()[column]  # the text, not a wrapped number
                raise DataError(
                    f"{path} line {n + 2}: pixel values must be 0..255, "
                    f"got {_shown(token, quote=False)} at position {column + 1}"
                )
            values[n] = pixels
            usages[n] = (
                fields[i_usage].strip().strip(b'"').decode("utf-8", "replace") if i_usage is not None else "Training"
            )
    for n in np.flatnonzero(~np.isin(usages, SPLITS))[:1]:
        raise DataError(
            f"{path} line {n + 2}: Usage must be one of {', '.join(SPLITS)}, got {_shown(usages[n].encode())}"
        )
    images = values.reshape(-1, IMAGE_SIZE, IMAGE_SIZE)
    splits = {name: Split(images[usages == name], labels[usages == name]) for name in SPLITS if (usages == name).any()}
    return Dataset(str(path), splits)


def _split_fields(line: bytes, count: int) -> list[bytes] | None:
    """Split a row on commas; only FER's pixel field is large, so this copies little."""
    if line.endswith(b"\r"):
        line = line[:-1]
    if line.count(b",") != count - 1:
        return None
    return line.split(b",")


def _shown(text: bytes, quote: bool = True, limit: int = 24) -> str:
    """A value from the file as it is written (cut, with its length, if it is long), its
    control characters escaped."""
    value = shown(text[:limit])
    value = f"'{value}'" if quote else value
    return value + (f"… ({len(text)} characters)" if len(text) > limit else "")


def _parse_row(path: Path, lineno: int, field: bytes) -> np.ndarray:
    try:  # int64: 4294967296 stays itself (int32 wrapped it to 0); longer numbers saturate
        return np.fromstring(field.strip(b'" '), dtype=np.int64, sep=" ")
    except (DeprecationWarning, ValueError):
        for position, token in enumerate(field.strip(b'" ').split()):
            if not token.lstrip(b"-").isdigit():
                raise DataError(
                    f"{path} line {lineno}: pixel {position + 1} is not a number: {_shown(token, limit=20)}"
                ) from None
        raise DataError(f"{path} line {lineno}: pixel values could not be parsed") from None


READ_CHUNK = 16 << 20  # bytes a read takes at once


def _read_bytes(path: Path) -> bytes:
    """The file's bytes (unpacked, for .gz), or a one-line error past MAX_CSV_BYTES."""
    gz = path.suffix == ".gz"
    raw = b""
    try:
        size = _unpacked_size(path) if gz else path.stat().st_size
        if size <= MAX_CSV_BYTES:
            with (gzip.open if gz else open)(path, "rb") as handle:
                raw = _read_at_most(handle, MAX_CSV_BYTES + 1)
    except (OSError, EOFError, gzip.BadGzipFile, zlib.error) as error:  # zlib: a corrupt deflate stream
        raise DataError(f"{path}: cannot read ({getattr(error, 'strerror', None) or error})") from None
    if max(size, len(raw)) > MAX_CSV_BYTES:  # len(raw): a file that grew since it was measured
        unpacked = "unpacks to" if path.suffix == ".gz" else "holds"
        raise DataError(
            f"{path}: {unpacked} more than {MAX_CSV_BYTES >> 20} MB, the most a CSV may hold (FER2013 is about 300 MB)"
        )
    return raw


def _unpacked_size(path: Path) -> int:
    """What a gzip file unpacks to, counted without keeping it and no further than just past
    the bound: a small file that unpacks to gigabytes is refused holding one chunk, not the
    bound's worth (the count costs FER2013 about a second, once: the parse is cached)."""
    total = 0
    with gzip.open(path, "rb") as handle:
        while total <= MAX_CSV_BYTES:
            chunk = handle.read(READ_CHUNK)
            if not chunk:
                break
            total += len(chunk)
    return total


def _read_at_most(handle: io.BufferedIOBase, limit: int) -> bytes:
    """Up to `limit` bytes, in chunks: one read(limit) would reserve the whole bound up front,
    so a small file under a memory limit would fail where its bytes fit."""
    raw = bytearray()
    while len(raw) < limit:
        chunk = handle.read(min(READ_CHUNK, limit - len(raw)))
        if not chunk:
            break
        raw += chunk
    return bytes(raw)


# ---------------------------------------------------------------- cache


def _cache_file(key: str) -> Path:
    digest = hashlib.sha256(f"{CACHE_VERSION}|{key}".encode()).hexdigest()[:24]
    return locations.cache_dir() / f"{digest}.npz"


def _write_cache(path: Path, dataset: Dataset) -> None:
    arrays = {}
    for name, split in dataset.splits.items():
        arrays[f"images_{name}"] = split.images
        arrays[f"labels_{name}"] = split.labels
    # packed in memory first (the size of the arrays, briefly): numpy's zip writer, failing
    # on a full disk, leaves a ZipFile that complains again when collected
    packed = io.BytesIO()
    np.savez(packed, **arrays)
    try:
        with fileio.atomic_path(path, suffix=".npz") as tmp:
            tmp.write_bytes(packed.getbuffer())
    except OSError as error:  # no cache is slower, not wrong
        if error.errno in (errno.ENOSPC, errno.EDQUOT):
            print(f"fer-tui: {shown(path.parent)}: cache not written: disk full", file=sys.stderr)


def _read_cache(path: Path, source: str) -> Dataset:
    with np.load(path) as npz:
        splits = {
            name: Split(npz[f"images_{name}"], npz[f"labels_{name}"])
            for name in SPLITS
            if f"images_{name}" in npz.files
        }
    return Dataset(source, splits)


# ---------------------------------------------------------------- image folders


def class_index(name: str) -> int | None:
    """A class folder name (`happy`, `Happy`, `3`) as its label, or None."""
    lowered = name.strip().lower()
    if lowered in CLASS_NAMES:
        return CLASS_NAMES.index(lowered)
    if lowered.isdigit() and int(lowered) < NUM_CLASSES:
        return int(lowered)
    return None


def read_face(path: Path) -> np.ndarray:
    """One image file as a 48×48 uint8 grayscale array (resized if it is another size)."""
    import cv2

    image = read_image(path)  # judged from its bytes first: too large, cut short
    if image.shape != (IMAGE_SIZE, IMAGE_SIZE):
        image = cv2.resize(image, (IMAGE_SIZE, IMAGE_SIZE), interpolation=cv2.INTER_AREA)
    return image


def scan_class_folder(root: Path) -> tuple[list[tuple[Path, int]], list[str]]:
    """(image file, label) pairs under ROOT/<class>/, and the entries left out with why."""
    found, skipped = [], []
    for class_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        label = class_index(class_dir.name)
        if label is None:
            skipped.append(f"{class_dir}: not a class name (expected one of {', '.join(CLASS_NAMES)} or 0..6)")
            continue
        images, others = image_files(class_dir)
        found += [(file, label) for file in images]
        skipped += others
    return found, skipped


def image_files(folder: Path) -> tuple[list[Path], list[str]]:
    """The image files directly in `folder`, and "path: not an image file" for the other files."""
    images, skipped = [], []
    for file in sorted(folder.iterdir()):
        if file.is_file() and file.suffix.lower() in IMAGE_SUFFIXES:
            images.append(file)
        elif file.is_file() and not file.name.startswith("."):
            skipped.append(f"{file}: not an image file")
    return images, skipped


def sample_files(folder: Path) -> tuple[list[tuple[Path, int | None]], list[str]]:
    """A sample folder's images and their true class: ROOT/<class>/* when it has class
    sub-folders, else the images directly in ROOT (true class None); and what was left out."""
    if not folder.is_dir():
        raise DataError(f"{folder}: no such sample folder")
    pairs, skipped = scan_class_folder(folder)
    if pairs:
        return list(pairs), skipped
    images, skipped = image_files(folder)
    return [(file, None) for file in images], skipped


def load_folder(root: Path, skip_bad: bool = False) -> Dataset:
    """ROOT/<split>/<class>/*.png, or ROOT/<class>/*.png (then all is one split, PublicTest)."""
    split_dirs = {
        SPLIT_ALIASES[p.name.lower()]: p
        for p in sorted(root.iterdir())
        if p.is_dir() and p.name.lower() in SPLIT_ALIASES
    }
    if not split_dirs:
        split_dirs = {"PublicTest": root}
    dataset = Dataset(str(root))
    for split_name, directory in split_dirs.items():
        files, skipped = scan_class_folder(directory)
        dataset.skipped.extend(skipped)
        images, labels = [], []
        for file, label in files:
            try:
                images.append(read_face(file))
            except DataError as error:
                if not skip_bad:
                    raise
                dataset.skipped.append(str(error))
                continue
            labels.append(label)
        if images:
            dataset.splits[split_name] = Split(np.stack(images), np.array(labels, dtype=np.int64))
    if not dataset.splits:
        raise DataError(f"{root}: no images found (expected ROOT/<split>/<class>/*.png or ROOT/<class>/*.png)")
    return dataset


# ---------------------------------------------------------------- synthetic demo set

DEMO_SIZES = {"Training": 300, "PublicTest": 60, "PrivateTest": 60}  # faces per class
_demo_cache: Dataset | None = None


def demo_dataset() -> Dataset:
    """The deterministic synthetic face set (same pixels on every machine)."""
    global _demo_cache
    if _demo_cache is None:
        from fer_core.data.synthetic import draw_faces

        splits = {}
        for offset, (name, per_class) in enumerate(DEMO_SIZES.items()):
            images, labels = draw_faces(per_class, seed=1000 + offset)
            splits[name] = Split(images, labels)
        _demo_cache = Dataset(DEMO_DATA, splits)
    return _demo_cache


def describe(dataset: Dataset) -> list[str]:
    """Rows per split and per class, as `fer-tui data` prints them."""
    width = max(len(n) for n in CLASS_NAMES)
    lines = [f"{dataset.source}"]
    header = "split".ljust(12) + "rows".rjust(7) + "".join(n[:width].rjust(width + 1) for n in CLASS_NAMES)
    lines.append(header)
    for name, split in dataset.splits.items():
        counts = split.class_counts()
        lines.append(name.ljust(12) + str(len(split)).rjust(7) + "".join(str(c).rjust(width + 1) for c in counts))
    total = sum(len(s) for s in dataset.splits.values())
    lines.append("total".ljust(12) + str(total).rjust(7))
    lines.extend(f"skipped {item}" for item in dataset.skipped)
    return lines
