"""fer-tui widgets, one module each."""
