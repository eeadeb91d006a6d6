"""`FastConv2d`: nn.Conv2d (3×3, pad 1, no bias) whose forward and both gradients run as
MindSpore AOT custom operators on oneDNN 3 (conv3x3.cc), and `conv3x3` to make one.

It subclasses nn.Conv2d, so the parameter is the same `weight` of shape (out, in, 3, 3) and
every checkpoint loads unchanged. When the kernels cannot be built, `conv3x3` returns the stock
nn.Conv2d and says why once.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import mindspore as ms
import mindspore.nn as nn
import mindspore.ops as ops

from fer_core.kernels import library as kernels

if TYPE_CHECKING:
    from mindspore.common.initializer import Initializer


def _out_size(size: int, stride: int) -> int:
    return (size + 2 - 3) // stride + 1


@cache
def _ops(stride: int, split_backward: bool = False) -> ops.Custom:
    """The forward Custom op for a stride, with its bprop: one op for both gradients, or
    (split_backward, kept to measure against) separate backward-data and -weights ops."""
    library = kernels.path()
    if not isinstance(library, Path):
        raise RuntimeError(library)

    def op(name: str, out_shape: Callable[..., list[int]]) -> ops.Custom:
        return ops.Custom(f"{library}:{name}S{stride}", out_shape, lambda *types: types[0], func_type="aot")

    def backward_data_shape(dy: list[int], w: list[int], x: list[int]) -> list[int]:
        return list(x)

    def backward_weights_shape(dy: list[int], x: list[int]) -> list[int]:
        return [dy[1], x[1], 3, 3]

    def backward_shape(dy: list[int], w: list[int], x: list[int]) -> tuple[list[int], list[int]]:
        return list(x), list(w)

    if split_backward:
        backward_data = op("ConvBackwardData", backward_data_shape)
        backward_weights = op("ConvBackwardWeights", backward_weights_shape)

        def bprop(x: ms.Tensor, w: ms.Tensor, out: ms.Tensor, dout: ms.Tensor) -> tuple[ms.Tensor, ms.Tensor]:
            return backward_data(dout, w, x), backward_weights(dout, x)
    else:
        # one op for both gradients: dy is reordered to oneDNN's layout once, not twice
        backward = ops.Custom(
            f"{library}:ConvBackwardS{stride}", backward_shape, lambda dy, w, x: (dy, dy), func_type="aot"
        )

        def bprop(x: ms.Tensor, w: ms.Tensor, out: ms.Tensor, dout: ms.Tensor) -> tuple[ms.Tensor, ms.Tensor]:
            dx, dw = backward(dout, w, x)
            return dx, dw

    def forward_shape(x: list[int], w: list[int]) -> list[int]:
        return [x[0], w[0], _out_size(x[2], stride), _out_size(x[3], stride)]

    return ops.Custom(f"{library}:ConvForwardS{stride}", forward_shape, lambda x, w: x, func_type="aot", bprop=bprop)


class FastConv2d(nn.Conv2d):
    """A 3×3, padding-1, bias-free nn.Conv2d on our kernels (same parameters as the stock one)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        stride: int = 1,
        weight_init: ms.Tensor | str | Initializer | float | None = None,
        split_backward: bool = False,
    ):
        kwargs = {} if weight_init is None else {"weight_init": weight_init}
        super().__init__(
            in_channels, out_channels, 3, stride=stride, pad_mode="pad", padding=1, has_bias=False, **kwargs
        )
        if stride not in (1, 2):
            raise ValueError(f"FastConv2d supports strides 1 and 2, not {stride}")
        self.fast = _ops(stride, split_backward)

    def construct(self, x: ms.Tensor) -> ms.Tensor:
        return self.fast(x, self.weight)


def conv3x3(in_channels: int, out_channels: int, stride: int = 1, fast: bool = True) -> nn.Conv2d:
    """A 3×3 pad-1 bias-free convolution: ours when asked and available, else stock (said once)."""
    if fast and stride in (1, 2):
        if kernels.available():
            return FastConv2d(in_channels, out_channels, stride)
        kernels.say_unavailable_once()
    return nn.Conv2d(in_channels, out_channels, 3, stride=stride, pad_mode="pad", padding=1, has_bias=False)


def _eligible(cell: nn.Cell) -> bool:
    """A stock nn.Conv2d that FastConv2d computes exactly (3×3, pad 1, stride 1/2, no bias)."""
    if type(cell) is not nn.Conv2d:  # a subclass (FastConv2d included) may compute otherwise
        return False
    padding = cell.padding if isinstance(cell.padding, tuple) else (cell.padding,) * 4
    return (
        tuple(cell.kernel_size) == (3, 3)
        and cell.pad_mode == "pad"
        and padding == (1, 1, 1, 1)
        and tuple(cell.stride) in ((1, 1), (2, 2))
        and tuple(cell.dilation) == (1, 1)
        and cell.group == 1
        and not cell.has_bias
    )


def use_fast_convs(net: nn.Cell) -> int:
    """Swap every eligible nn.Conv2d in `net` for a FastConv2d holding the same Parameter (so
    names, values and checkpoints are unchanged); returns how many were swapped (0 and said
    once when the kernels are unavailable)."""
    if not kernels.available():
        kernels.say_unavailable_once()
        return 0
    swapped = 0
    for _, parent in list(net.cells_and_names()):
        for key, child in list(parent._cells.items()):  # noqa: SLF001 - MindSpore keeps children here
            if child is None or not _eligible(child):
                continue
            swap_cell(
                parent, key, child, FastConv2d(child.in_channels, child.out_channels, child.stride[0]), ("weight",)
            )
            swapped += 1
    return swapped


def swap_cell(parent: nn.Cell, key: str, old: nn.Cell, new: nn.Cell, shared: tuple[str, ...]) -> None:
    """Put `new` in `old`'s place under `parent`, holding `old`'s Parameters (`shared`) under
    their names, so the network's parameter names, values and checkpoints are unchanged."""
    names = {attr: getattr(old, attr).name for attr in shared}
    for attr in shared:
        setattr(new, attr, getattr(old, attr))  # the same Parameter objects
    if isinstance(parent, (nn.SequentialCell, nn.CellList)):
        parent[list(parent._cells).index(key)] = new  # noqa: SLF001 - refreshes its cell_list
    else:
        setattr(parent, key, new)
    for attr, name in names.items():
        getattr(new, attr).name = name  # the containers rename them relative to themselves
