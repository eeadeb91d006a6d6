"""Put fer-tui's kernels into a built network: the one call the trainer and the benches make."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fer_core.kernels import fast_conv, library
from fer_core.kernels.fast_bn_relu import use_fast_bn_relu

if TYPE_CHECKING:
    from mindspore import nn


def use_fast_kernels(net: nn.Cell) -> str:
    """Swap the network's eligible convolutions and BatchNorm→ReLU pairs for ours (same
    Parameters, so checkpoints keep the stock layout); returns the line the log shows."""
    convs = fast_conv.use_fast_convs(net)  # says once why not, when the kernels are unavailable
    pairs = use_fast_bn_relu(net) if library.available() else 0
    return f"Fast kernels: {convs} of the network's convolutions, {pairs} BatchNorm+ReLU pairs"
