"""What a run's curves say: every rule that reads a metrics history, every threshold, in one place.

`diagnose(rows, config)` runs each rule of `RULES` over the epoch rows (metrics.jsonl) and
returns the `Finding`s that fire, worst first. A finding names its evidence (epochs and numbers)
and a remedy: config fields and the values to train with next time, computed from the run's own
config so they can be put into the Train form as they are. The Run screen, `fer-tui diagnose`
and the end of train.log all read this module; nothing parses a finding back out of its text.
To change what counts as over-fitting, change a threshold here (docs/diagnosis.md's table is
generated from `RULES` by docs/gen_diagnosis_table.py).

No numpy and no mindspore: the dashboard imports this module.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from fer_core import CLASS_NAMES
from fer_core.config import TrainConfig
from fer_core.records import EpochRow

Severity = Literal["info", "warning", "problem"]
SEVERITIES: tuple[Severity, ...] = ("info", "warning", "problem")  # milder first

# ---------------------------------------------------------------- thresholds (accuracies are shares)

OVERFIT_GAP = 0.05  # train acc above val acc by 5 points or more ...
OVERFIT_GROWTH = 0.03  # ... a gap that grew by 3 points since it first passed OVERFIT_GAP ...
STALL_EPOCHS = 5  # ... while the last 5 epochs ...
STALL_GAIN = 0.005  # ... raised the best val acc by less than half a point
UNDERFIT_GAP = 0.02  # train and val acc within 2 points of each other at the end ...
RISING_EPOCHS = 3  # ... and over the last 3 epochs ...
RISING_GAIN = 0.01  # ... val acc rose by at least a point, train acc too
PLATEAU_EPOCHS = 5  # no better val acc for 5 epochs ...
PLATEAU_LR_SHARE = 0.5  # ... while lr is still at least half its peak
DIVERGE_RISE = 0.25  # train loss 25 % above its lowest (after DIVERGE_MIN_EPOCH): diverging
DIVERGE_MIN_EPOCH = 2  # the first epoch's loss is not a minimum to judge from
COLLAPSE_SHARE = 0.9  # one class predicted for 90 % of the validation faces: collapse
NEVER_PREDICTED_EPOCH = 3  # a class no face is predicted as, from this epoch on, is a finding
NOISE_EPOCHS = 6  # over the last 6 epochs ...
NOISE_SWING = 0.01  # ... val acc moves by a point or more per epoch on average ...
NOISE_RATIO = 2.0  # ... and the swings are twice the net gain per epoch or more

# remedies: how far one step goes (bounded by the config's own ranges)
WEIGHT_DECAY_STEP = 2.0  # double it
WEIGHT_DECAY_FLOOR = 0.01  # from 0 (or tiny), start here
EPOCHS_STEP = 2.0
LR_PLATEAU_STEP = 0.5
LR_DIVERGE_STEP = 0.1
LR_NOISE_STEP = 0.5
SMOOTHING_FLOOR = 0.1


@dataclass(frozen=True)
class Finding:
    """One rule that fired: what it saw (`evidence`, with epochs and numbers), since when, and
    the config changes that answer it (`remedy`: field → new value)."""

    rule: str
    severity: Severity
    title: str
    evidence: str
    remedy: dict[str, Any] = field(default_factory=dict)
    epoch: int | None = None  # where it began (None: the run as a whole)

    @property
    def rank(self) -> int:
        return SEVERITIES.index(self.severity)

    def remedy_text(self) -> str:
        return ", ".join(f"{name} = {_value(v)}" for name, v in self.remedy.items()) or "-"

    def lines(self) -> list[str]:
        """Two lines for a log or a terminal."""
        return [f"{self.severity}: {self.title}: {self.evidence}", f"  remedy: {self.remedy_text()}"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "title": self.title,
            "evidence": self.evidence,
            "remedy": self.remedy,
            "epoch": self.epoch,
        }


@dataclass(frozen=True)
class Rule:
    name: str
    severity: Severity
    says: str  # when it fires, thresholds spelt out
    remedy: str  # what it proposes
    check: Callable[[Sequence[EpochRow], TrainConfig], Finding | None]


# ---------------------------------------------------------------- helpers


def _value(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    return str(v).lower() if isinstance(v, bool) else str(v)


def _pct(share: float) -> str:
    return f"{100 * share:.1f} %"


def _pts(share: float) -> str:
    return f"{100 * share:.1f} points"


def _bounded(name: str, value: float) -> float:
    """`value` inside the config field's range (so a remedy always validates)."""
    for bound in TrainConfig.model_fields[name].metadata:
        if (le := getattr(bound, "le", None)) is not None:
            value = min(value, le)
        if (lt := getattr(bound, "lt", None)) is not None:
            value = min(value, lt * 0.99)
        if (ge := getattr(bound, "ge", None)) is not None:
            value = max(value, ge)
    return value


def _lr(config: TrainConfig, factor: float) -> dict[str, Any]:
    return {"lr": float(f"{_bounded('lr', config.lr * factor):.3g}")}


def _epochs(config: TrainConfig) -> dict[str, Any]:
    return {"epochs": int(_bounded("epochs", round(config.epochs * EPOCHS_STEP)))}


def _with_acc(rows: Sequence[EpochRow]) -> list[EpochRow]:
    return [r for r in rows if r.train_acc is not None and r.val_acc is not None]


def _gap(row: EpochRow) -> float:
    return (row.train_acc or 0.0) - (row.val_acc or 0.0)


def _best_before(rows: Sequence[EpochRow], count: int) -> tuple[float, float, EpochRow]:
    """(best val acc before the last `count` rows, best within them, the row of the latter)."""
    earlier = [r.val_acc for r in rows[:-count] if r.val_acc is not None]
    last = max(rows[-count:], key=lambda r: r.val_acc or -1.0)
    return max(earlier, default=-1.0), last.val_acc or -1.0, last


# ---------------------------------------------------------------- the rules


def overfitting(rows: Sequence[EpochRow], config: TrainConfig) -> Finding | None:
    rows = _with_acc(rows)
    if len(rows) <= STALL_EPOCHS:
        return None
    end = rows[-1]
    if _gap(end) < OVERFIT_GAP:
        return None
    began = len(rows) - 1  # the first epoch of the last stretch with the gap at OVERFIT_GAP or more
    while began > 0 and _gap(rows[began - 1]) >= OVERFIT_GAP:
        began -= 1
    start = rows[began]
    before, recent, best = _best_before(rows, STALL_EPOCHS)
    if _gap(end) - _gap(start) < OVERFIT_GROWTH or recent - before >= STALL_GAIN:
        return None
    remedy: dict[str, Any] = {
        "weight_decay": float(
            f"{_bounded('weight_decay', max(WEIGHT_DECAY_FLOOR, config.weight_decay * WEIGHT_DECAY_STEP)):.3g}"
        )
    }
    if not config.augment:
        remedy["augment"] = True
    elif config.augment_policy != "full":
        remedy["augment_policy"] = "full"
    if not config.mixup:
        remedy["mixup"] = True
    gained = (end.val_acc or 0.0) - (start.val_acc or 0.0)
    return Finding(
        "overfitting",
        "warning",
        "over-fitting",
        f"train-val gap {_pts(_gap(start))} at epoch {start.epoch}, {_pts(_gap(end))} at epoch {end.epoch} "
        f"(train {_pct(end.train_acc or 0)}, val {_pct(end.val_acc or 0)}); val gained {_pts(gained)} since "
        f"epoch {start.epoch} and {_pts(max(0.0, recent - before))} in the last {STALL_EPOCHS} epochs "
        f"(best {_pct(max(before, recent))})",
        remedy,
        start.epoch,
    )


def underfitting(rows: Sequence[EpochRow], config: TrainConfig) -> Finding | None:
    rows = _with_acc(rows)
    if len(rows) <= RISING_EPOCHS:
        return None
    end, then = rows[-1], rows[-1 - RISING_EPOCHS]
    val_gain = (end.val_acc or 0) - (then.val_acc or 0)
    train_gain = (end.train_acc or 0) - (then.train_acc or 0)
    if abs(_gap(end)) > UNDERFIT_GAP or val_gain < RISING_GAIN or train_gain < RISING_GAIN:
        return None
    remedy = _epochs(config)
    if config.augment and config.augment_policy == "full":
        remedy["augment_policy"] = "crop_flip"
    return Finding(
        "underfitting",
        "info",
        "under-fitting (still learning)",
        f"train {_pct(end.train_acc or 0)} ≈ val {_pct(end.val_acc or 0)} at epoch {end.epoch}, and both rose "
        f"in the last {RISING_EPOCHS} epochs (val +{_pts(val_gain)}, train +{_pts(train_gain)}): "
        f"the run ended before the model did",
        remedy,
        end.epoch,
    )


def plateau(rows: Sequence[EpochRow], config: TrainConfig) -> Finding | None:
    rows = [r for r in rows if r.val_acc is not None]
    if len(rows) <= PLATEAU_EPOCHS:
        return None
    before, recent, _ = _best_before(rows, PLATEAU_EPOCHS)
    lrs = [r.lr for r in rows if r.lr is not None]
    end = rows[-1]
    if recent > before or not lrs or end.lr is None or end.lr < PLATEAU_LR_SHARE * max(lrs):
        return None
    best = max(rows[:-PLATEAU_EPOCHS], key=lambda r: r.val_acc or -1.0)
    return Finding(
        "plateau",
        "warning",
        "plateau at a high learning rate",
        f"no better val acc than {_pct(before)} (epoch {best.epoch}) in the {PLATEAU_EPOCHS} epochs to "
        f"{end.epoch}, while lr is still {end.lr:.2g} ({end.lr / max(lrs):.0%} of its peak {max(lrs):.2g})",
        _lr(config, LR_PLATEAU_STEP),
        best.epoch + 1,
    )


def divergence(rows: Sequence[EpochRow], config: TrainConfig) -> Finding | None:
    remedy = {**_lr(config, LR_DIVERGE_STEP), "warmup_epochs": max(1, config.warmup_epochs)}
    for row in rows:
        bad = [n for n in ("train_loss", "val_loss") if (v := getattr(row, n)) is not None and not math.isfinite(v)]
        if bad:
            return Finding(
                "divergence",
                "problem",
                "diverged",
                f"{' and '.join(bad)} not a number at epoch {row.epoch} (lr {row.lr or 0:.2g}): the weights blew up",
                remedy,
                row.epoch,
            )
    losses = [r for r in rows if r.train_loss is not None and r.epoch >= DIVERGE_MIN_EPOCH]
    if len(losses) < 2:
        return None
    low = min(losses, key=lambda r: r.train_loss or 0.0)
    end = losses[-1]
    if (end.train_loss or 0) <= (low.train_loss or 0) * (1 + DIVERGE_RISE):
        return None
    return Finding(
        "divergence",
        "problem",
        "training loss rising (learning rate too high)",
        f"train loss {end.train_loss:.3f} at epoch {end.epoch}, up {(end.train_loss or 0) / (low.train_loss or 1) - 1:.0%} "
        f"from its lowest {low.train_loss:.3f} at epoch {low.epoch} (lr {end.lr or 0:.2g})",
        remedy,
        low.epoch + 1,
    )


def collapse(rows: Sequence[EpochRow], config: TrainConfig) -> Finding | None:
    judged = [r for r in rows if r.confusion]
    if not judged:
        return None
    end = judged[-1]
    predicted, total = end.predicted or [], sum(end.support or [])
    top = max(range(len(predicted)), key=lambda k: predicted[k])
    if total and predicted[top] >= COLLAPSE_SHARE * total:
        return Finding(
            "collapse",
            "problem",
            "collapsed to one class",
            f"{CLASS_NAMES[top]} predicted for {predicted[top]} of {total} validation faces "
            f"({predicted[top] / total:.0%}) at epoch {end.epoch}",
            {**_lr(config, LR_DIVERGE_STEP), "warmup_epochs": max(1, config.warmup_epochs)},
            end.epoch,
        )
    return None


def never_predicted(rows: Sequence[EpochRow], config: TrainConfig) -> Finding | None:
    judged = [r for r in rows if r.confusion]
    if not judged or judged[-1].epoch < NEVER_PREDICTED_EPOCH:
        return None
    end = judged[-1]
    support = end.support or []
    missing = [k for k, n in enumerate(end.predicted or []) if n == 0 and support[k] > 0]
    if not missing:
        return None
    since = end.epoch  # the first epoch of the stretch in which they were never predicted
    for row in reversed(judged[:-1]):
        if any((row.predicted or [1] * len(support))[k] for k in missing):
            break
        since = row.epoch
    remedy: dict[str, Any] = {}
    if not config.mixup:
        remedy["mixup"] = True
    if config.label_smoothing < SMOOTHING_FLOOR:
        remedy["label_smoothing"] = SMOOTHING_FLOOR
    remedy.update(_epochs(config))
    names = ", ".join(f"{CLASS_NAMES[k]} ({support[k]} faces)" for k in missing)
    return Finding(
        "never_predicted",
        "warning",
        "a class never predicted",
        f"no validation face predicted as {names} from epoch {since} to {end.epoch}",
        remedy,
        since,
    )


def noisy_validation(rows: Sequence[EpochRow], config: TrainConfig) -> Finding | None:
    rows = [r for r in rows if r.val_acc is not None]
    if len(rows) < NOISE_EPOCHS:
        return None
    window = rows[-NOISE_EPOCHS:]
    values = [r.val_acc or 0.0 for r in window]
    swing = sum(abs(b - a) for a, b in zip(values, values[1:])) / (len(values) - 1)
    trend = abs(values[-1] - values[0]) / (len(values) - 1)
    if swing < NOISE_SWING or swing < NOISE_RATIO * trend:
        return None
    remedy = _lr(config, LR_NOISE_STEP)
    if not config.tta:
        remedy["tta"] = True
    return Finding(
        "noisy_validation",
        "info",
        "noisy validation",
        f"val acc swung {_pts(swing)} per epoch on average over epochs {window[0].epoch}-{window[-1].epoch} "
        f"({_pct(min(values))} to {_pct(max(values))}) for a net change of {_pts(values[-1] - values[0])}: "
        f"one epoch's best says little",
        remedy,
        window[0].epoch,
    )


RULES: list[Rule] = [
    Rule(
        "divergence",
        "problem",
        f"a loss is NaN/inf, or the train loss ends {DIVERGE_RISE:.0%} above its lowest (from epoch "
        f"{DIVERGE_MIN_EPOCH})",
        f"lr × {LR_DIVERGE_STEP:g}, at least one warm-up epoch",
        divergence,
    ),
    Rule(
        "collapse",
        "problem",
        f"one class predicted for {COLLAPSE_SHARE:.0%} or more of the validation faces (last epoch)",
        f"lr × {LR_DIVERGE_STEP:g}, at least one warm-up epoch",
        collapse,
    ),
    Rule(
        "overfitting",
        "warning",
        f"train acc ends {_pts(OVERFIT_GAP)} or more above val acc, the gap grew {_pts(OVERFIT_GROWTH)} "
        f"or more since it first passed {_pts(OVERFIT_GAP)} (the epoch it began), and the last "
        f"{STALL_EPOCHS} epochs raised the best val acc by less than {_pts(STALL_GAIN)}",
        f"weight_decay × {WEIGHT_DECAY_STEP:g} (from 0: {WEIGHT_DECAY_FLOOR}), augment on / augment_policy "
        "full, mixup on",
        overfitting,
    ),
    Rule(
        "plateau",
        "warning",
        f"no better val acc in the last {PLATEAU_EPOCHS} epochs while lr is still {PLATEAU_LR_SHARE:.0%} "
        "or more of its peak",
        f"lr × {LR_PLATEAU_STEP:g}",
        plateau,
    ),
    Rule(
        "never_predicted",
        "warning",
        f"a class with validation faces is predicted for none of them (from epoch {NEVER_PREDICTED_EPOCH}, last epoch)",
        f"mixup on, label_smoothing at least {SMOOTHING_FLOOR}, epochs × {EPOCHS_STEP:g}",
        never_predicted,
    ),
    Rule(
        "underfitting",
        "info",
        f"train and val acc within {_pts(UNDERFIT_GAP)} at the end and both rose {_pts(RISING_GAIN)} or "
        f"more over the last {RISING_EPOCHS} epochs",
        f"epochs × {EPOCHS_STEP:g} (augment_policy crop_flip if it was full)",
        underfitting,
    ),
    Rule(
        "noisy_validation",
        "info",
        f"over the last {NOISE_EPOCHS} epochs val acc moves {_pts(NOISE_SWING)} or more per epoch on average, "
        f"{NOISE_RATIO:g}× its net change per epoch or more",
        f"lr × {LR_NOISE_STEP:g}, tta on",
        noisy_validation,
    ),
]


def diagnose(rows: Sequence[EpochRow], config: TrainConfig | None = None) -> list[Finding]:
    """Every finding of RULES on the epoch rows, worst first (then in RULES' order). `config` is
    the run's: remedies are computed from it (the defaults when it is unknown)."""
    config = config or TrainConfig()
    found = [f for rule in RULES if (f := rule.check(list(rows), config)) is not None]
    return sorted(found, key=lambda f: -f.rank)


def apply_remedy(config: TrainConfig, finding: Finding) -> TrainConfig:
    """The run's config with the finding's remedy: what the Train form is filled with."""
    return TrainConfig.model_validate({**config.model_dump(), **finding.remedy})


def summary_lines(findings: Sequence[Finding]) -> list[str]:
    """What train.log ends with and `fer-tui diagnose` prints."""
    if not findings:
        return ["Diagnosis: nothing to remark in the curves"]
    return ["Diagnosis:"] + [line for f in findings for line in f.lines()]
