"""The run queue: entries (one file each, `entries.py`), worked by one detached runner
(`runner.py`, `python -m fer_core.queue`), filled by `fer-tui queue add`, sweeps (`sweep.py`)
and the Train form. Nothing here imports mindspore: the dashboard reads the queue with it."""
