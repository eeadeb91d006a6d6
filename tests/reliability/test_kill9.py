"""kill -9 at random moments of a real MindSpore run, then resume: nothing on disk is ever broken.

A real trainer (`python -m fer_core.train`, tiny_cnn on a tiny generated CSV, ~0.7 s an epoch)
is started detached and SIGKILLed again and again: at seeded random delays, mid-step, the
moment a temporary checkpoint or status file appears (a write in progress), right after an
epoch's metrics line lands, and during start-up. After every kill, with the trainer dead:

* every `.ckpt` on disk is structurally whole (`ckpt.index.read_index`, every tensor record
  complete) and `last_state.ckpt` plus one other checkpoint load with MindSpore itself;
* status.json and every sidecar parse; metrics.jsonl holds only whole lines, epochs 1..n;
* the work lost is bounded in time: the trainer saves last_state.ckpt every
  `state_every_minutes` (here EVERY_MINUTES, 0.6 s) at the step it reached, so at a kill the
  newest state of this trainer's life is at most that old plus the step (and the validation)
  in progress (`state_age`, checked against EVERY_MINUTES + one epoch's time + 2 s of load
  slack); and in epochs (progress reached minus where the resume starts) never more than one.

Then the run is resumed (`launch_detached(run_dir, resume=True)`). Killed before the first
epoch ended there is no last_state.ckpt: the product refuses `--resume` ("no last_state.ckpt
to resume from") and the run is started afresh in the same directory, which loses at most the
part of epoch 1 done so far. After the last kill the run completes with exactly one metrics
line per epoch, 1..epochs, and a final_model.ckpt that loads.

FER_TUI_KILLS sets the kill count (CI default 6); FER_TUI_LONG=1 runs the full 20-kill test.
"""

from __future__ import annotations

import json
import os
import random
import signal
import time
from pathlib import Path

import pytest

from fer_core.ckpt import index as ckpt_index
from fer_core.records import RunStatus
from fer_core.runs import launcher, rundir
from tests.helpers import status_of
from tests.reliability.conftest import FIGURES, reap, tiny_config, wait_until

pytestmark = pytest.mark.slow

CI_KILLS = int(os.environ.get("FER_TUI_KILLS", "6"))
LONG_KILLS = 20
EVERY_MINUTES = 0.01  # state_every_minutes of the killed runs: a state save every 0.6 s
STRATEGIES = ("ckpt_write", "after_epoch_line", "startup", "status_write", "mid_step", "random_delay")


def _progress(run_dir: Path) -> float:
    """Epochs of work done, as far as the files on disk show (whole epochs + the running one)."""
    done = len(_metric_lines(run_dir)[0])
    status = status_of(run_dir)
    if status.state == "running" and status.steps:
        # `epoch` counts finished epochs; step == steps is written once an epoch has ended, so a
        # partial epoch shows as step < steps (the last step's own heartbeat is rarer than 1/s)
        step, steps = status.step, status.steps
        done = max(done, status.epoch + (step / steps if step < steps else 0.0))
    return float(done)


def _metric_lines(run_dir: Path) -> tuple[list[dict], bytes]:
    path = run_dir / rundir.METRICS
    raw = path.read_bytes() if path.exists() else b""
    return [json.loads(line) for line in raw.splitlines() if line.strip()], raw


def _temp_files(run_dir: Path, suffix: str = "") -> list[str]:
    try:
        return [e.name for e in os.scandir(run_dir) if e.name.startswith(".") and e.name.endswith(suffix)]
    except FileNotFoundError:
        return []


def _kill_when(run_dir: Path, pid: int, strategy: str, rng: random.Random, startup: float, epoch_s: float) -> str:
    """Wait for the strategy's moment (bounded), SIGKILL the trainer; return what was hit."""
    start = time.monotonic()
    limit = startup + 3 * epoch_s + 5  # fall back to a plain kill if the moment never comes
    hit = strategy
    if strategy == "startup":
        time.sleep(rng.uniform(0.0, startup))
    elif strategy == "random_delay":
        time.sleep(rng.uniform(0.0, startup + 2 * epoch_s))
    elif strategy == "mid_step":
        first = _progress(run_dir)
        while time.monotonic() - start < limit:
            status = status_of(run_dir)
            if status.state == "running" and status.step >= 1 and _progress(run_dir) > first:
                break
            time.sleep(0.01)
        else:
            hit = "mid_step (fallback)"
        time.sleep(rng.uniform(0.0, epoch_s / 2))
    elif strategy in ("ckpt_write", "status_write"):
        suffix = ".ckpt" if strategy == "ckpt_write" else ".tmp"
        prefix = "." if strategy == "ckpt_write" else ".status.json."
        before = set(_temp_files(run_dir))
        while time.monotonic() - start < limit:
            if any(n.startswith(prefix) and n not in before for n in _temp_files(run_dir, suffix)):
                break
        else:
            hit = f"{strategy} (fallback)"
    elif strategy == "after_epoch_line":
        lines = len(_metric_lines(run_dir)[0])
        while time.monotonic() - start < limit:
            try:
                now = (run_dir / rundir.METRICS).read_bytes().count(b"\n")
            except FileNotFoundError:
                now = 0
            if now > lines:
                break
            time.sleep(0.002)
        else:
            hit = "after_epoch_line (fallback)"
        time.sleep(rng.uniform(0.0, 0.05))
    os.kill(pid, signal.SIGKILL)
    reap(pid)
    return hit


def _check_disk(run_dir: Path, ms, rng: random.Random, notes: dict) -> float | None:
    """Everything a reader can see is whole. Returns where last_state.ckpt resumes, in epochs
    (fractional: the epochs it finished plus the steps of the next)."""
    # parses as a whole status, never half-written
    status = RunStatus.model_validate(json.loads((run_dir / rundir.STATUS).read_text()))
    assert status.state, status
    rows, raw = _metric_lines(run_dir)
    assert not raw or raw.endswith(b"\n"), f"partial metrics line: {raw[-200:]!r}"
    assert [r["epoch"] for r in rows] == list(range(1, len(rows) + 1)), [r["epoch"] for r in rows]
    names = sorted(p.name for p in run_dir.iterdir())
    ckpts = [run_dir / n for n in names if n.endswith(".ckpt") and not n.startswith(".")]
    for ckpt in ckpts:
        index = ckpt_index.read_index(ckpt)
        assert index.error is None and index.tensors, f"{ckpt.name}: {index.error}"
    for sidecar in (run_dir / n for n in names if n.endswith(".json") and not n.startswith(".")):
        json.loads(sidecar.read_text())
        if not sidecar.with_suffix(".ckpt").exists() and sidecar.name != rundir.STATUS:
            notes["orphan_sidecars"] += 1
    notes["stale_temp_files"] = max(notes["stale_temp_files"], len([n for n in names if n.startswith(".")]))
    state_epoch = None
    last_state = run_dir / rundir.LAST_STATE
    if last_state.exists():
        values = ms.load_checkpoint(str(last_state))
        meta = json.loads(str(values["fer_meta"]))
        state_epoch = int(meta["epoch"])
        assert [r["epoch"] for r in meta["history"]] == list(range(1, state_epoch + 1))
        # the metrics line is appended just after last_state is saved: n is the same or one behind
        assert state_epoch - 1 <= len(rows) <= state_epoch, (state_epoch, len(rows))
        sidecar = json.loads(last_state.with_suffix(".json").read_text())
        if sidecar.get("epoch") != state_epoch:
            notes["stale_sidecars"] += 1  # ckpt renamed, sidecar not yet rewritten
    else:
        assert not rows, "metrics lines without a last_state.ckpt"
    others = [c for c in ckpts if c.name != rundir.LAST_STATE]
    if others:
        assert ms.load_checkpoint(str(rng.choice(others)))
        steps = status_of(run_dir).steps
        return state_epoch + (int(meta.get("step", 0)) / steps if steps else 0.0)
    return state_epoch


def _state_age(run_dir: Path, killed: float, life_started: float) -> float | None:
    """Seconds between the newest last_state.ckpt this trainer life wrote and the kill (None:
    it wrote none, e.g. killed in its start-up, so it trained nothing either)."""
    try:
        written = (run_dir / rundir.LAST_STATE).stat().st_mtime
    except FileNotFoundError:
        return None
    return killed - written if written >= life_started else None


def _kill_and_resume(run_dir: Path, procs, kills: int, seed: int) -> dict:
    import mindspore as ms

    rng = random.Random(seed)
    notes = {"orphan_sidecars": 0, "stale_sidecars": 0, "stale_temp_files": 0}
    started = time.monotonic()
    pid = procs.add(launcher.launch_detached(run_dir))
    log, lost, fresh, hits = [], [], 0, []
    # kill 1: during epoch 1 of the very first start, before any last_state.ckpt exists
    wait_until(lambda: status_of(run_dir).state == "running", 120, 0.02, "running")
    time.sleep(rng.uniform(0.0, 0.3))
    os.kill(pid, signal.SIGKILL)
    reap(pid)
    resume_from = _check_disk(run_dir, ms, rng, notes)
    lost.append(_progress(run_dir) - (resume_from or 0))
    hits.append("first_epoch")
    if resume_from is None:
        # no last_state.ckpt: `--resume` starts the run again at epoch 1 in the same
        # directory, losing < 1 epoch
        launcher.check_resumable(run_dir)
        fresh += 1
        pid = procs.add(launcher.launch_detached(run_dir, resume=True))
    else:
        pid = procs.add(launcher.launch_detached(run_dir, resume=True))
    life_started = time.time()
    log.append((1, "first_epoch", round(lost[0], 2), resume_from))
    # calibrate: start-up (import + compile) and one epoch, on the restarted trainer
    t0 = time.monotonic()
    wait_until(lambda: status_of(run_dir).state == "running", 120, 0.02, "running")
    startup = time.monotonic() - t0
    base = len(_metric_lines(run_dir)[0])
    wait_until(lambda: len(_metric_lines(run_dir)[0]) >= base + 1, 120, 0.01, "an epoch")
    t1 = time.monotonic()
    wait_until(lambda: len(_metric_lines(run_dir)[0]) >= base + 2, 120, 0.01, "another epoch")
    epoch_s = max(0.2, time.monotonic() - t1)
    ages: list[float] = []
    for n in range(1, kills):
        strategy = STRATEGIES[n - 1] if n <= len(STRATEGIES) else rng.choice(STRATEGIES)
        hit = _kill_when(run_dir, pid, strategy, rng, startup, epoch_s)
        age = _state_age(run_dir, time.time(), life_started)
        if age is not None:
            ages.append(age)
            bound = EVERY_MINUTES * 60 + epoch_s + 2.0
            assert age <= bound, f"kill {n + 1} ({hit}): the newest state was {age:.2f}s old (bound {bound:.2f}s)"
        reached = _progress(run_dir)
        state = status_of(run_dir).state
        assert state not in rundir.END_STATES, f"the run ended ({state}) before kill {n + 1}: raise epochs"
        resume_from = _check_disk(run_dir, ms, rng, notes)
        lost_now = reached - (resume_from or 0)
        assert lost_now <= 1.0 + 1e-9, f"kill {n + 1} ({hit}) lost {lost_now:.2f} epochs"
        lost.append(lost_now)
        hits.append(hit)
        if resume_from is None:
            # no last_state.ckpt: --resume starts again at epoch 1
            launcher.check_resumable(run_dir)
            fresh += 1
            pid = procs.add(launcher.launch_detached(run_dir, resume=True))
        else:
            assert rundir.effective_state(rundir.read_status(run_dir)) == "lost"
            pid = procs.add(launcher.launch_detached(run_dir, resume=True))
        life_started = time.time()
        log.append((n + 1, hit, round(reached, 2), resume_from))
    reap(pid, timeout=300)
    config = rundir.read_config(run_dir)
    status = rundir.read_status(run_dir)
    tail = (run_dir / rundir.LOG).read_text()[-3000:]
    assert status.state == "finished", tail
    rows, raw = _metric_lines(run_dir)
    assert [r["epoch"] for r in rows] == list(range(1, config.epochs + 1)), "one line per epoch, contiguous"
    assert raw.count(b"\n") == config.epochs
    assert ms.load_checkpoint(str(run_dir / rundir.FINAL))
    for ckpt in run_dir.glob("*.ckpt"):
        if not ckpt.name.startswith("."):
            assert ckpt_index.read_index(ckpt).error is None
    notes["stale_temp_files_at_end"] = len(_temp_files(run_dir))
    # every restart deletes the half-written checkpoints a kill left behind
    assert _temp_files(run_dir, ".ckpt") == [], "a killed checkpoint write was never cleaned up"
    figure = {
        "kills": kills,
        "epochs": config.epochs,
        "seed": seed,
        "lost_max": max(lost),
        "lost_mean": sum(lost) / len(lost),
        "lost_per_kill": [round(x, 3) for x in lost],
        "state_age_max_seconds": max(ages, default=None),
        "state_every_seconds": EVERY_MINUTES * 60,
        "fresh_restarts": fresh,
        "strategies": {h: hits.count(h) for h in sorted(set(hits))},
        "log": log,
        "seconds": time.monotonic() - started,
        **notes,
    }
    FIGURES["kill9"].append(figure)
    return figure


def _epochs_for(kills: int) -> int:
    return kills + 8  # a kill cycle advances ~0-1 epoch (2 while calibrating); the final resume ends it


def test_kill9_at_random_moments_then_resume(tiny_csv, procs):
    kills = CI_KILLS
    run_dir = procs.watch(
        rundir.create_run(tiny_config(tiny_csv, epochs=_epochs_for(kills), state_every_minutes=EVERY_MINUTES), "kill9")
    )
    _kill_and_resume(run_dir, procs, kills, seed=int(os.environ.get("FER_TUI_KILL_SEED", "7")))


@pytest.mark.skipif(os.environ.get("FER_TUI_LONG") != "1", reason="long run: set FER_TUI_LONG=1")
def test_kill9_twenty_times_long(tiny_csv, procs):
    kills = max(LONG_KILLS, CI_KILLS)
    run_dir = procs.watch(
        rundir.create_run(
            tiny_config(tiny_csv, epochs=_epochs_for(kills), state_every_minutes=EVERY_MINUTES), "kill9-long"
        )
    )
    _kill_and_resume(run_dir, procs, kills, seed=int(os.environ.get("FER_TUI_KILL_SEED", "2026")))
