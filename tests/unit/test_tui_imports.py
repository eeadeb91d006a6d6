"""The TUI never loads mindspore or the training loop (first paint must stay fast)."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import sys
import fer_tui.app, fer_tui.entry
from fer_tui.screens import checkpoints, compare, confirm, file_picker, help, run, runs, save_preset, train
from fer_tui import infer_job, jobs
from fer_tui.widgets import ckpt_table, face_image, inference_table
bad = sorted(m for m in sys.modules if m.split('.')[0] == 'mindspore' or m.startswith('fer_core.train'))
print(','.join(bad))
"""


def test_importing_every_tui_module_loads_no_mindspore():
    result = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "", f"the TUI imported: {result.stdout.strip()}"
