"""How a run's epoch, step, ETA and age are worded, the same in `fer-tui runs` and the
dashboard's Runs table, so both say the same thing about a run at the same moment; and what a
stop keeps, the same in `fer-tui stop` and the dashboard's stop dialog."""

from __future__ import annotations

from fer_core.records import RunStatus

# the column headers and what they mean (the README quotes them)
EPOCH_HEADER = "epoch"  # the epoch in progress while running, else the last one completed
UPDATED_HEADER = "updated"  # time since the trainer last wrote status.json (its heartbeat)
STEP_HEADER = "step"  # steps done of the epoch in progress / steps per epoch (live runs)
ETA_HEADER = "eta"  # the trainer's estimate of the time to the last epoch's end (live runs)
BEST_HEADER = "best"  # the best validation accuracy so far


def accuracy_text(value: float | None) -> str:
    """An accuracy in 0..1 as `68.21%`; `-` when missing."""
    if not isinstance(value, (int, float)):
        return "-"
    return f"{100 * value:.2f}%"


def epoch_text(status: RunStatus, state: str | None = None) -> str:
    """`7/10`: the epoch a run is in. status.json counts the finished ones, and a run that has
    not ended trains or validates the next one: a live run shows that one, and so does a
    stopped, failed or lost run (the one it resumes in, as its message says). A finished run
    shows the epochs it trained. `state` is the judged one (a dead `running` trainer is lost)."""
    if state == "unreadable":  # its status.json says nothing
        return "-"
    epoch = status.epoch
    if (state or status.state) in ("starting", "running", "stopped", "failed", "lost"):
        epoch = min(epoch + 1, status.epochs) if status.epochs else epoch + 1
    return f"{epoch}/{status.epochs or '?'}"


def age(seconds: float) -> str:
    """A coarse age (`45s`, `12m`, `3h`, `2d`): coarse so a table redraws rarely."""
    seconds = max(0.0, float(seconds))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


def updated_text(status: RunStatus, now: float) -> str:
    """`5s ago`: since the trainer last wrote its status (its heartbeat; an ended run's end);
    `-` when the status has no time (an unreadable one)."""
    when = status.updated or status.started
    return "-" if when is None else age(now - when) + " ago"


def step_text(status: RunStatus, state: str | None = None) -> str:
    """`120/448`: the steps done of the epoch in progress, for a live run; `-` otherwise."""
    if (state or status.state) not in ("running", "starting") or not status.steps:
        return "-"
    return f"{status.step}/{status.steps}"


def duration(seconds: float | None) -> str:
    """An ETA such as `1h02m`, `4m05s`, `9s`; `-` when unknown."""
    if not isinstance(seconds, (int, float)) or not seconds >= 0:
        return "-"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


def eta_text(status: RunStatus, state: str | None = None) -> str:
    """`1h02m` to the end of the last epoch, for a live run; `-` otherwise."""
    if (state or status.state) not in ("running", "starting"):
        return "-"
    return duration(status.eta_seconds)


def resume_point(status: RunStatus) -> tuple[int, int] | None:
    """Where a run stopped now would resume, as (epoch, steps of it already done), from its
    status: `epoch` epochs finished and `step` steps of the next. Inside an epoch that is the
    step it is on; with every step of an epoch done (it is validating it) the next epoch's
    start. None when there is no next epoch: a run validating its last epoch finishes rather
    than stop, so a stop leaves nothing to resume."""
    epoch, step = status.epoch + 1, status.step
    if status.steps and step >= status.steps:
        epoch, step = epoch + 1, 0
    if status.epochs and epoch > status.epochs:
        return None
    return epoch, step


def stop_keeps(status: RunStatus | None) -> str:
    """What a stop keeps, said before it is asked for: where the run would resume (the step it
    reaches; `fer-tui stop` and the dashboard's stop dialogs all say it with this)."""
    if status is None or not status.steps:
        return "It stops after its current step and saves last_state.ckpt; resume continues from there."
    point = resume_point(status)
    if point is None:
        return "It has trained its last epoch's steps: it finishes rather than stops, and nothing is left to resume."
    epoch, step = point
    where = f"step {step} of epoch {epoch}" if step else f"the start of epoch {epoch}"
    return (
        f"It stops after its current step (now {where}) and saves last_state.ckpt; "
        "resume continues from that step: no finished step is trained again."
    )
