"""The queue's runner: one detached process per queue (new session, no terminal, output to
`.queue/runner.log`) that starts the queued entries one after another (or `parallel` at
once) and watches their run directories until they end.

Only one runner works a queue: it holds `.queue/runner.lock` (flock) for its whole life, and
the kernel drops that lock when it dies, however it dies. Trainers are launched detached
themselves (fer_core.runs.launcher), so a runner killed mid-way leaves its runs training; the
next runner adopts a run that is still live, marks one that ended, and resumes one whose
trainer was lost (`train --resume` semantics, up to MAX_ATTEMPTS launches).

A failed run never stops the queue. `fer-tui queue stop` asks the runner (a `stop.json`
request it reads between polls) to end after its current runs, or with `--now` to stop them
first (they save last_state.ckpt; the next `queue start` resumes them).
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from fer_core import fileio
from fer_core.config import TrainConfig, make_config
from fer_core.errors import ConfigError, FerError, RunError
from fer_core.queue import sweep as sweeps
from fer_core.queue.entries import Queue, QueueEntry
from fer_core.runs import launcher, rundir

RUNNER_LOCK, RUNNER_INFO, STOP, LOG = "runner.lock", "runner.json", "stop.json", "runner.log"
POLL = 0.5  # seconds between looks at the runs (a status.json read each)
MAX_ATTEMPTS = 3  # launches of one entry before a run that keeps getting lost counts as failed
RUNNER_ENV = "FER_TUI_QUEUE_RUNNER"  # tests may swap the runner command, like FER_TUI_TRAINER


# ---------------------------------------------------------------- the runner seen from outside


def runner_pid(queue: Queue, wait: float = 2.0) -> int | None:
    """The pid of the runner working this queue (a positive pid that has the queue's lock
    open: never a stale or guessed number), or None if no runner holds the lock."""
    lock = queue.folder / RUNNER_LOCK
    deadline = time.monotonic() + wait
    while _lock_held(lock):
        try:
            pid = json.loads((queue.folder / RUNNER_INFO).read_text())["pid"]
        except (OSError, ValueError, KeyError, TypeError):
            pid = None
        if isinstance(pid, int) and pid > 1 and _has_open(pid, lock):
            return pid
        if time.monotonic() > deadline:  # a runner between taking the lock and saying its pid
            raise RunError(f"{lock}: held by a process that has not said its pid; try again in a moment")
        time.sleep(0.05)
    return None


def _lock_held(lock: Path) -> bool:
    try:
        fd = fileio.open_own(lock, os.O_RDONLY)  # a FIFO or a link in its place is refused, not waited on
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False  # we got it: nobody holds it
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


def _has_open(pid: int, path: Path) -> bool:
    """Whether process `pid` has `path` open (the runner keeps its lock file open)."""
    target = os.path.realpath(path)
    try:
        return any(os.path.realpath(f"/proc/{pid}/fd/{fd}") == target for fd in os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return False


def check_parallel(queue: Queue, parallel: int, force: bool = False, adding: Sequence[int] = ()) -> None:
    """`--parallel N` refused, as `--workers` is, when the runs would share cores; `adding`: the
    workers of runs about to be queued (a sweep checks before it queues anything)."""
    if parallel < 1:
        raise ConfigError(f"parallel must be >= 1, got {parallel}")
    cores = len(os.sched_getaffinity(0))
    queued = [int(e.config.get("workers", 1)) for e in queue.entries() if e.state == "queued"]
    workers = max([*queued, *adding] or [1])
    if parallel * workers > cores and not force:
        raise ConfigError(
            f"parallel {parallel} × {workers} worker(s) but this machine has {cores} cores: runs sharing a core "
            "only slow each other down (`--force` starts them anyway)"
        )


def start_runner(queue: Queue, parallel: int = 1, force: bool = False) -> tuple[int, bool]:
    """Start a runner for the queue unless one works it already: (pid, started now)."""
    pid = runner_pid(queue)
    if pid is not None:
        return pid, False
    check_parallel(queue, parallel, force)
    queue.make_folders()
    (queue.folder / STOP).unlink(missing_ok=True)  # an old stop request is not for this runner
    custom = os.environ.get(RUNNER_ENV)
    base = custom.split() if custom else [sys.executable, "-m", "fer_core.queue"]
    command = [*base, str(queue.folder), "--parallel", str(parallel), *(["--force"] if force else [])]
    root = queue.folder.parent.resolve()
    with fileio.open_append(queue.folder / LOG) as log:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a hang-up or the dashboard closing never reaches it
            close_fds=True,
            # the runs go where the queue is, whatever the caller's cwd or --root
            env={**os.environ, "PYTHONUNBUFFERED": "1", "FER_TUI_CHECKPOINTS": str(root)},
        )
    return process.pid, True


def request_stop(queue: Queue, now: bool = False) -> int | None:
    """Ask the runner to end after its current runs (`now`: stop them first); its pid or None."""
    pid = runner_pid(queue)
    if pid is not None:
        fileio.write_json(queue.folder / STOP, {"now": now, "asked": time.time()})
    return pid


# ---------------------------------------------------------------- the runner itself


class Runner:
    def __init__(self, queue: Queue, parallel: int = 1, force: bool = False) -> None:
        self.queue, self.parallel, self.force = queue, parallel, force
        self.active: dict[int, Path] = {}  # entry id -> its run directory

    def say(self, text: str) -> None:
        print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {text}", flush=True)

    def run(self) -> int:
        lock_fd = fileio.open_own(self.queue.folder / RUNNER_LOCK, os.O_RDWR | os.O_CREAT)
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.say("another runner works this queue; leaving it")
            return 0
        fileio.write_json(
            self.queue.folder / RUNNER_INFO, {"pid": os.getpid(), "parallel": self.parallel, "started": time.time()}
        )
        self.say(f"runner pid {os.getpid()} working {self.queue.folder} ({self.parallel} at once)")
        self.recover()
        while True:
            stop = self.stop_request()
            if stop is not None and stop.get("now"):
                self.stop_active()
                break
            self.collect()
            while stop is None and len(self.active) < self.parallel and self.start_next():
                pass
            if not self.active and (stop is not None or not self.queued()):
                break
            time.sleep(POLL)
        (self.queue.folder / STOP).unlink(missing_ok=True)
        self.say("runner done" + (" (asked to stop)" if stop is not None else ": nothing left in the queue"))
        return 0

    def stop_request(self) -> dict | None:
        try:
            return json.loads((self.queue.folder / STOP).read_text())
        except (OSError, ValueError):
            return None

    def queued(self) -> list[QueueEntry]:
        return self.queue.waiting()

    # ------------------------------------------------------------------ start and watch

    def start_next(self) -> bool:
        """Start the first queued entry (or fail it in one line); False when none is left."""
        waiting = self.queued()
        if not waiting:
            return False
        entry = self.queue.claim(
            waiting[0].id, attempts=waiting[0].attempts + 1, started=waiting[0].started or time.time()
        )
        if entry is None:
            return True  # removed meanwhile: look again
        try:
            run_dir = self.launch(entry)
        except (FerError, OSError) as error:
            self.queue.update(entry.id, state="failed", message=str(error), ended=time.time())
            self.say(f"#{entry.id} failed at start: {error}")
            return True
        self.active[entry.id] = run_dir
        self.say(f"#{entry.id} running in {run_dir}")
        return True

    def launch(self, entry: QueueEntry) -> Path:
        """Start the (claimed) entry's trainer: a new run, or its own run resumed."""
        from fer_core.runs.launcher import check_data_path
        from fer_core.train.parallel import msrun

        if entry.run_dir:  # a resume: a lost run, one stopped by `queue stop --now`, or `queue add --resume`
            run_dir = Path(entry.run_dir)
            status = rundir.read_status(run_dir)
            if status is not None and status.pid is None and status.state == "starting":
                launcher.launch_detached(run_dir)  # created, never launched (the runner died in between)
            else:
                launcher.launch_detached(run_dir, resume=True)  # checks it can resume, in one line
            return run_dir
        config: TrainConfig = make_config(entry.config)
        launch = msrun.Launch(**entry.launch)
        launcher.check_device(config.device_target)
        msrun.check(config, launch, entry.force)
        check_data_path(config)  # a bad data file fails the entry here, before a run folder exists
        run_dir = rundir.create_run(config, entry.preset)
        msrun.save_launch(run_dir, launch)
        # recorded before the trainer starts: a runner killed now finds the run and launches it
        self.queue.update(entry.id, run_dir=str(run_dir))
        if entry.sweep:
            sweeps.record_run(Path(entry.sweep), entry.id, run_dir)
        launcher.launch_detached(run_dir)
        return run_dir

    def collect(self) -> None:
        """End the entries whose runs ended."""
        for entry_id, run_dir in list(self.active.items()):
            state = rundir.effective_state(rundir.read_status(run_dir), run_dir=run_dir)
            if state in rundir.LIVE_STATES:
                continue
            del self.active[entry_id]
            self.settle(self.queue.get(entry_id), state)

    def settle(self, entry: QueueEntry, state: str) -> None:
        """The entry's fate from its run's end state."""
        status = entry.run_status()
        message = status.message if status else ""
        if state in rundir.DONE_STATES:
            self.queue.update(entry.id, state="finished", message="", ended=time.time())
        elif state == "stopped":  # not by this runner (that is `stop_active`): by the user
            self.queue.update(entry.id, state="cancelled", message=message or "stopped", ended=time.time())
        elif state == "lost" and entry.attempts < MAX_ATTEMPTS:
            self.queue.update(entry.id, state="queued", message=f"trainer lost; resumed ({entry.attempts} launches)")
            self.say(f"#{entry.id}: its trainer was lost; queued again to resume")
            return
        else:
            why = message or f"the run ended {state}"
            self.queue.update(entry.id, state="failed", message=why, ended=time.time())
        self.say(f"#{entry.id} {self.queue.get(entry.id).state}: {entry.run_dir}")

    def recover(self) -> None:
        """Entries a killed runner left `running`: adopt live runs, settle the ended ones."""
        for entry in self.queue.entries():
            if entry.state != "running":
                continue
            if not entry.run_dir:
                self.queue.update(entry.id, state="queued")
                continue
            run_dir = Path(entry.run_dir)
            status = rundir.read_status(run_dir)
            state = rundir.effective_state(status, run_dir=run_dir)
            if status is not None and status.state == "starting" and status.pid is None:
                self.queue.update(entry.id, state="queued")  # made, never launched: launch it now
            elif state in rundir.LIVE_STATES:
                self.active[entry.id] = run_dir
                self.say(f"#{entry.id}: adopted its live run {run_dir}")
            elif state == "stopped":  # stopped while no runner watched: resume it
                self.queue.update(entry.id, state="queued")
            else:
                self.settle(entry, state)

    def stop_active(self) -> None:
        """`queue stop --now`: stop the runs (they save last_state.ckpt), queue them to resume."""
        for entry_id, run_dir in self.active.items():
            try:
                launcher.stop_run(run_dir)
            except (FerError, OSError) as error:
                self.say(f"#{entry_id}: {error}")
        while self.active:
            for entry_id, run_dir in list(self.active.items()):
                state = rundir.effective_state(rundir.read_status(run_dir), run_dir=run_dir)
                if state in rundir.LIVE_STATES:
                    continue
                del self.active[entry_id]
                if state in rundir.DONE_STATES:
                    self.settle(self.queue.get(entry_id), state)
                else:
                    self.queue.update(entry_id, state="queued", message="stopped by `queue stop --now`; resumes")
            time.sleep(POLL)


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m fer_core.queue", description="work a fer-tui queue")
    parser.add_argument("folder", type=Path, help="the queue folder (<checkpoints root>/.queue)")
    parser.add_argument("--parallel", type=int, default=1)
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args(argv)
    return Runner(Queue(args.folder), args.parallel, args.force).run()
