"""`python -m fer_core.train RUN_DIR [--resume]`: the detached trainer's entry point."""

# Before numpy starts a thread that could take a signal (fer_core.signals): the loop's
# imports come after.
from fer_core.signals import block_stop_signals

block_stop_signals()

import sys  # noqa: E402

from fer_core.train.loop import main  # noqa: E402
from fer_core.train.priority import keep_niceness  # noqa: E402

keep_niceness()
sys.exit(main())
