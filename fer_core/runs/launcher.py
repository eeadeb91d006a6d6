"""Launching a run's trainer detached, and stopping it: the only code that signals a trainer."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import threading
from pathlib import Path

from fer_core import fileio
from fer_core.config import TrainConfig
from fer_core.errors import ConfigError, DataError, RunError
from fer_core.records import RunStatus
from fer_core.runs import registry
from fer_core.runs.rundir import (
    CONFIG,
    LAST_STATE,
    LIVE_STATES,
    LOG,
    STATUS,
    check_own_files,
    effective_state,
    load_status,
    pid_alive,
    read_config,
    read_status,
    runlock,
    update_status,
)
from fer_core.signals import signals_unblocked


def trainer_command(run_dir: Path, resume: bool = False) -> list[str]:
    """`python -m fer_core.train RUN_DIR`; FER_TUI_TRAINER swaps the trainer (tests use a fake)."""
    custom = os.environ.get("FER_TUI_TRAINER")
    base = shlex.split(custom) if custom else [sys.executable, "-m", "fer_core.train"]
    return [*base, str(run_dir), *(["--resume"] if resume else [])]


def launch_detached(run_dir: Path, resume: bool = False) -> int:
    """Start the trainer in its own session: closing the terminal or the TUI never stops it.

    The run's lock is taken before the checks and handed to the trainer, so of two launches
    of one run only one trainer ever starts (the other gets a one-line RunError).
    """
    run_dir = Path(run_dir)
    if resume:
        check_resumable(run_dir)  # the plain refusals first: they leave no lock file behind
    lock = runlock.acquire(run_dir)
    try:
        if resume:
            check_resumable(run_dir, holding_lock=True)  # again: another launch may have won meanwhile
        # the trainer reads this pipe to EOF before its first write, so the status written
        # below never races its start-up (which deletes every temporary in the directory)
        ready_read, ready_write = os.pipe()
        try:
            with fileio.open_append(run_dir / LOG) as log, signals_unblocked():
                process = subprocess.Popen(
                    trainer_command(run_dir, resume),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    close_fds=True,
                    pass_fds=(lock.fd, ready_read),
                    env={
                        **os.environ,
                        "PYTHONUNBUFFERED": "1",
                        runlock.LOCK_FD_ENV: str(lock.fd),
                        runlock.READY_FD_ENV: str(ready_read),
                    },
                )
        except BaseException:
            os.close(ready_write)
            raise
        finally:
            os.close(ready_read)
        registry.register(run_dir)  # `runs --all` lists it from any folder
        try:
            lock.record_pid(process.pid)
            # the pid now, so watchers see a live run before the trainer's first write
            update_status(run_dir, state="starting", pid=process.pid, message="")
        finally:
            os.close(ready_write)
    finally:
        lock.release()  # the trainer holds its inherited copy for its whole life
    # a long-lived launcher (the dashboard) collects the exit status: no <defunct> trainers
    threading.Thread(target=process.wait, name=f"reap-{process.pid}", daemon=True).start()
    return process.pid


def check_resumable(run_dir: Path, holding_lock: bool = False) -> None:
    """Refuse a resume that cannot work, in one line, before any trainer starts."""
    run_dir = Path(run_dir)
    status = load_status(run_dir)  # one that does not read: refused, naming it (none: `unknown`)
    state = effective_state(status, run_dir=None if holding_lock else run_dir)
    if status is not None and state in LIVE_STATES:  # (no status is `unknown`, never live)
        raise RunError(f"{run_dir}: the run is still {state} (pid {status.pid})")
    if not holding_lock and runlock.is_held(run_dir):
        raise RunError(runlock.busy_message(run_dir))
    if state == "finished" or state == "early_stopped":
        raise RunError(f"{run_dir}: the run already {state.replace('_', ' ')}; nothing to resume")
    if not (run_dir / CONFIG).exists():
        raise RunError(f"{run_dir}: no {CONFIG}; not a run directory")
    check_own_files(run_dir)  # a train.log or checkpoint name that is a link: refused now
    read_config(run_dir)  # an edited or unreadable config.toml: ConfigError naming the file
    state_file = run_dir / LAST_STATE
    if not state_file.exists():
        return  # no epoch was completed yet: the trainer starts again from epoch 1
    from fer_core.ckpt.index import read_index  # mindspore-free: record headers only

    index = read_index(state_file)
    if index.error:  # said now, before a trainer starts and marks the run failed
        raise RunError(f"{state_file}: cannot resume from it ({index.error})")


def trainer_pid(run_dir: Path) -> int:
    """The pid of the process training this run, proven by the run's lock, or RunError.

    status.json's pid alone is never trusted: after a kill -9 it may belong to some other
    process, and the file can be edited. The trainer is the process that has the run's lock
    file open while the lock is held; with no lock file (a trainer older than the lock), only
    a process whose command line is this run's trainer command (`-m fer_core.train RUN_DIR`,
    which the msrun supervisor is too) is signalled.
    """
    run_dir = Path(run_dir)
    status = read_status(run_dir)
    pids = (status.pid if status else None, runlock.holder_pid(run_dir))
    candidates = [p for p in pids if isinstance(p, int) and p > 0]
    if os.path.lexists(runlock.lock_path(run_dir)):
        if not runlock.is_held(run_dir):
            raise RunError(_not_live(run_dir, status))
        for pid in candidates:
            if runlock.process_has_lock_open(pid, run_dir):
                return pid
        raise RunError(
            f"{run_dir}: pid {candidates[0] if candidates else 'none'} in {STATUS} is not the process "
            f"holding the run's lock; not signalled"
        )
    first = candidates[0] if candidates else None
    if first is not None and pid_alive(first):
        pid = first
        if is_trainer_of(pid, run_dir):
            return pid
        raise RunError(
            f"{run_dir}: no {runlock.LOCK_NAME}, and pid {pid} in {STATUS} is not this run's trainer "
            f"(its command line does not train {run_dir.name}); not signalled"
        )
    if effective_state(status) == "starting" and not candidates:
        raise RunError(f"{run_dir}: the trainer has not started yet (no pid recorded); try again in a moment")
    raise RunError(_not_live(run_dir, status))


def _not_live(run_dir: Path, status: RunStatus | None) -> str:
    """Why there is nothing to stop, in words that match what happened."""
    # `lost`: it says live, its trainer is gone; no status at all is its own case
    state: str = "unreadable" if status is None else effective_state(status, run_dir=run_dir)
    why = {
        "unreadable": f"no readable {STATUS}",
        "lost": "its trainer is gone (lost)",
        "starting": "starting: try again in a moment",
        "unknown": f"its {STATUS} names no state",
    }.get(state, state.replace("_", " "))
    return f"{run_dir}: the run is not live ({why}); nothing to stop"


def is_trainer_of(pid: int, run_dir: Path) -> bool:
    """Whether process `pid` runs this run's trainer command (trainer_command), its run
    directory argument naming `run_dir` from the process's own working directory."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        cwd = os.readlink(f"/proc/{pid}/cwd")
    except OSError:
        return False
    argv = [os.fsdecode(part) for part in raw.split(b"\0")[:-1]]
    base = trainer_command(Path("RUN"))[:-1]  # the interpreter may differ (another install)
    if len(argv) < len(base) + 1 or argv[1 : len(base)] != base[1:]:
        return False
    if any(arg != "--resume" for arg in argv[len(base) + 1 :]):
        return False
    try:
        return Path(cwd, argv[len(base)]).resolve() == run_dir.resolve()
    except OSError:
        return False


def stop_run(run_dir: Path, sig: int = signal.SIGTERM) -> int:
    """Ask a live trainer to stop: it finishes the step, writes last_state.ckpt, says `stopped`."""
    pid = trainer_pid(run_dir)
    os.kill(pid, sig)
    return pid


# the library MindSpore needs for each device; without it set_device fails after minutes of
# start-up, with pages of its own errors (the CPU needs nothing)
DEVICE_LIBRARIES = {"GPU": ("libcuda.so.1", "libcuda.so"), "Ascend": ("libascendcl.so",)}


def check_device(device: str) -> None:
    """A device this machine cannot drive is one line before anything is created."""
    names = DEVICE_LIBRARIES.get(device)
    if not names:
        return
    import ctypes

    for name in names:
        try:
            ctypes.CDLL(name)
            return
        except OSError:
            continue
    raise ConfigError(
        f"device_target {device}: this machine has no {device} driver ({names[0]} not found); use --device_target CPU"
    )


def check_data_path(config: TrainConfig) -> None:
    """The data must load (and have its splits) before a run directory exists: a bad CSV is a
    one-line error here, not a `failed` run left behind (or, with --detach, a silent failure).
    A CSV's parse is cached, so the trainer's own load right after is fast."""
    from fer_core.config import DEMO_DATA

    if config.data_csv == DEMO_DATA:
        return
    if not Path(config.data_csv).expanduser().exists():
        raise DataError(f"data_csv {config.data_csv}: no such file or folder")
    from fer_core.data.dataset import load_dataset

    dataset = load_dataset(config.data_csv)
    dataset.split("Training")
    dataset.split(config.val_split)
