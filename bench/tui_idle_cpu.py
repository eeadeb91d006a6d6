"""CPU the dashboard burns while it watches a live run (it should be near zero).

    .venv/bin/python bench/tui_idle_cpu.py [--seconds 20]

Starts tests/fake_trainer.py as a detached run (status.json rewritten ~3x a second, a metrics
line every 3 s: busier than a real CPU run), opens fer-tui on it (headless, 80x24) in a child
process, and prints that process's CPU seconds over the watch window, with the Train screen
idle as a baseline. The trainer's own CPU is not counted.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

WATCH = r"""
import asyncio, resource, sys, time
from pathlib import Path
from fer_tui.app import FerApp

seconds, run_dir = float(sys.argv[1]), sys.argv[2]

def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime

async def main():
    app = FerApp(reattach=False)
    async with app.run_test(size=(80, 24)) as pilot:
        if run_dir != "-":
            app.open_run(Path(run_dir))
        await pilot.pause(1.0)  # settle: first paint and first reads are not idle
        start_cpu, start = cpu(), time.monotonic()
        await asyncio.sleep(seconds)
        used, wall = cpu() - start_cpu, time.monotonic() - start
        points = getattr(app.screen.query("#acc-chart").first(), "point_count", 0) if run_dir != "-" else 0
        print(f"{used:.3f} {wall:.2f} {points}")

asyncio.run(main())
"""


def watch(seconds: float, run_dir: str, env: dict) -> tuple[float, float, int]:
    out = subprocess.run(
        [sys.executable, "-c", WATCH, str(seconds), run_dir], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if out.returncode:
        sys.exit(f"watcher failed:\n{out.stderr}")
    used, wall, points = out.stdout.split()
    return float(used), float(wall), int(points)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "FER_TUI_CHECKPOINTS": str(Path(tmp) / "checkpoints"),
            "FER_TUI_USER_PRESETS": str(Path(tmp) / "presets"),
            "FER_TUI_TRAINER": f"{sys.executable} {ROOT / 'tests' / 'fake_trainer.py'}",
            "FAKE_TRAINER_EPOCH_SECONDS": "3",
        }
        os.environ.update(env)
        from fer_core import config
        from fer_core.runs import launcher, rundir

        base = config.load_preset("demo").config.model_copy(update={"epochs": 1000, "patience": 0})
        run_dir = rundir.create_run(base, "demo")
        pid = launcher.launch_detached(run_dir)
        try:
            idle_used, idle_wall, _ = watch(args.seconds, "-", env)
            used, wall, points = watch(args.seconds, str(run_dir), env)
        finally:
            os.killpg(pid, signal.SIGKILL)
    print(
        f"Train screen, nothing to watch : {idle_used:6.3f} CPU s in {idle_wall:.1f} s "
        f"= {100 * idle_used / idle_wall:.1f}% of one core"
    )
    print(
        f"Run screen, watching a live run: {used:6.3f} CPU s in {wall:.1f} s "
        f"= {100 * used / wall:.1f}% of one core ({points} epochs charted)"
    )


if __name__ == "__main__":
    main()
