"""The sample folder: a few faces per class that a model gets right, for one-key test inference.

    make_samples(ckpt, "demo" | csv | folder, num_samples=3, output=DIR)
        -> DIR/<class>/correct_sample_<n>.png (most confident correct faces first)
           DIR/overview.png (every sample with its probability bars)
           DIR/samples.json (where the faces came from, and the set's manifest:
                             {"data": ..., "split": ..., "files": [every file the set wrote]})
    ensure_demo_samples(ckpt=None)
        -> locations.samples_dir() filled from the synthetic demo set, once; with no ckpt the
           demo faces are taken by their true class, so it works before any training.

Only class sub-folders hold samples: files at the top (overview.png) are not scanned as faces.

A folder is shared with its user: without --force nothing already there is replaced; with
--force only the files the earlier set's manifest names are replaced or removed, never a file
fer-tui did not write (a user's overview.png, happy/correct_sample_mine.png).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fer_core import CLASS_NAMES, NUM_CLASSES, fileio, locations
from fer_core.errors import DataError
from fer_core.text import counted

OVERVIEW = "overview.png"
SOURCE = "samples.json"  # where a folder's faces came from: the demo set's are synthetic
# the only names a set writes besides SOURCE; a manifest entry of another form (`../x`) is ignored
_OURS = re.compile(rf"^(?:{OVERVIEW}|(?:{'|'.join(CLASS_NAMES)})/correct_sample_[1-9][0-9]*\.png)$")


@dataclass
class SampleSet:
    folder: Path
    written: list[Path] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # classes with fewer correct faces than asked
    split: str = ""


def synthetic_faces(samples: Path | str | None) -> bool:
    """True when the faces are the synthetic demo set's: 'demo' itself, or a sample folder whose
    samples.json says it was made from it (the shipped one is)."""
    if samples is None or str(samples) == "demo":
        return True
    try:
        return json.loads((Path(samples) / SOURCE).read_text()).get("data") == "demo"
    except (OSError, ValueError, AttributeError):
        return False


def judging_note(samples: Path | str | None, model_data: str | None) -> str:
    """What the behaviour verdict must add when synthetic faces judge a model trained on real
    ones: the uniform and one-class checks still hold, the accuracy says little."""
    if model_data is None or model_data == "demo" or not synthetic_faces(samples):
        return ""
    return " (synthetic demo faces: accuracy says little of a model trained on real ones)"


def sample_file(folder: Path, label: int, n: int) -> Path:
    return folder / CLASS_NAMES[label] / f"correct_sample_{n}.png"


def pick(probs: np.ndarray | None, labels: np.ndarray, per_class: int) -> dict[int, list[int]]:
    """Indices of the most confident correctly classified faces of each class (or, without
    probabilities, the first faces of each class)."""
    chosen = {}
    for label in range(NUM_CLASSES):
        index = np.flatnonzero(labels == label)
        if probs is not None:
            index = index[probs[index].argmax(1) == label]
            index = index[np.argsort(-probs[index, label], kind="stable")]
        chosen[label] = index[:per_class].tolist()
    return chosen


def make_samples(
    ckpt: Path | str | None,
    data: str,
    num_samples: int,
    output: Path | str,
    split: str | None = None,
    force: bool = False,
    device_target: str = "CPU",
    arch: str | None = None,
) -> SampleSet:
    import cv2

    from fer_core.data.dataset import load_dataset

    if num_samples < 1:
        raise DataError(f"--num_samples must be >= 1, got {num_samples}")
    output = Path(output)
    if output.exists() and not output.is_dir():
        raise DataError(f"{output}: exists and is not a folder")
    earlier = earlier_set(output)
    refuse_clashes(output, num_samples, earlier, force, with_overview=ckpt is not None)
    dataset = load_dataset(data)
    split = split or next((s for s in ("PublicTest", "PrivateTest", "Training") if s in dataset.splits), "")
    faces = dataset.split(split)
    probs = None
    if ckpt is not None:
        from fer_core.infer.predictor import Predictor

        probs = Predictor(ckpt, arch=arch, device_target=device_target).predict(faces.images)
    chosen = pick(probs, faces.labels, num_samples)
    planned = [sample_file(output, label, n) for label, indices in chosen.items() for n in range(1, len(indices) + 1)]
    if probs is not None and planned:
        planned.append(output / OVERVIEW)
    if not planned:
        raise DataError(f"{data} {split}: the model classified no face correctly; no samples written")
    # the manifest names every file of ours before any is written: a set cut short by a kill
    # is still removable with --force
    _write_source(output, data, split, sorted(set(earlier or ()) | set(planned)))
    result = SampleSet(output, split=split)
    tiles = []
    for label, indices in chosen.items():
        if len(indices) < num_samples:
            result.missing.append(f"{CLASS_NAMES[label]}: {len(indices)} of {num_samples}")
        for n, i in enumerate(indices, start=1):
            path = sample_file(output, label, n)
            with fileio.atomic_path(path, suffix=".png") as tmp:
                cv2.imwrite(str(tmp), faces.images[i])
            result.written.append(path)
            if probs is not None:
                tiles.append(_tile(faces.images[i], probs[i], label))
    if tiles:
        with fileio.atomic_path(output / OVERVIEW, suffix=".png") as tmp:
            cv2.imwrite(str(tmp), _grid(tiles, columns=num_samples))
        result.written.append(output / OVERVIEW)
    for stale in sorted(set(earlier or ()) - set(result.written)):  # --force: the earlier set's rest
        stale.unlink(missing_ok=True)
    _write_source(output, data, split, result.written)
    return result


def earlier_set(folder: Path) -> list[Path] | None:
    """The files an earlier set wrote in `folder`, from its samples.json; None when the folder
    holds no samples.json of fer-tui's. A manifest from before manifests existed (data and split
    only) is taken to cover the names a set writes: <class>/correct_sample_<n>.png, overview.png."""
    try:  # capped, and a FIFO in its place is refused, not waited on
        source = fileio.read_json(folder / SOURCE)
    except (OSError, ValueError):
        return None
    if not isinstance(source, dict) or not {"data", "split"} <= source.keys():
        return None  # a samples.json of someone else's
    if isinstance(source.get("files"), list):
        names = [name for name in source["files"] if isinstance(name, str)]
    else:
        names = [str(p.relative_to(folder)) for p in folder.glob("*/correct_sample_*.png")] + [OVERVIEW]
    return [folder / name for name in names if _OURS.match(name)]


def montages(folder: Path) -> set[Path]:
    """The pictures of many faces a sample set keeps at its top (overview.png), from its
    samples.json: they are not one face to predict."""
    return {path for path in earlier_set(folder) or () if path.parent == folder}


def refuse_clashes(
    folder: Path, num_samples: int, earlier: list[Path] | None, force: bool, with_overview: bool = True
) -> None:
    """Before any work: without --force, any sample, overview or samples.json already there is
    refused (a folder must not hold this set and the tail of an earlier, larger one); with it,
    any file this set could write that the earlier set's manifest does not name. A class folder
    that is a link (or not a folder) is refused either way: the faces would land where it points."""
    for name in CLASS_NAMES:
        fileio.refuse_foreign_folder(folder / name)
    if not force:
        there = [folder / name for name in (SOURCE, OVERVIEW) if (folder / name).exists()]
        there += sorted(p for name in CLASS_NAMES for p in (folder / name).glob("correct_sample_*.png"))
        if there:
            raise DataError(f"{there[0]}: already exists; choose another --output or add --force")
        return
    ours = set(earlier or ())
    could_write = [folder / OVERVIEW] * with_overview + [
        sample_file(folder, c, n) for c in range(NUM_CLASSES) for n in range(1, num_samples + 1)
    ]
    if earlier is None and (folder / SOURCE).exists():
        could_write.insert(0, folder / SOURCE)
    for path in could_write:
        if (path.exists() or path.is_symlink()) and path not in ours:
            raise DataError(
                f"{path}: not written by an earlier `fer-tui samples` (not in {SOURCE}), so --force leaves it; "
                "move it away or choose another --output"
            )


def _write_source(folder: Path, data: str, split: str, files: list[Path]) -> None:
    names = [path.relative_to(folder).as_posix() for path in files]
    fileio.write_text(folder / SOURCE, json.dumps({"data": str(data), "split": split, "files": names}) + "\n")


def summary_lines(result: SampleSet, data: str) -> list[str]:
    """What `fer-tui samples` says it did."""
    faces = [p for p in result.written if p.name.startswith("correct_sample_")]
    lines = [f"{counted(len(faces), 'face')} from {data} {result.split} written to {result.folder}"]
    lines += [f"  fewer correct faces than asked: {line}" for line in result.missing]
    if any(p.name == OVERVIEW for p in result.written):
        lines.append(f"overview with probability bars: {result.folder / OVERVIEW}")
    return lines


def _tile(face: np.ndarray, probs: np.ndarray, label: int) -> np.ndarray:
    from fer_core.infer.visualize import annotate_face

    return annotate_face(face, probs, true=label)


def _grid(tiles: list[np.ndarray], columns: int) -> np.ndarray:
    height = max(t.shape[0] for t in tiles)
    width = max(t.shape[1] for t in tiles)
    rows = -(-len(tiles) // columns)
    canvas = np.zeros((rows * (height + 4), columns * (width + 4), 3), np.uint8)
    for k, tile in enumerate(tiles):
        r, c = divmod(k, columns)
        canvas[
            r * (height + 4) : r * (height + 4) + tile.shape[0], c * (width + 4) : c * (width + 4) + tile.shape[1]
        ] = tile
    return canvas


def has_samples(folder: Path) -> bool:
    return any((folder / name).is_dir() and any((folder / name).glob("*.png")) for name in CLASS_NAMES)


def ensure_demo_samples(ckpt: Path | str | None = None, num_samples: int = 3) -> Path:
    """The default sample folder, made from the demo set if it holds no samples yet."""
    folder = locations.samples_dir()
    if not has_samples(folder):
        make_samples(ckpt, "demo", num_samples, folder)
    return folder
