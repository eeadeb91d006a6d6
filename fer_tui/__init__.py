"""fer-tui's Textual dashboard. Never imports mindspore: it reads run directories and sidecars."""
