"""A checkpoint's own index, without MindSpore: record headers and exact sizes.

A MindSpore `.ckpt` is a run of protobuf `Checkpoint.Value` records, one per tensor:
`tag` (the parameter name), then a `TensorProto` with `dims`, `tensor_type` and
`tensor_content`. `read_index` walks those records reading only their headers (it seeks over
the tensor bytes), so it lists names, shapes and dtypes of a 45 MB file in milliseconds, names
a truncated file exactly, and needs no `import mindspore` (seconds). `record_bytes` is the
exact size MindSpore writes for a tensor, so a file's expected size is exact too.
"""

from __future__ import annotations

import math
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

# bytes per element of MindSpore's tensor_type names ("str" is UTF-32: 4 bytes per character)
DTYPE_BYTES = {
    "Float32": 4,
    "Float16": 2,
    "BFloat16": 2,
    "Float64": 8,
    "Int8": 1,
    "UInt8": 1,
    "Int16": 2,
    "UInt16": 2,
    "Int32": 4,
    "UInt32": 4,
    "Int64": 8,
    "UInt64": 8,
    "Bool": 1,
    "str": 4,
}
# Name prefixes of optimizer state: ours (AdamWeightDecay) and the classic scripts' (nn.Adam, Momentum)
OPTIMIZER_PREFIXES = ("adam_m.", "adam_v.", "moment1.", "moment2.", "moments.", "accum.")
OPTIMIZER_SCALARS = (
    "global_step",
    "beta1_power",
    "beta2_power",
    "learning_rate",
    "current_iterator_step",
    "last_overflow_iterator_step",
    "epoch_num",
    "step_num",
)
HEADER_READ = 512  # a record's tag + dims + type fit in far fewer bytes than this


@dataclass
class Entry:
    name: str
    shape: tuple[int, ...]
    dtype: str
    nbytes: int


@dataclass
class Index:
    """What a checkpoint file holds, from its record headers."""

    path: Path
    size: int
    entries: dict[str, Entry] = field(default_factory=dict)
    error: str | None = None  # "truncated: ..." or "not a MindSpore checkpoint: ..."

    @property
    def tensors(self) -> dict[str, Entry]:
        return {n: e for n, e in self.entries.items() if e.dtype != "str"}

    @property
    def strings(self) -> list[str]:
        return [n for n, e in self.entries.items() if e.dtype == "str"]

    @property
    def kind(self) -> str:
        return "train_state" if any(is_optimizer_name(n) for n in self.entries) else "weights"

    @property
    def weights(self) -> dict[str, Entry]:
        """The network's own tensors (no optimizer state, no appended values)."""
        return {n: e for n, e in self.tensors.items() if not is_optimizer_name(n)}

    @property
    def params(self) -> int:
        return sum(math.prod(e.shape) for e in self.weights.values())


def is_optimizer_name(name: str) -> bool:
    return name.startswith(OPTIMIZER_PREFIXES) or name in OPTIMIZER_SCALARS


# ---------------------------------------------------------------- the protobuf walk


class _Truncated(Exception):
    pass


class _Malformed(Exception):
    pass


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise _Truncated
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise _Malformed("bad varint")


def _field(buf: bytes, pos: int) -> tuple[int, int, int, int]:
    """(field number, wire type, value or length, position after the key/value header)."""
    key, pos = _varint(buf, pos)
    number, wire = key >> 3, key & 7
    if wire == 0:
        value, pos = _varint(buf, pos)
        return number, wire, value, pos
    if wire == 2:
        length, pos = _varint(buf, pos)
        return number, wire, length, pos
    raise _Malformed(f"unexpected wire type {wire}")


def _parse_value(head: bytes, record_length: int) -> tuple[str, tuple[int, ...], str, int]:
    """Tag, dims, tensor_type and content length of one Checkpoint.Value from its first bytes."""
    name, dims, dtype, content = None, [], None, None
    pos = 0
    while pos < min(len(head), record_length) and content is None:
        number, wire, value, pos = _field(head, pos)
        if number == 1 and wire == 2:  # tag
            if pos + value > len(head):
                raise _Malformed("name too long")
            name = head[pos : pos + value].decode("utf-8")
            pos += value
        elif number == 2 and wire == 2:  # TensorProto: walk its header only
            end = pos + value
            while pos < end:
                inner, inner_wire, inner_value, pos = _field(head, pos)
                if inner == 1 and inner_wire == 0:
                    dims.append(inner_value)
                elif inner == 1 and inner_wire == 2:  # packed dims
                    stop = pos + inner_value
                    while pos < stop:
                        dim, pos = _varint(head, pos)
                        dims.append(dim)
                elif inner == 2 and inner_wire == 2:
                    dtype = head[pos : pos + inner_value].decode("ascii", "replace")
                    pos += inner_value
                elif inner == 3 and inner_wire == 2:
                    content = inner_value
                    break
                else:
                    raise _Malformed(f"unexpected tensor field {inner}")
        else:
            raise _Malformed(f"unexpected record field {number}")
    if name is None or dtype not in DTYPE_BYTES or content is None:
        raise _Malformed("record without name, type or content")
    return name, tuple(dims), dtype, content


def read_index(path: Path | str) -> Index:
    """Names, shapes and dtypes of every tensor in a .ckpt; `error` says why it stops early."""
    path = Path(path)
    size = path.stat().st_size
    index = Index(path, size)
    if size == 0:
        index.error = "empty file (0 bytes)"
        return index
    with open(path, "rb") as handle:
        pos = 0
        while pos < size:
            handle.seek(pos)
            head = handle.read(HEADER_READ)
            try:
                number, wire, length, start = _field(head, 0)
                if number != 1 or wire != 2:
                    raise _Malformed(f"record {len(index.entries) + 1} has field {number}")
                name, shape, dtype, nbytes = _parse_value(head[start:], length)
            except _Truncated:
                index.error = f"truncated: the file ends inside record {len(index.entries) + 1} at byte {size}"
                return index
            except (_Malformed, UnicodeDecodeError) as error:
                index.error = (
                    f"not a MindSpore checkpoint ({error} at byte {pos})"
                    if not index.entries
                    else f"damaged: {error} at byte {pos}, after {len(index.entries)} records"
                )
                return index
            end = pos + start + length
            if end > size:
                index.error = (
                    f"truncated: '{name}' needs {end - size} more bytes (file {size} bytes, record ends at {end})"
                )
                return index
            if name in index.entries:  # MindSpore slices tensors over 512 MB into several records
                index.entries[name].nbytes += nbytes
            else:
                index.entries[name] = Entry(name, shape, dtype, nbytes)
            pos = end
    index.error = content_problem(index.entries.values())
    return index


def needed_bytes(entry: Entry) -> int | None:
    """Bytes a tensor's dims and dtype call for (None for strings, whose length is free).
    MindSpore writes a scalar with dims [0] and reads dims [0] back as shape ()."""
    if entry.dtype == "str":
        return None
    count = 1 if entry.shape in ((), (0,)) else math.prod(entry.shape)
    return count * DTYPE_BYTES[entry.dtype]


def content_problem(entries: Iterable[Entry]) -> str | None:
    """The first tensor whose bytes do not fill its shape: MindSpore's loader would read past
    them (SIGSEGV) or make garbage of them, so no such file may reach it."""
    for entry in entries:
        need = needed_bytes(entry)
        if need is not None and entry.nbytes != need:
            shape = "x".join(map(str, entry.shape)) or "scalar"
            return f"{entry.name} has {entry.nbytes} bytes, shape {shape} {entry.dtype} needs {need}"
    return None


# ---------------------------------------------------------------- exact sizes


def _varint_len(value: int) -> int:
    return max(1, (value.bit_length() + 6) // 7)


def _len_field(payload: int) -> int:
    return 1 + _varint_len(payload) + payload


def record_bytes(name: str, shape: tuple[int, ...], dtype: str = "Float32", count: int | None = None) -> int:
    """Exact bytes MindSpore writes for one tensor (one record; tensors < 512 MB)."""
    count = math.prod(shape) if count is None else count
    dims = sum(1 + _varint_len(d) for d in (shape or (0,)))
    tensor = dims + _len_field(len(dtype)) + _len_field(count * DTYPE_BYTES[dtype])
    value = _len_field(len(name.encode())) + _len_field(tensor)
    return _len_field(value)


def string_bytes(name: str, text: str) -> int:
    """Exact bytes of an `append_dict` string value (stored as UTF-32)."""
    return record_bytes(name, (0,), "str", count=len(text))


def file_bytes(entries: dict[str, tuple[int, ...]]) -> int:
    """Exact size of a checkpoint of float32 tensors {name: shape}."""
    return sum(record_bytes(name, tuple(shape)) for name, shape in entries.items())


def find_checkpoints(root: Path | str) -> list[Path]:
    """Every *.ckpt under root (or root itself if it is a file), skipping hidden temp files.

    Newest run first, as the Runs list: the folders by the time a checkpoint in them was
    last written (a run training now on top; ties by name, newest run id first), each
    folder's files by name (best_model, the periodic ones, final_model, last_state)."""
    root = Path(root)
    if root.is_file():
        return [root]
    if not root.is_dir():
        return []
    written: dict[Path, int] = {}
    for path in root.rglob("*.ckpt"):
        if path.name.startswith("."):
            continue
        try:
            info = path.stat()
        except OSError:  # gone meanwhile (a periodic checkpoint past keep-N), or a dangling link
            continue
        if stat.S_ISREG(info.st_mode):
            written[path] = info.st_mtime_ns
    folder_written: dict[Path, int] = {}
    for path, mtime in written.items():
        folder_written[path.parent] = max(mtime, folder_written.get(path.parent, mtime))
    by_name = sorted(written, key=lambda p: (str(p.parent), p.name))
    # stable: within a folder the files keep their order by name
    return sorted(by_name, key=lambda p: (folder_written[p.parent], str(p.parent)), reverse=True)
