"""One image file, judged from its bytes before anything decodes it, then decoded.

A 20000×20000 PNG is 425 KB on disk and 400 M pixels (11.9 GB and two minutes to decode):
images over MAX_IMAGE_PIXELS are refused from the few bytes of their header. PNG, JPEG, BMP,
GIF, WebP, TIFF and PGM/PPM are read here; for anything else OpenCV's own limit (set to the
same figure before cv2 is first used) still refuses the decode. A JPEG or PNG cut short (a
copy or download that stopped) is refused too: libjpeg would decode the part it has, grey
below, and say so only on stderr.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from fer_core.errors import DataError

if TYPE_CHECKING:
    import numpy as np

MAX_IMAGE_PIXELS = 64_000_000  # 8000×8000; a 48-megapixel photo still loads
os.environ.setdefault("OPENCV_IO_MAX_IMAGE_PIXELS", str(MAX_IMAGE_PIXELS))


def read_image(path: Path | str, color: bool = False) -> np.ndarray:
    """The image as a uint8 array (grayscale, or BGR when `color`), or a one-line DataError."""
    import cv2
    import numpy as np

    data = checked_bytes(path)
    try:
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR if color else cv2.IMREAD_GRAYSCALE)
    except cv2.error:  # an empty buffer is an assertion in OpenCV, not a None
        image = None
    if image is None:
        raise DataError(f"{path}: not a readable image")
    return image


def checked_bytes(path: Path | str) -> bytes:
    """The file's bytes once they pass (an image file, not too large, whole), else DataError."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such image file")
    check_image_size(path)  # from the header: a 20000×20000 PNG is never read whole
    data = path.read_bytes()
    check_whole(path, data)
    return data


def check_whole(path: Path | str, data: bytes) -> None:
    """DataError if a JPEG's or PNG's bytes end before its image does."""
    if data.startswith(b"\xff\xd8"):
        # entropy-coded data never holds FF D9 (a data FF is stuffed as FF 00): the end-of-image
        # marker must follow the last start-of-scan, whatever the thumbnails or trailing bytes
        scan = data.rfind(b"\xff\xda")
        if scan != -1 and data.find(b"\xff\xd9", scan) == -1:
            raise DataError(f"{path}: a JPEG cut short (its image data has no end); the file is incomplete")
    elif data.startswith(b"\x89PNG\r\n\x1a\n") and data.rfind(b"IEND") == -1:
        raise DataError(f"{path}: a PNG cut short (no IEND chunk); the file is incomplete")


def check_image_size(path: Path | str) -> None:
    """DataError if the image's header says it has more than MAX_IMAGE_PIXELS pixels."""
    size = image_size(path)
    if size and size[0] * size[1] > MAX_IMAGE_PIXELS:
        width, height = size
        raise DataError(
            f"{path}: {width}×{height} pixels ({width * height / 1e6:.0f} megapixels) is over "
            f"the {MAX_IMAGE_PIXELS / 1e6:.0f}-megapixel limit; scale it down first"
        )


IMAGE_MAGIC = {
    b"\x89PNG\r\n\x1a\n": "PNG",
    b"\xff\xd8\xff": "JPEG",
    b"GIF8": "GIF",
    b"BM": "BMP",
    b"II*\0": "TIFF",
    b"MM\0*": "TIFF",
}


def image_kind(path: Path | str) -> str | None:
    """ "PNG", "JPEG", … when the file starts as an image does (whatever its name), else None."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(16)
    except OSError:
        return None
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "WebP"
    return next((kind for magic, kind in IMAGE_MAGIC.items() if head.startswith(magic)), None)


def image_size(path: Path | str) -> tuple[int, int] | None:
    """(width, height) from the header, or None if the format is not one read here."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(64)
            if head.startswith(b"\xff\xd8"):
                return _jpeg(handle)
            if head.startswith((b"II*\0", b"MM\0*")):
                return _tiff(handle, head)
    except (OSError, struct.error, ValueError):
        return None
    return _from_head(head)


def _from_head(head: bytes) -> tuple[int, int] | None:
    try:
        if head.startswith(b"\x89PNG\r\n\x1a\n"):
            return struct.unpack(">II", head[16:24])
        if head.startswith(b"GIF8"):
            return struct.unpack("<HH", head[6:10])
        if head.startswith(b"BM"):
            width, height = struct.unpack("<ii", head[18:26])
            return abs(width), abs(height)
        if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
            return _webp(head)
        if head[:1] == b"P" and head[1:2] in b"123456" and len(head) > 2:
            return _netpbm(head)
    except (struct.error, ValueError):
        return None
    return None


def _jpeg(handle: BinaryIO) -> tuple[int, int] | None:
    """Walk the segments to the frame header (EXIF and thumbnails may come first)."""
    handle.seek(2)
    while True:
        byte = handle.read(1)
        while byte == b"\xff":
            byte = handle.read(1)
        if not byte:
            return None
        marker = byte[0]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # no length
            continue
        length = struct.unpack(">H", handle.read(2))[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">xHH", handle.read(5))
            return width, height
        handle.seek(length - 2, 1)


def _tiff(handle: BinaryIO, head: bytes) -> tuple[int, int] | None:
    order = "<" if head[:2] == b"II" else ">"
    handle.seek(struct.unpack(order + "I", head[4:8])[0])
    count = struct.unpack(order + "H", handle.read(2))[0]
    found = {}
    for _ in range(min(count, 512)):
        tag, kind, _n, value = struct.unpack(order + "HHI4s", handle.read(12))
        if tag in (256, 257):
            found[tag] = struct.unpack(order + ("H" if kind == 3 else "I"), value[: 2 if kind == 3 else 4])[0]
    return (found[256], found[257]) if len(found) == 2 else None


def _webp(head: bytes) -> tuple[int, int] | None:
    chunk = head[12:16]
    if chunk == b"VP8 ":
        width, height = struct.unpack("<HH", head[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L":
        bits = int.from_bytes(head[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":
        return int.from_bytes(head[24:27], "little") + 1, int.from_bytes(head[27:30], "little") + 1
    return None


def _netpbm(head: bytes) -> tuple[int, int] | None:
    numbers: list[int] = []
    for line in head[2:].split(b"\n"):
        for token in line.split(b"#")[0].split():
            numbers.append(int(token))
            if len(numbers) == 2:
                return numbers[0], numbers[1]
    return None
