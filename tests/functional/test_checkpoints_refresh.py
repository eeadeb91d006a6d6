"""Checkpoints screen while a run trains: new and rewritten checkpoints show without a key.

Kept apart from test_checkpoints_screen.py, whose module fixture trains a real model.
"""

from __future__ import annotations

from fer_core.ckpt import sidecar
from fer_tui.widgets.ckpt_table import CkptTable

from .checkpoints_pilot import FIXED_RUN, on_checkpoints
from .conftest import wait_for


def cell(table: CkptTable, path, column: str) -> str:
    return str(table.get_cell(str(path), column))


class TestRefresh:
    async def test_a_rewritten_and_a_new_checkpoint_show_without_a_key(self, root):
        async with on_checkpoints(root, select_best=False) as (app, pilot, screen, best):
            table = screen.query_one(CkptTable)
            await wait_for(pilot, lambda: table.row_count == 5)
            assert cell(table, best, "epoch") == "6"
            # the trainer saves a better epoch: new bytes, new sidecar; and a periodic checkpoint
            best.write_bytes(best.read_bytes())
            sidecar.write_sidecar(best, sidecar.read_sidecar(best).evolve(epoch=7, val_acc=0.6123))
            periodic = best.with_name("fer-7_10.ckpt")
            periodic.write_bytes(best.read_bytes())
            await wait_for(pilot, lambda: table.row_count == 6, timeout=15)
            await wait_for(pilot, lambda: cell(table, best, "epoch") == "7", timeout=15)
            assert cell(table, best, "val_acc") == "61.23%"  # two decimals, as every table

    async def test_the_run_column_keeps_the_time_and_preset_not_the_date(self, root):
        async with on_checkpoints(root, select_best=False) as (app, pilot, screen, best):
            table = screen.query_one(CkptTable)
            await wait_for(pilot, lambda: table.row_count == 5)
            runs = {cell(table, key, "run") for key in table.infos}
            assert runs == {FIXED_RUN[9:], "120000-cpu-basic"}  # 20251224-120000-cpu-basic
