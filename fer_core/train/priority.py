"""A detached trainer keeps the niceness it was started with.

A detached run leads a session of its own (so a hang-up never reaches it), and Linux's
autogroup scheduler shares the CPU between sessions before niceness counts: `nice -n 19
fer-tui train --detach` trained at full weight beside the user's shell. The session gets the
process's niceness, as the user asked.
"""

from __future__ import annotations

import os
from pathlib import Path

AUTOGROUP = Path("/proc/self/autogroup")  # Linux with CONFIG_SCHED_AUTOGROUP; absent elsewhere


def keep_niceness() -> None:
    """Give this process's session (its autogroup) the process's niceness, if it has one."""
    try:
        niceness = os.nice(0)
        if niceness > 0 and AUTOGROUP.exists():
            AUTOGROUP.write_text(f"{niceness}\n")
    except OSError:  # no autogroup, or not allowed: the run goes on at the kernel's default
        pass
