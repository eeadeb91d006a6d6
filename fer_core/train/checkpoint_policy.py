"""What a run keeps on disk, decided in one place (as timm's CheckpointSaver): the training loop
says what happened, the policy says what to write.

- `best_model.ckpt` on every new best validation accuracy;
- `fer-<epoch>_<steps>.ckpt` after each epoch, the newest `keep_checkpoints` kept;
- `last_state.ckpt` (weights, optimizer moments, progress, RNG, history) after each epoch and
  on stop, so a resume can continue exactly;
- `final_model.ckpt` at the end.
Every file has its sidecar and is written atomically (fer_core.ckpt.io).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from fer_core.ckpt.io import save_train_state, save_weights
from fer_core.ckpt.sidecar import Sidecar, portable_data
from fer_core.config import TrainConfig
from fer_core.runs import rundir

if TYPE_CHECKING:
    from mindspore import nn


class CheckpointPolicy:
    def __init__(self, run_dir: Path, config: TrainConfig, run_id: str | None):
        self.run_dir, self.config = Path(run_dir), config
        data_name, data_sha256 = portable_data(config.data_csv)  # once a run: the file is hashed here
        self.stamp = Sidecar(
            arch=config.arch,
            config_hash=config.digest(),
            config={**config.model_dump(), "data_csv": data_name},
            data_sha256=data_sha256,
            run_id=run_id,
        )

    def sidecar(self, epoch: int, val_acc: float | None = None, step: int | None = None) -> Sidecar:
        """What every checkpoint of this run says, and where training stood."""
        return self.stamp.evolve(epoch=epoch, val_acc=val_acc, step=step)

    def end_of_epoch(
        self,
        net: nn.Cell,
        optimizer: nn.Optimizer,
        epoch: int,
        steps: int,
        val_acc: float,
        is_best: bool,
        state: dict[str, Any],
    ) -> None:
        info = self.sidecar(epoch=epoch, val_acc=val_acc, step=epoch * steps)
        if is_best:
            save_weights(net, self.run_dir / rundir.BEST, info)
        self._periodic(net, epoch, steps, info)
        self.save_state(net, optimizer, state)

    def save_state(self, net: nn.Cell, optimizer: nn.Optimizer, state: dict[str, Any]) -> None:
        """`state`: epoch, best_val_acc, best_epoch, patience_left, rng_state, history."""
        save_train_state(net, optimizer, self.run_dir / rundir.LAST_STATE, state, self.sidecar(epoch=state["epoch"]))

    def finish(self, net: nn.Cell, epoch: int, val_acc: float | None) -> None:
        save_weights(net, self.run_dir / rundir.FINAL, self.sidecar(epoch=epoch, val_acc=val_acc))

    def _periodic(self, net: nn.Cell, epoch: int, steps: int, info: Sidecar) -> None:
        keep = self.config.keep_checkpoints
        if keep <= 0:
            return
        save_weights(net, self.run_dir / f"fer-{epoch}_{steps}.ckpt", info)
        periodic = sorted(self.run_dir.glob("fer-*_*.ckpt"), key=lambda p: int(p.stem[4:].split("_")[0]))
        for old in periodic[:-keep]:
            old.unlink(missing_ok=True)
            old.with_suffix(".json").unlink(missing_ok=True)
