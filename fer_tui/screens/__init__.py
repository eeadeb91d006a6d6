"""fer-tui screens and modals, one module each."""
