"""A data-parallel run (`workers` > 1): checked, launched under MindSpore's msrun, and watched.

The process that holds the run's lock (the CLI in the foreground, the detached trainer
otherwise) becomes the run's *supervisor*. It starts msrun in a session of its own (a ctrl+c
in the terminal must not reach msrun, which answers it with SIGKILL to every worker) with the
workers `python -m fer_core.train.parallel.worker RUN_DIR`, a free master port on 127.0.0.1 and msrun's
logs in RUN_DIR/msrun/. Then, until msrun ends, it:
- copies rank 0's output to its own stdout (train.log when detached);
- forwards a stop (SIGINT/SIGTERM) to every worker: they agree on a step and stop together;
- after a worker dies (msrun then kills the others), names its rank in status.json and ends
  msrun's scheduler, which would otherwise linger for its own timeouts.
Nothing here imports mindspore: the CLI and the TUI check a launch with this module.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

import fer_core
from fer_core import fileio, signals
from fer_core.config import TrainConfig
from fer_core.errors import ConfigError, RunError, one_line
from fer_core.records import RunStatus
from fer_core.runs import rundir
from fer_core.train import terminal
from fer_core.train.parallel.cluster import LOCAL_WORKERS_ENV, SUPERVISOR_ENV

if TYPE_CHECKING:
    from fer_core.runs.runlock import RunLock

LOGS = rundir.WORKER_LOGS  # RUN_DIR/msrun/: msrun.log, scheduler.log, worker_<rank>.log, launch.json
LAUNCH = "launch.json"
MSRUN_ENV = "FER_TUI_MSRUN"  # the msrun executable, if not the one beside this Python
CLUSTER_TIMEOUT = 600  # seconds msrun's processes wait for each other to join (a loaded CI machine)
LINGER = 5.0  # seconds msrun may outlive its workers before its scheduler is ended
# ... and once the run's end is already known (stopped, or finished by rank 0) on one node, where
# msrun's own exit says nothing more: a stop is `stopped` in a second, not after the scheduler's
# timeouts
LINGER_KNOWN_END = 0.5
POLL = 0.25


def rank_folder(logs: Path, rank: int) -> Path:
    """Where a worker other than rank 0 reports (status.json, metrics.jsonl): RUN_DIR/msrun/rank-<k>/."""
    return logs / f"rank-{rank}"


def keep_earlier_logs(logs: Path) -> None:
    """msrun empties scheduler.log and worker_<rank>.log when it starts: a resume keeps the
    launch before's as NAME.<n> (n = 1 for the first launch), so no worker's lines are lost."""
    names = [logs / "scheduler.log", *sorted(logs.glob("worker_*.log"))]
    present = [path for path in names if path.is_file() and not path.is_symlink()]
    if not present:
        return
    numbers = [int(kept.suffix[1:]) for kept in logs.glob("*.log.*") if kept.suffix[1:].isdigit()]
    launch = max(numbers, default=0) + 1
    for path in present:
        os.replace(path, path.with_name(f"{path.name}.{launch}"))


@dataclass
class Launch:
    """Where this node's workers join: one node on loopback unless told otherwise."""

    nodes: int = 1
    node_rank: int = 0
    master_addr: str = "127.0.0.1"
    master_port: int | None = None  # None: a free port, chosen at every start

    def local_workers(self, config: TrainConfig) -> int:
        return config.workers // self.nodes


def read_launch(run_dir: Path) -> Launch:
    try:
        return Launch(**fileio.read_json(Path(run_dir) / LOGS / LAUNCH))
    except (OSError, ValueError, TypeError):
        return Launch()


def save_launch(run_dir: Path, launch: Launch) -> None:
    if launch != Launch() or (Path(run_dir) / LOGS / LAUNCH).exists():
        fileio.write_json(Path(run_dir) / LOGS / LAUNCH, asdict(launch))


# ---------------------------------------------------------------- refusals, before a run exists


def find_msrun() -> str:
    """msrun: $FER_TUI_MSRUN, else the one installed beside this Python, else on PATH."""
    given = os.environ.get(MSRUN_ENV)
    candidates = [given] if given else [str(Path(sys.executable).with_name("msrun")), shutil.which("msrun")]
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    where = given or f"beside {sys.executable} or on PATH"
    raise RunError(
        f"msrun not found ({where}); it comes with mindspore: reinstall mindspore==2.8.0 or train with --workers 1"
    )


def check(config: TrainConfig, launch: Launch, force: bool = False) -> None:
    """Every reason this launch cannot start, as a one-line error, before a run directory exists."""
    if launch.nodes < 1:
        raise ConfigError(f"nodes must be >= 1, got {launch.nodes}")
    if not 0 <= launch.node_rank < launch.nodes:
        raise ConfigError(f"node_rank must be in 0..{launch.nodes - 1}, got {launch.node_rank}")
    if launch.master_port is not None and not 1024 <= launch.master_port <= 65535:
        raise ConfigError(f"master_port must be in 1024..65535, got {launch.master_port}")
    if config.workers % launch.nodes:
        raise ConfigError(f"workers ({config.workers}) must be a multiple of nodes ({launch.nodes})")
    if config.workers == 1:
        return
    local, cores = launch.local_workers(config), len(os.sched_getaffinity(0))
    if local > cores and not force:
        raise ConfigError(
            f"workers {local} on this node but it has {cores} cores: workers sharing a core "
            "only slow each other down (`fer-tui train --force` starts them anyway)"
        )
    find_msrun()
    if (
        launch.master_port is not None
        and launch.node_rank == 0
        and not port_free(launch.master_addr, launch.master_port)
    ):
        raise RunError(
            f"master_port {launch.master_port} is busy on {launch.master_addr}; "
            "choose another, or leave --master_port out for a free one"
        )


def port_free(addr: str, port: int) -> bool:
    """Whether msrun's scheduler could listen on addr:port (an address not on this host: yes)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((addr, port))
        except OSError as error:
            return error.errno == errno.EADDRNOTAVAIL
    return True


def free_port(addr: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((addr, 0))
        return probe.getsockname()[1]


# ---------------------------------------------------------------- launching


def msrun_command(run_dir: Path, config: TrainConfig, launch: Launch, port: int, resume: bool) -> list[str]:
    logs = Path(run_dir) / LOGS
    return [
        find_msrun(),
        "--worker_num",
        str(config.workers),
        "--local_worker_num",
        str(launch.local_workers(config)),
        "--master_addr",
        launch.master_addr,
        "--master_port",
        str(port),
        "--node_rank",
        str(launch.node_rank),
        "--log_dir",
        str(logs),
        "--join",
        "True",
        "--cluster_time_out",
        str(CLUSTER_TIMEOUT),
        # no `tail -f` of the workers' logs into msrun.log: rank 0's goes to train.log
        "--tail_worker_log",
        str(config.workers),
        "python",
        "-m",
        "fer_core.train.parallel.worker",
        str(run_dir),
        *(["--resume"] if resume else []),
    ]


def python_shim(logs: Path) -> Path:
    """A `python` that is this interpreter: msrun starts the workers with `python` from PATH."""
    bin_dir = logs / "bin"
    for folder in (logs, bin_dir):  # never a link out of the run folder
        fileio.refuse_foreign_folder(folder)
    bin_dir.mkdir(parents=True, exist_ok=True)
    shim = bin_dir / "python"
    fileio.write_text(shim, f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    shim.chmod(0o755)
    return bin_dir


def worker_env(logs: Path, local: int) -> dict[str, str]:
    package_root = str(Path(fer_core.__file__).resolve().parent.parent)  # the workers run this fer_core
    path = os.pathsep.join(p for p in (package_root, os.environ.get("PYTHONPATH", "")) if p)
    return {
        **os.environ,
        "PATH": str(python_shim(logs)) + os.pathsep + os.environ.get("PATH", ""),
        "PYTHONPATH": path,
        "PYTHONUNBUFFERED": "1",
        SUPERVISOR_ENV: str(os.getpid()),
        LOCAL_WORKERS_ENV: str(local),
    }


def supervise(run_dir: Path, resume: bool, lock: RunLock) -> int:
    """Run a data-parallel run to its end from this process (which holds the run's lock)."""
    try:
        return Supervisor(Path(run_dir), resume, lock).run()
    finally:
        lock.release()


class Supervisor:
    """The run's trainer process when it has several workers: msrun is its child."""

    def __init__(self, run_dir: Path, resume: bool, lock: RunLock):
        self.run_dir, self.resume, self.lock = run_dir, resume, lock
        self.logs = run_dir / LOGS
        self.stop_signal: int | None = None
        self.workers: dict[int, int] = {}  # rank -> pid, as found among msrun's children
        self.scheduler: int | None = None  # msrun's other child
        self.signalled: set[int] = set()
        self.last_beat = 0.0

    def run(self) -> int:
        from fer_core.runs import runlock

        runlock.wait_for_launcher()
        self.lock.record_pid(os.getpid())
        signals.route_signals(self._on_signal)
        config, launch = rundir.read_config(self.run_dir), read_launch(self.run_dir)
        self.local, self.hosts_rank0 = launch.local_workers(config), launch.node_rank == 0
        self.one_node = launch.nodes == 1
        try:
            port = launch.master_port or free_port(launch.master_addr)
            command = msrun_command(self.run_dir, config, launch, port, self.resume)
            env = worker_env(self.logs, self.local)
        except (OSError, RunError) as error:
            return self._fail(str(error))
        where = "" if self.hosts_rank0 else "; rank 0, on the master node, writes the metrics"
        self._status(
            state="starting" if self.hosts_rank0 else "running",
            pid=os.getpid(),
            workers=config.workers,
            message=f"node {launch.node_rank} of {launch.nodes}{where}" if launch.nodes > 1 else "",
        )
        self._say(
            f"msrun: {config.workers} workers ({self.local} here) joining {launch.master_addr}:{port}; "
            f"their logs: {self.logs}/"
        )
        keep_earlier_logs(self.logs)
        # made before msrun starts: it copies this launch's lines, not the last one's
        self.copy = LogCopy(self.logs / "worker_0.log", self.run_dir / rundir.LOG) if self.hosts_rank0 else None
        try:
            with fileio.open_append(self.logs / "msrun.log") as out, signals.signals_unblocked():
                self.log_start = out.tell()  # an earlier launch's lines (before a resume) are not this one's
                self.msrun = subprocess.Popen(
                    command,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    env=env,
                )
        except OSError as error:
            return self._fail(f"cannot start msrun: {error}")
        code = self._watch()
        return self._outcome(code)

    # ------------------------------------------------------------ watching

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if signum == signal.SIGHUP:  # the terminal is gone: go on, writing to train.log
            terminal.redirect_output(self.run_dir / rundir.LOG, "terminal hung up")
        elif self.stop_signal is None:
            self.stop_signal = signum

    def _watch(self) -> int:
        gone_since = None
        while True:
            if len(self.workers) < self.local:
                self._find_workers()
            if self.stop_signal is not None:
                for pid in set(self.workers.values()) - self.signalled:
                    if not _blocks(pid, self.stop_signal):  # still starting Python: next time
                        continue
                    _signal(pid, self.stop_signal)
                    self.signalled.add(pid)
            if self.copy:
                self.copy.pump()
            self._heartbeat()
            code = self.msrun.poll()
            if code is not None:
                break
            if len(self.workers) == self.local and not any(map(rundir.pid_alive, self.workers.values())):
                gone_since = gone_since or time.monotonic()
                linger = LINGER_KNOWN_END if self._end_known() else LINGER
                if time.monotonic() - gone_since > linger:  # the scheduler waits out its own timeouts
                    _killpg(self.msrun.pid)  # msrun is alive: its group is still ours
            time.sleep(POLL)
        for leftover in [*self.workers.values(), self.scheduler]:  # whatever msrun left behind
            if leftover is not None and rundir.pid_alive(leftover):
                _signal(leftover, signal.SIGKILL)
        if self.copy:
            self.copy.pump(final=True)
        return code

    def _end_known(self) -> bool:
        """The workers are gone and how the run ended does not hang on msrun's exit (see _outcome);
        other nodes may still need node 0's scheduler, so only on one node."""
        if not self.one_node:
            return False
        status = rundir.read_status(self.run_dir)
        return self.stop_signal is not None or (status is not None and status.state in rundir.DONE_STATES)

    def _find_workers(self) -> None:
        known = len(self.workers)
        for pid in _children(self.msrun.pid):
            env = _environ(pid)
            if env.get("MS_ROLE") == "MS_WORKER" and env.get("RANK_ID", "").isdigit():
                self.workers.setdefault(int(env["RANK_ID"]), pid)
            elif env.get("MS_ROLE") == "MS_SCHED":
                self.scheduler = pid
        if len(self.workers) > known:  # for people and tests: which pid is which rank
            fileio.write_json(self.logs / "workers.json", {str(r): p for r, p in sorted(self.workers.items())})

    def _heartbeat(self) -> None:
        """Keep the status fresh while no rank 0 writes it here (start-up; the other nodes)."""
        if time.monotonic() - self.last_beat < 5:
            return
        self.last_beat = time.monotonic()
        status = rundir.read_status(self.run_dir)
        if status and status.pid == os.getpid() and status.state in rundir.LIVE_STATES:
            rundir.write_status(self.run_dir, status)

    # ------------------------------------------------------------ the end

    def _outcome(self, code: int) -> int:
        status = rundir.read_status(self.run_dir) or RunStatus()
        state = status.state
        if state in rundir.DONE_STATES:  # rank 0 got to the end: nothing after counts
            return 0
        if self.stop_signal is not None:
            if state != "stopped":  # the workers ended before rank 0 could say so
                self._status(state="stopped", message=f"stopped by {signal.Signals(self.stop_signal).name}")
            return 128 + self.stop_signal
        log = _read_from(self.logs / "msrun.log", self.log_start)
        scheduler_not_needed = not _FAILURE.search(log) and _SCHEDULER_FAILED.search(log)
        if not self.hosts_rank0 and (code == 0 or self._local_ranks_done() or scheduler_not_needed):
            # this node's workers ended well. When node 0's address is also this host's (nodes
            # simulated on one machine) every node's msrun starts a scheduler: the one that lost
            # the port fails, and the one that won may outlive the workers until it is ended
            self._status(state="finished", message="")
            return 0
        return self._fail(self._why(code, status, log))

    def _local_ranks_done(self) -> bool:
        """Every worker on this node said in its own status that it trained to the end."""
        if len(self.workers) < self.local:
            return False
        statuses = [rundir.read_status(rank_folder(self.logs, rank)) for rank in self.workers]
        return all(status is not None and status.state in rundir.DONE_STATES for status in statuses)

    def _why(self, code: int, status: RunStatus, log: bytes) -> str:
        """The rank whose end ended the run, as msrun reported it, and its reason; else msrun's."""
        failed = _FAILURE.search(log)
        pid = int(failed.group(1)) if failed else None
        rank = next((r for r, p in self.workers.items() if p == pid), None)
        if rank is None:
            why = _last_error(self.logs / "scheduler.log") or _last_error(self.logs / "msrun.log") or "see msrun.log"
            return f"msrun exited with status {code}: {why}"
        assert failed is not None  # a rank was found from its pid
        how = _how(int(failed.group(2)))
        said = status.message if rank == 0 and status.state == "failed" else None
        detail = said or _last_error(self.logs / f"worker_{rank}.log")
        others = "; msrun stopped the other workers" if len(self.workers) > 1 else ""
        return f"worker rank {rank} (pid {pid}) {how}" + (f": {detail}" if detail else "") + others

    def _fail(self, message: str) -> int:
        self._say(f"error: {message}")
        self._status(state="failed", message=one_line(message))
        return 1

    def _status(self, **fields: Any) -> None:
        rundir.write_status(self.run_dir, (rundir.read_status(self.run_dir) or RunStatus()).evolve(**fields))

    def _say(self, line: str) -> None:
        try:
            print(line, flush=True)
        except OSError:
            terminal.redirect_output(self.run_dir / rundir.LOG, "output gone")


# MindSpore's own log lines (`[WARNING] DISTRIBUTED(812,7f…,python):2026-… [file.cc:12] …`): they
# stay in msrun/worker_<rank>.log; the run's output shows the classic lines only
_MINDSPORE_LOG = re.compile(rb"^\[(?:DEBUG|INFO|WARNING|ERROR|CRITICAL)\] [A-Z_]+\(\d+,")


class LogCopy:
    """Follows a worker's log and appends its whole new lines, but MindSpore's own log lines,
    to this process's stdout.

    Only what is written after it is made: a log that is there already is an earlier launch's
    (not yet kept aside, or made anew by msrun), whose lines are already in train.log."""

    def __init__(self, source: Path, fallback: Path):
        self.source, self.fallback = source, fallback
        self.file: tuple[int, int] | None  # (device, inode): the file being followed
        try:
            info = os.stat(source)
            self.offset, self.file = info.st_size, (info.st_dev, info.st_ino)
        except OSError:
            self.offset, self.file = 0, None

    def pump(self, final: bool = False) -> None:
        """Copy the whole lines added since the last pump (`final`: the unterminated rest too)."""
        try:
            with open(self.source, "rb") as handle:
                info = os.fstat(handle.fileno())
                file = (info.st_dev, info.st_ino)
                if file != self.file or info.st_size < self.offset:  # made anew, or truncated
                    self.offset, self.file = 0, file
                handle.seek(self.offset)
                chunk = handle.read()
        except OSError:
            return
        if not final:
            chunk = chunk[: chunk.rfind(b"\n") + 1]
        self.offset += len(chunk)
        chunk = b"".join(line for line in chunk.splitlines(keepends=True) if not _MINDSPORE_LOG.match(line))
        try:
            _write_all(chunk)
        except OSError:  # a terminal that hung up: the rest goes to train.log
            terminal.redirect_output(self.fallback, "output gone")
            _write_all(chunk)


def _write_all(data: bytes) -> None:
    while data:
        data = data[os.write(1, data) :]


# ---------------------------------------------------------------- processes and logs


def _children(ppid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_bytes()
            except OSError:
                continue
            if int(stat.rsplit(b")", 1)[1].split()[1]) == ppid:
                found.append(int(entry))
    return found


def _environ(pid: int) -> dict[str, str]:
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return {}
    pairs = (item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
    return {k.decode(errors="replace"): v.decode(errors="replace") for k, v in pairs}


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def _blocks(pid: int, signum: int) -> bool:
    """True when `pid` blocks `signum` (a worker that reached signals.hold_stop_signals: a stop
    sent now is kept for its trainer; sent earlier, Python would raise KeyboardInterrupt)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True  # gone, or not ours to read: sending is harmless either way
    mask = next((line.split()[1] for line in status.splitlines() if line.startswith("SigBlk:")), "0")
    return bool(int(mask, 16) >> (signum - 1) & 1)


def _killpg(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _how(exit_code: int) -> str:
    if exit_code < 0:
        return f"was killed by {signal.Signals(-exit_code).name}"
    return f"exited with status {exit_code}"


# msrun's own words for the first worker it saw fail, and for its scheduler failing
_FAILURE = re.compile(rb"Worker process (\d+) exit with exception\. Error code: (-?\d+)")
_SCHEDULER_FAILED = re.compile(rb"Scheduler process \d+ exit with exception")
_ERROR_LINE = re.compile(r"^(?:[A-Za-z_][\w.]*(?:Error|Exception)|error): .+")


def _read_from(log: Path, start: int) -> bytes:
    """What a log gained after `start` (this launch's part of msrun.log)."""
    try:
        with open(log, "rb") as handle:
            handle.seek(start)
            return handle.read()
    except OSError:
        return b""


def _last_error(log: Path) -> str:
    """The last `SomethingError: ...` (or `error: ...`) line of a log, or ''."""
    try:
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    return one_line(next((line for line in reversed(lines) if _ERROR_LINE.match(line.strip())), ""))
