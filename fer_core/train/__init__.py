"""Training: the loop (`python -m fer_core.train RUN_DIR`), what it reports, which checkpoints
it keeps, how it waits for a step, signals and a full disk; `parallel/` runs it under msrun."""
