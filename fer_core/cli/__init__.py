"""`fer-tui VERB …`: the dispatcher (main) and one module per verb (commands/)."""
