"""`python -m fer_core.cli VERB …`, the same as `fer-tui VERB …`."""

import sys

from fer_core.cli.main import main

sys.exit(main())
