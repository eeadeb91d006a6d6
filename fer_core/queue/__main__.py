"""`python -m fer_core.queue QUEUE_FOLDER [--parallel N]`: the detached queue runner."""

import sys

from fer_core.queue.runner import main

sys.exit(main())
