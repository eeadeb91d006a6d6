"""A row-cursor DataTable keyed by path, refilled without losing the cursor's row."""

from __future__ import annotations

from textual.widgets import DataTable


class KeyedTable(DataTable):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)

    def current_key(self) -> str | None:
        if not self.row_count:
            return None
        try:
            return str(self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value)
        except Exception:  # noqa: BLE001 - an empty or shrinking table has no current row
            return None

    def refill(self, rows: list[tuple[str, tuple]]) -> None:
        """Replace every row; the cursor stays on the same key if it is still there."""
        current = self.current_key()
        self.clear()
        for key, cells in rows:
            self.add_row(*cells, key=key)
        if current in {key for key, _ in rows}:
            self.move_cursor(row=self.get_row_index(current))
