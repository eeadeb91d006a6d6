"""Listing checkpoints without MindSpore: sidecars, file sizes and the checkpoint's own index.

A MindSpore `.ckpt` is a run of protobuf `Checkpoint.Value` records, one per tensor:
`tag` (the parameter name), then a `TensorProto` with `dims`, `tensor_type` and
`tensor_content`. `read_index` walks those records reading only their headers (it seeks over
the tensor bytes), so it lists names, shapes and dtypes of a 45 MB file in milliseconds, names
a truncated file exactly, and needs no `import mindspore` (seconds). `scan` is what the TUI's
checkpoints table shows; the heavy checks live in `fer_core.checkpoints`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from fer_core import sidecar

# bytes per element of MindSpore's tensor_type names ("str" is UTF-32: 4 bytes per character)
DTYPE_BYTES = {"Float32": 4, "Float16": 2, "BFloat16": 2, "Float64": 8, "Int8": 1, "UInt8": 1,
               "Int16": 2, "UInt16": 2, "Int32": 4, "UInt32": 4, "Int64": 8, "UInt64": 8, "Bool": 1,
               "str": 4}
# Name prefixes of optimizer state: ours (AdamWeightDecay) and the classic scripts' (nn.Adam, Momentum)
OPTIMIZER_PREFIXES = ("adam_m.", "adam_v.", "moment1.", "moment2.", "moments.", "accum.")
OPTIMIZER_SCALARS = ("global_step", "beta1_power", "beta2_power", "learning_rate", "current_iterator_step",
                     "last_overflow_iterator_step", "epoch_num", "step_num")
HEADER_READ = 512  # a record's tag + dims + type fit in far fewer bytes than this
SIZE_TOLERANCE = 0.02  # a file within 2 % of its expected size is the size it should be
BROKEN_SHARE = 0.4  # the classic "under 500 KB of ~1.3 MB is broken", as a share of expected


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
            name = head[pos:pos + value].decode("utf-8")
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
                    dtype = head[pos:pos + inner_value].decode("ascii", "replace")
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
                index.error = (f"not a MindSpore checkpoint ({error} at byte {pos})" if not index.entries else
                               f"damaged: {error} at byte {pos}, after {len(index.entries)} records")
                return index
            end = pos + start + length
            if end > size:
                index.error = (f"truncated: '{name}' needs {end - size} more bytes "
                               f"(file {size} bytes, record ends at {end})")
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


def content_problem(entries) -> str | None:
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


# ---------------------------------------------------------------- the cheap listing

@dataclass
class CheckpointInfo:
    """One row of the checkpoints table, from the sidecar and the file size only."""

    path: Path
    run: str
    file: str
    size: int
    expected: int | None
    kind: str | None
    arch: str | None
    epoch: int | None
    val_acc: float | None
    verdict: str  # "ok", "warning: …", "broken: …" or "unknown: …"
    sidecar: dict | None = None

    @property
    def level(self) -> str:
        return self.verdict.split(":")[0]


def size_verdict(size: int, expected: int | None) -> str:
    """The classic size rule, generalised: compare with the expected size of arch + kind."""
    if expected is None or expected <= 0:
        return "unknown: no expected size"
    if size == 0:
        return "broken: empty file (0 bytes)"
    ratio = size / expected
    if ratio < BROKEN_SHARE:
        return f"broken: {human_bytes(size)}, expected {human_bytes(expected)}"
    if abs(ratio - 1) > SIZE_TOLERANCE:
        return f"warning: {human_bytes(size)}, expected {human_bytes(expected)} ({ratio - 1:+.0%})"
    return "ok"


def human_bytes(size: int | None) -> str:
    if size is None:
        return "-"
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} B"


def describe(path: Path | str, root: Path | str | None = None) -> CheckpointInfo:
    """The cheap facts about one .ckpt: sidecar + size, else its own record headers."""
    path = Path(path)
    size = path.stat().st_size
    run = path.parent.name if root is None or path.parent != Path(root) else ""
    info = sidecar.read_sidecar(path)
    index = read_index(path)  # headers only (about a millisecond): a damaged file is broken, sidecar or not
    if info is not None:
        expected = info.get("expected_bytes")
        verdict = f"broken: {index.error}" if index.error else size_verdict(size, expected)
        if verdict == "ok" and info.get("bytes") not in (None, size):
            verdict = f"warning: {human_bytes(size)} on disk, sidecar says {human_bytes(info['bytes'])}"
        return CheckpointInfo(path, run, path.name, size, expected, info.get("kind"), info.get("arch"),
                              info.get("epoch"), info.get("val_acc"), verdict, info)
    # no sidecar (e.g. a classic script's file): the record headers still tell kind and truncation
    if index.error:
        verdict = f"broken: {index.error}"
    else:
        verdict = "unknown: no sidecar (run `fer-tui checkpoints` for the full check)"
    return CheckpointInfo(path, run, path.name, size, None, index.kind if index.entries else None, None,
                          None, None, verdict)


def find_checkpoints(root: Path | str) -> list[Path]:
    """Every *.ckpt under root (or root itself if it is a file), skipping hidden temp files."""
    root = Path(root)
    if root.is_file():
        return [root]
    if not root.is_dir():
        return []
    return sorted(p for p in root.rglob("*.ckpt") if not p.name.startswith(".") and p.is_file())


def scan(root: Path | str) -> list[CheckpointInfo]:
    """The checkpoints table for the TUI: one cheap CheckpointInfo per .ckpt under root."""
    rows = []
    for path in find_checkpoints(root):
        try:
            rows.append(describe(path, root))
        except FileNotFoundError:  # vanished between listing and stat (a trainer replacing it)
            continue
        except OSError as error:  # e.g. chmod 000: a row that says so, never a silent gap
            size = path.stat().st_size if path.exists() else 0
            run = path.parent.name if path.parent != Path(root) else ""
            rows.append(CheckpointInfo(path, run, path.name, size, None, None, None, None, None,
                                       f"broken: {unreadable(error)}"))
    return rows


def unreadable(error: OSError) -> str:
    return f"unreadable ({error.strerror or error})"
