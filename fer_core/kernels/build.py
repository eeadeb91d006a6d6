"""Compile the kernels (3×3 convolutions, BatchNorm+ReLU) into one library on first use, in
the cache directory.

The library is keyed by the sources' hash, the compiler's version and oneDNN's version, so a
changed source, compiler or oneDNN builds anew and an old build is never loaded by mistake.
It is written owner-only with the hash of its bytes beside it and verified before every use
(`fer_core.cachefiles`): a file planted at its name or cut short is built anew, never handed
to the loader. A cache that cannot be written is a reason, and MindSpore's operators run.
Nothing compiled lives in the repository. No mindspore import here.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from importlib import metadata
from importlib.resources import files
from pathlib import Path

from fer_core import cachefiles, locations
from fer_core.errors import CacheError

SOURCES = ("conv3x3.cc", "bn_relu.cc")
# -fopenmp: bn_relu.cc splits channels over threads (libgomp, the runtime oneDNN's wheel uses).
# -O3 vectorises bn_relu.cc's loops (-O2 does not: 2.3 ms against 0.74 ms for a 128×32×12×12
# forward here), and AVX2+FMA where the CPU has them another 3.5× (0.21 ms; -march=native's
# AVX-512 code measured slower, 0.78 ms). The flags are part of the build's key.
FLAGS = ["-O3", "-std=c++17", "-shared", "-fPIC", "-Wall", "-fopenmp"]
VECTOR_FLAGS = ["-mavx2", "-mfma"]


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> list[str]:
    """VECTOR_FLAGS when this CPU has AVX2 and FMA (the build runs where the kernels will)."""
    try:
        flags = next(
            (line.split(":", 1)[1].split() for line in cpuinfo.read_text().splitlines() if line.startswith("flags")), []
        )
    except OSError:
        return []
    return VECTOR_FLAGS if {"avx2", "fma"} <= set(flags) else []


SYSTEM_PREFIXES = [Path("/usr"), Path("/usr/local")]


@dataclass(frozen=True)
class OneDNN:
    """An installed oneDNN 3: where its headers and library are, and its version."""

    include: Path
    lib: Path
    version: str


def _wheel_prefixes() -> list[Path]:
    """Where oneDNN wheels put their headers: the prefix of the environment they were installed
    in, which need not be this interpreter's (a venv that borrows another's site-packages)."""
    found = []
    for name in ("onednn-devel-cpu-gomp", "onednn-devel"):
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        for file in dist.files or ():
            if str(file).endswith("include/oneapi/dnnl/dnnl_version.h"):
                found.append(Path(str(dist.locate_file(file))).resolve().parents[3])
    return found


def find_onednn() -> OneDNN | str:
    """oneDNN ≥ 3 from FER_TUI_ONEDNN (a prefix), an installed oneDNN wheel or the system;
    a reason string when there is none."""
    prefixes = [Path(p) for p in (os.environ.get("FER_TUI_ONEDNN"),) if p]
    prefixes += _wheel_prefixes() + [Path(sys.prefix), *SYSTEM_PREFIXES]
    for prefix in prefixes:
        header = prefix / "include" / "oneapi" / "dnnl" / "dnnl_version.h"
        if not header.is_file():
            continue
        text = header.read_text()
        found = [re.search(rf"#define DNNL_VERSION_{name}\s+(\d+)", text) for name in ("MAJOR", "MINOR", "PATCH")]
        parts = [match.group(1) for match in found if match is not None]
        if len(parts) < 3:
            continue
        version = ".".join(parts)
        # Debian's libdnnl-dev is 2.x; MindSpore's own bundled copy is 2.2: neither has the v3 API
        if int(parts[0]) < 3:
            continue
        for lib in (prefix / "lib", prefix / "lib64", prefix / "lib" / "x86_64-linux-gnu"):
            if (lib / "libdnnl.so").exists():
                return OneDNN(prefix / "include", lib, version)
    return "no oneDNN 3 found (pip install onednn-devel-cpu-gomp)"


def compiler_version(cxx: str) -> str | None:
    """The compiler's first --version line, or None when it cannot run."""
    try:
        out = subprocess.run([cxx, "--version"], capture_output=True, text=True, timeout=30, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.splitlines()[0].strip() if out.stdout else None


def library() -> Path | str:
    """The compiled kernel library (built now if needed), or why it cannot be had."""
    onednn = find_onednn()
    if isinstance(onednn, str):
        return onednn
    cxx = os.environ.get("CXX", "g++")
    version = compiler_version(cxx)
    if version is None:
        return f"no C++ compiler ({cxx} did not run)"
    sources = {name: files("fer_core.kernels").joinpath(name).read_bytes() for name in SOURCES}
    flags = FLAGS + cpu_flags()
    key = hashlib.sha256(
        b"\0".join(
            [
                *sources.values(),
                version.encode(),
                onednn.version.encode(),
                str(onednn.lib).encode(),
                " ".join(flags).encode(),
            ]
        )
    ).hexdigest()[:16]
    try:
        folder = cachefiles.folder("kernels")
        target = folder / f"fer-kernels-{key}.so"
        if cachefiles.is_verified(target):
            return target
        return _build(cxx, flags, onednn, sources, target)
    except CacheError as error:
        return str(error)
    except OSError as error:  # the cache's folder refused the build's own files
        return f"cache folder {locations.cache_dir() / 'kernels'}: {error.strerror or error}"


def _build(cxx: str, flags: list[str], onednn: OneDNN, sources: dict[str, bytes], target: Path) -> Path | str:
    """Compile into a private folder beside `target`, then store it there (verified from now on)."""
    with tempfile.TemporaryDirectory(dir=target.parent) as work:
        paths = []
        for name, text in sources.items():
            paths.append(Path(work) / name)
            paths[-1].write_bytes(text)
        built = Path(work) / target.name
        command = [
            cxx,
            *flags,
            f"-I{onednn.include}",
            *map(str, paths),
            "-o",
            str(built),
            f"-L{onednn.lib}",
            "-ldnnl",
            f"-Wl,-rpath,{onednn.lib}",
            "-Wl,--no-undefined",
        ]
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=600)
        except (OSError, subprocess.SubprocessError) as error:
            return f"{cxx} failed: {error}"
        if result.returncode != 0:
            lines = [line for line in result.stderr.splitlines() if "error" in line] or result.stderr.splitlines()
            return f"{cxx} failed: {lines[0] if lines else result.returncode}"
        # another process may have built the same key meanwhile: each rename is atomic, and a
        # record that ends up beside the other's bytes is a miss next time, never a wrong load
        cachefiles.store(built, target)
    return target


def clear() -> None:
    """Remove every cached build (tests and `make clean`-like use)."""
    shutil.rmtree(locations.cache_dir() / "kernels", ignore_errors=True)
