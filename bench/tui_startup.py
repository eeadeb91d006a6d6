"""How fast fer-tui paints: import time in a fresh interpreter and time to first paint.

    .venv/bin/python bench/tui_startup.py [--repeat 5]

Prints the median of each figure and checks that mindspore was never imported.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# One fresh interpreter per sample: the clock starts before `import fer_tui.app` and stops
# when the app's first screen has been composed and painted (on_mount -> call_after_refresh).
FIRST_PAINT = r"""
import time, sys
t0 = time.perf_counter()
import fer_tui.app as app_module
t_import = time.perf_counter() - t0

class Probe(app_module.FerApp):
    def on_mount(self):
        super().on_mount()
        self.call_after_refresh(self.painted)
    def painted(self):
        self.first_paint = time.perf_counter() - t0
        self.exit()

async def main():
    app = Probe()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
    return app

import asyncio
app = asyncio.run(main())
bad = [m for m in sys.modules if m.split('.')[0] == 'mindspore' or m.startswith('fer_core.train')]
print(f"{t_import:.4f} {app.first_paint:.4f} {int(bool(bad))}")
"""


def sample(code: str, env: dict) -> str:
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env)
    if result.returncode:
        sys.exit(f"sample failed:\n{result.stderr}")
    return result.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "FER_TUI_CHECKPOINTS": str(Path(tmp) / "checkpoints"),
            "FER_TUI_USER_PRESETS": str(Path(tmp) / "presets"),
        }
        plain = []
        for _ in range(args.repeat):
            out = sample("import time; t=time.perf_counter(); import fer_tui.app; print(time.perf_counter()-t)", env)
            plain.append(float(out))
        imports, paints, leaks = [], [], 0
        for _ in range(args.repeat):
            t_import, t_paint, bad = sample(FIRST_PAINT, env).split()
            imports.append(float(t_import))
            paints.append(float(t_paint))
            leaks += int(bad)
    print(
        f"python -c 'import fer_tui.app'     median {statistics.median(plain) * 1000:7.1f} ms "
        f"(min {min(plain) * 1000:.1f}, n={len(plain)})"
    )
    print(
        f"first paint (import + Train screen) median {statistics.median(paints) * 1000:7.1f} ms "
        f"(max {max(paints) * 1000:.1f}, n={len(paints)})"
    )
    print(f"mindspore imported: {'YES' if leaks else 'no'}")
    if leaks or statistics.median(paints) > 1.0:
        sys.exit(1)


if __name__ == "__main__":
    main()
