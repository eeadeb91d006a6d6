"""`fer-tui queue [list|add|start|resume|stop|remove|clear]`: runs one after another, in a
detached runner that outlives the terminal (fer_core.queue)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from fer_core import config as cfg
from fer_core import table as table_format
from fer_core.cli.commands import check_data_exists, train
from fer_core.errors import ConfigError
from fer_core.queue import runner
from fer_core.queue.entries import ENDED, Queue, QueueEntry
from fer_core.runs import launcher, rundir
from fer_core.runs.columns import accuracy_text
from fer_core.table import Column
from fer_core.text import counted, shown
from fer_core.train.parallel import msrun


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="queue_action", metavar="ACTION")
    sub.add_parser("list", help="every entry: state, run, best val acc (the default)")
    add = sub.add_parser("add", help="queue a run: the same flags as `fer-tui train`")
    train.add_arguments(add, detach=False)  # one set of flags, validated by train.resolve_config as a run is
    add.add_argument("--start", action="store_true", help="start the runner too (if it is not working)")
    add.add_argument("--detach", nargs=0, action=_AlwaysDetached, help=argparse.SUPPRESS)
    for name, text in (("start", "start the runner (does nothing if one works)"), ("resume", "the same as start")):
        start = sub.add_parser(name, help=text)
        start.add_argument("--parallel", type=int, default=1, metavar="N", help="runs at once (default 1)")
        start.add_argument("--force", action="store_true", help="more runs at once than cores")
    stop = sub.add_parser("stop", help="stop the runner after its current run(s)")
    stop.add_argument("--now", action="store_true", help="stop the current run(s) too (they resume at the next start)")
    remove = sub.add_parser("remove", help="forget an entry that is not running (its run folder stays)")
    remove.add_argument("ids", nargs="+", type=int, metavar="ID", help="entry numbers, as `fer-tui queue` lists them")
    sub.add_parser("clear", help="forget every entry that is not running")
    move = sub.add_parser("move", help="change the order: put a queued entry at a place (1: next)")
    move.add_argument("id", type=int, metavar="ID", help="the entry's number, as `fer-tui queue` lists it")
    move.add_argument("position", type=int, metavar="PLACE", help="1 starts it next (places start at 1)")


class _AlwaysDetached(argparse.Action):
    """`train`'s --detach given to `queue add`: said plainly, not 'did you mean --arch?'."""

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        parser.error("--detach is not needed: queued runs always run detached")


def run(args: argparse.Namespace) -> int:
    queue = Queue.of_root()
    action = args.queue_action or "list"
    if action == "list":
        return show(queue)
    if action == "add":
        return add(queue, args)
    if action in ("start", "resume"):
        return start(queue, args.parallel, args.force)
    if action == "stop":
        pid = runner.request_stop(queue, now=args.now)
        if pid is None:
            print("no runner works this queue")
        else:
            what = (
                "stops its runs now (they save last_state.ckpt) and ends"
                if args.now
                else "ends after its current run(s)"
            )
            print(f"runner pid {pid} {what}")
        return 0
    if action == "remove":
        for entry_id in args.ids:
            queue.remove(entry_id)
            print(f"removed #{entry_id}")
        return 0
    if action == "move":
        order = queue.move(args.id, args.position)
        print("queued, in the order they start: " + ", ".join(f"#{e.id}" for e in order))
        return 0
    gone = queue.clear()
    running = len(queue.entries())
    print(f"cleared {counted(len(gone), 'entry', 'entries')}" + (f"; {running} running kept" if running else ""))
    return 0


def start(queue: Queue, parallel: int = 1, force: bool = False) -> int:
    pid, started = runner.start_runner(queue, parallel, force)
    waiting = sum(e.state == "queued" for e in queue.entries())
    if started:
        print(f"runner started (pid {pid}) on {waiting} queued run(s); it keeps going after you log out")
        print(shown(f"watch it: fer-tui queue   |   tail -f {queue.folder / runner.LOG}"))
    else:
        print(f"the runner (pid {pid}) already works this queue ({waiting} queued)")
    return 0


def entry_fields(args: argparse.Namespace) -> dict:
    """A queue entry from `train`'s flags, checked as `fer-tui train` checks a run (the data
    file must exist; it is decoded when the run starts)."""
    if args.resume:
        run_dir = train.resumable_run(args)
        status = rundir.read_status(run_dir)
        return {
            "preset": (status.preset if status else None) or "custom",
            "config": rundir.read_config(run_dir).model_dump(),
            "run_dir": str(run_dir.resolve()),
            "label": f"resume {run_dir.name}",
        }
    config, preset = train.resolve_config(args)
    launch = train.launch_settings(args, msrun.Launch())
    if launch.nodes > 1:
        raise ConfigError("--nodes: a queue runs on this machine only; start multi-node runs with fer-tui train")
    launcher.check_device(config.device_target)
    msrun.check(config, launch, args.force)
    check_data_exists(config.data_csv)
    if config.data_csv != cfg.DEMO_DATA:
        data = Path(config.data_csv).expanduser()
        # the runner may start it from another folder than this one
        config = cfg.make_config({**config.model_dump(), "data_csv": str(data.resolve())})
    try:
        diff = {k: ab for k, ab in cfg.load_preset(preset).config.diff(config).items() if k != "save_dir"}
        if "data_csv" in diff and _same_data(*diff["data_csv"]):  # the preset's path, made absolute
            del diff["data_csv"]
        label = ", ".join(f"{k} {_v(a, k)}→{_v(b, k)}" for k, (a, b) in diff.items())
    except ConfigError:  # --config FILE: no preset to differ from
        label = ""
    return {
        "preset": preset,
        "config": config.model_dump(),
        "launch": vars(launch),
        "force": bool(args.force),
        "label": label or "as the preset",
    }


def _v(value: object, field: str = "") -> str:
    if field == "data_csv" and value != cfg.DEMO_DATA:
        return Path(str(value)).name  # the file, not its folder: the column is narrow
    return f"{value:g}" if isinstance(value, float) else str(value)


def _same_data(a: object, b: object) -> bool:
    if cfg.DEMO_DATA in (a, b):
        return a == b
    return Path(str(a)).expanduser().resolve() == Path(str(b)).expanduser().resolve()


def add(queue: Queue, args: argparse.Namespace) -> int:
    (entry,) = queue.add([entry_fields(args)])
    print(shown(f"queued #{entry.id}: {entry.preset} ({entry.label})"))  # a --config file's name, a run's
    if args.start:
        return start(queue)
    if runner.runner_pid(queue) is None:
        print("start the runner: fer-tui queue start")
    return 0


def best_text(entry: QueueEntry) -> str:
    status = entry.run_status()
    return accuracy_text(status.best_val_acc if status else None)  # 20.71%, as `runs` prints it


def run_text(entry: QueueEntry, date: str = "") -> str:
    if not entry.run_dir:
        return "-"
    name = table_format.without_date(Path(entry.run_dir).name, date)
    status = entry.run_status()
    if entry.state == "running" and status is not None:
        return f"{name} (epoch {status.epoch}/{status.epochs or '?'})"
    return name


def show(queue: Queue, width: int | None = None) -> int:
    """Every entry, fitted to `width` (default: the terminal's; not a terminal: whole rows)."""
    # in the order things happen: what ran or runs (by id), then what waits (in start order)
    entries = [e for e in queue.entries() if e.state != "queued"] + queue.waiting()
    for problem in queue.problems():
        print(shown(problem))
    pid = runner.runner_pid(queue)
    print(f"runner: working (pid {pid})" if pid else "runner: not running (fer-tui queue start)")
    if not entries:
        print(f"the queue is empty ({shown(queue.folder)})")
        return 0
    width = width or table_format.terminal_width()
    date = table_format.common_date([Path(e.run_dir).name for e in entries if e.run_dir]) if width else ""
    columns = [
        Column("id", right=True, keep=True),
        Column("state", keep=True),
        Column("preset", drop=2, min_width=8),
        Column("setting", drop=1, min_width=12),
        Column(table_format.date_header("run", date), keep=True, min_width=16, cut="run"),
        Column("best val", right=True, keep=True),
    ]
    rows = [
        [str(e.id), e.state, shown(e.preset), shown(e.label), shown(run_text(e, date)), best_text(e)] for e in entries
    ]
    header, *lines = table_format.fit(columns, rows, width)
    print(header)
    for entry, line in zip(entries, lines):
        print(line)
        if entry.state in ("failed", "cancelled") and entry.message:
            print("\n".join(table_format.note(shown(entry.message), width, "      └ ")))
    done = sum(e.state in ENDED for e in entries)
    print(f"{done} of {len(entries)} ended; {time.strftime('%H:%M:%S')}")
    return 0
