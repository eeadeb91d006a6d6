"""Every rule that judges a checkpoint, every threshold, and the one set of levels they give.

A `Verdict` is a level and a text. The quick listing (record headers + sidecar, no MindSpore),
the deep check (structure, size, behaviour), folder inference, `fer-tui checkpoints`' exit
status and the dashboard's colours all take their levels from here; nothing parses a verdict
back out of its text. To change what counts as broken, change this module (and RULES).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from fer_core import CLASS_NAMES, NUM_CLASSES

if TYPE_CHECKING:
    import numpy as np

    from fer_core.ckpt.sidecar import Sidecar

Level = Literal["ok", "unknown", "warning", "broken"]
LEVELS: tuple[Level, ...] = ("ok", "unknown", "warning", "broken")  # better first, worst last

SIZE_TOLERANCE = 0.02  # a file within 2 % of its expected size is the size it should be
BROKEN_SHARE = 0.4  # the classic "under 500 KB of ~1.3 MB is broken", as a share of expected
UNIFORM_MARGIN = 0.05  # top probability within 5 points of 1/7 on average: the net says nothing
MIN_ARCH_MATCH = 0.8  # share of a file's weights that must match an architecture to call it that
EXIT_BROKEN = 1  # `fer-tui checkpoints` exits with this when any checkpoint is broken

# What each rule says; tests/unit/test_verdict.py exercises every one of them.
RULES = {
    "unreadable": "a file the system refuses to read is broken",
    "records": "a file whose record headers are truncated, damaged or not MindSpore's is broken",
    "architecture": f"weights that match no registered architecture ({MIN_ARCH_MATCH:.0%} of names "
    "and shapes) are broken",
    "structure": "a missing, misshapen or unexpected parameter is broken",
    "size": f"under {BROKEN_SHARE:.0%} of the expected size is broken, more than {SIZE_TOLERANCE:.0%} "
    "off a warning; no expected size is unknown",
    "sidecar": "no sidecar is unknown (quick listing); a damaged one, or one whose byte count "
    "differs from the file, a warning",
    "sidecar_vs_weights": "a sidecar naming another architecture than the tensors' names and shapes is "
    "broken (a load by its word fails); one expecting another size than those exact tensors make, a "
    "warning: the sidecar disagrees with the weights",
    "behaviour": f"NaN output is broken; a mean top probability within {UNIFORM_MARGIN} of 1/7, "
    "one class for every face, or an accuracy below chance (1/7) on labelled faces, a warning; "
    "faces that cannot be read leave it unknown",
    "load": "a file MindSpore cannot load, or that kills the checking process, is broken",
    "untrained": "a checkpoint saved before its first epoch ended (epoch 0) is a warning: its "
    "predictions are those of barely trained weights",
}


@dataclass(frozen=True)
class Verdict:
    """A level from LEVELS and what it is about (an ok verdict may say nothing)."""

    level: Level
    text: str = ""

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise ValueError(f"verdict level must be one of {', '.join(LEVELS)}, got {self.level!r}")

    def __str__(self) -> str:
        return f"{self.level}: {self.text}" if self.text else self.level

    @property
    def rank(self) -> int:
        return LEVELS.index(self.level)

    def to_dict(self) -> dict[str, str]:
        return {"level": self.level, "text": self.text}


OK = Verdict("ok")


@dataclass(frozen=True)
class Check:
    """One named check of the deep path (structure, size, behaviour, sidecar) and its verdict."""

    name: str
    verdict: Verdict


def worst(verdicts: Iterable[Verdict]) -> Verdict:
    """The first verdict of the worst level (OK for none)."""
    found = OK
    for verdict in verdicts:
        if verdict.rank > found.rank:
            found = verdict
    return found


def overall(checks: Iterable[Check]) -> Verdict:
    """A report's verdict: its worst check; all ok says just "ok" (each check keeps its text)."""
    verdict = worst(c.verdict for c in checks)
    return OK if verdict.level == "ok" else verdict


def exit_status(levels: Iterable[str]) -> int:
    """`fer-tui checkpoints`' exit status: EXIT_BROKEN if any checkpoint is broken, else 0."""
    return EXIT_BROKEN if "broken" in set(levels) else 0


def human_bytes(size: int | None) -> str:
    if size is None:
        return "-"
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} B"


# ---------------------------------------------------------------- the rules


def unreadable(error: OSError) -> Verdict:
    return Verdict("broken", f"unreadable ({error.strerror or error})")


def records(error: str | None) -> Verdict:
    """The record headers' own complaint (`index.Index.error`), if any."""
    return Verdict("broken", error) if error else OK


def architecture(arch: str | None, unknown_message: str) -> Verdict:
    return OK if arch else Verdict("broken", unknown_message)


def structure(arch: str, kind: str, problems: list[str], tensors: int, params: int) -> Verdict:
    if problems:
        return Verdict("broken", f"not a {arch} {kind}: {'; '.join(problems)}")
    return Verdict("ok", f"{tensors} tensors of {arch}, {params:,} parameters")


def size(on_disk: int, expected: int | None, detail: str = "") -> Verdict:
    """Bytes on disk against the exact size for the architecture and kind. With `detail` (the
    deep path's numbers) the text is always that; without, only a problem has a text."""
    if expected is None or expected <= 0:
        return Verdict("unknown", "no expected size")
    if on_disk == 0:
        return Verdict("broken", "empty file (0 bytes)")
    ratio = on_disk / expected
    level: Level = "broken" if ratio < BROKEN_SHARE else "warning" if abs(ratio - 1) > SIZE_TOLERANCE else "ok"
    if detail:
        return Verdict(level, detail if level == "ok" else f"size {detail}")
    if level == "broken":
        return Verdict(level, f"{human_bytes(on_disk)}, expected {human_bytes(expected)}")
    if level == "warning":
        return Verdict(level, f"{human_bytes(on_disk)}, expected {human_bytes(expected)} ({ratio - 1:+.0%})")
    return OK


def sidecar(side: Sidecar | None, problem: str | None, on_disk: int) -> Verdict:
    """What the sidecar alone says of the file: missing, damaged, or a different byte count."""
    if problem:
        return Verdict("warning", problem)
    if side is None:
        return Verdict("unknown", "no sidecar (run `fer-tui checkpoints` for the full check)")
    if side.bytes not in (None, on_disk):
        return Verdict("warning", f"{human_bytes(on_disk)} on disk, sidecar says {human_bytes(side.bytes)}")
    return OK


def sidecar_vs_weights(side: Sidecar, weights_arch: str | None, weights_expected: int | None) -> Verdict:
    """The sidecar's word against what the tensors are (`arch.weights_identity`): another
    architecture, or another exact size, means the sidecar lies, not the weights. Another
    architecture is broken, as the full check finds it; another size only misleads."""
    if side.arch and weights_arch and side.arch != weights_arch:
        return Verdict(
            "broken", f"sidecar disagrees with the weights: it says {side.arch}, the tensors are {weights_arch}'s"
        )
    if side.expected_bytes and weights_expected and side.expected_bytes != weights_expected:
        return Verdict(
            "warning",
            f"sidecar disagrees with the weights: it expects {human_bytes(side.expected_bytes)}, "
            f"the tensors make {human_bytes(weights_expected)}",
        )
    return OK


def listing(
    on_disk: int,
    index_error: str | None,
    side: Sidecar | None,
    problem: str | None,
    weights: tuple[str | None, int | None] = (None, None),
) -> Verdict:
    """The quick verdict of the checkpoints table: the record headers first (a damaged file is
    broken, sidecar or not), then the sidecar against the tensors (`weights`: the architecture
    and exact size they make), then the size its sidecar expects, then the sidecar itself."""
    if index_error:
        return records(index_error)
    if side is None:
        return sidecar(side, problem, on_disk)
    agrees = sidecar_vs_weights(side, *weights)
    if agrees.level != "ok":
        return agrees
    by_size = size(on_disk, side.expected_bytes)
    return by_size if by_size.level != "ok" else sidecar(side, problem, on_disk)


def behaviour(probs: np.ndarray, labels: np.ndarray | None, note: str = "") -> tuple[Verdict, dict[str, Any]]:
    """Predictions on real faces: NaN is broken; near-uniform or single-class output a warning.
    Returns the facts too (faces, mean top probability, per-class counts, accuracy). `note` is
    added to the accuracy (samples.judging_note: synthetic faces for a real-data model)."""
    import numpy as np  # here, not at the top: the dashboard imports this module

    faces = len(probs)
    if not np.isfinite(probs).all():
        return Verdict("broken", f"output is NaN/inf on {faces} faces"), {"faces": faces}
    top = probs.max(1)
    predicted = probs.argmax(1)
    counts = np.bincount(predicted, minlength=NUM_CLASSES)
    facts: dict[str, Any] = {
        "faces": faces,
        "mean_top": float(top.mean()),
        "predicted_counts": dict(zip(CLASS_NAMES, counts.tolist())),
    }
    accuracy = None
    if labels is not None and len(labels) == faces:
        accuracy = float((predicted == labels).mean())
        facts["accuracy"] = accuracy
    acc_text = f", accuracy {100 * accuracy:.2f}%{note}" if accuracy is not None else ""  # as `runs` words it
    if top.mean() < 1 / NUM_CLASSES + UNIFORM_MARGIN:
        return Verdict(
            "warning", f"uniform output: mean top probability {top.mean():.3f} ≈ 1/7 on {faces} faces{acc_text}"
        ), facts
    if faces >= NUM_CLASSES and (counts > 0).sum() == 1:
        return Verdict(
            "warning", f"one class ({CLASS_NAMES[int(predicted[0])]}) for every face ({faces} faces{acc_text})"
        ), facts
    if accuracy is not None and faces >= NUM_CLASSES and accuracy < 1 / NUM_CLASSES:
        # "ok" beside 9.5 % would read as a good model: below chance it guesses worse than a die
        return Verdict("warning", f"below chance (1/7 = 14.3 %) on {faces} faces{acc_text}"), facts
    return Verdict("ok", f"{faces} faces: mean top probability {top.mean():.3f}{acc_text}"), facts


def behaviour_unknown(reason: str) -> Verdict:
    """The faces could not be read: nothing is known of the behaviour."""
    return Verdict("unknown", f"behaviour not checked: {reason}")


def untrained(epoch: int | None) -> Verdict:
    """What the sidecar's epoch says of the weights (None: it does not say)."""
    if epoch == 0:
        return Verdict("warning", "saved at epoch 0, before any epoch finished: barely trained weights")
    return OK


def load_failed(why: str) -> Verdict:
    """MindSpore refused the file, or the worker checking it died (`why` says which)."""
    return Verdict("broken", why)
