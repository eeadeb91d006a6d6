"""`FastBatchNormReLU`: nn.BatchNorm2d followed by ReLU, trained through one MindSpore AOT
custom operator each way (bn_relu.cc), and `use_fast_bn_relu` to swap such pairs in a net.

It subclasses nn.BatchNorm2d, so gamma, beta, moving_mean and moving_variance are the same
Parameters under the same names and every checkpoint loads unchanged. In training it normalises
with the batch statistics and updates the moving ones exactly as MindSpore's BatchNorm does
(new = 0.9 * old + 0.1 * batch, the unbiased variance; computed in the kernel); in eval it is the stock
BatchNorm on the moving statistics, then ReLU.
"""

from __future__ import annotations

from functools import cache

import mindspore as ms
import mindspore.nn as nn
import mindspore.ops as ops

from fer_core.kernels import fast_conv
from fer_core.kernels import library as kernels


@cache
def _op() -> ops.Custom:
    """The forward Custom op (y, batch mean, biased batch variance) with its bprop."""
    library = kernels.path()
    if isinstance(library, str):
        raise RuntimeError(library)
    backward = ops.Custom(
        f"{library}:BnReluBackward",
        lambda dy, x, y, g, m, v: (list(x), list(g), list(g)),
        lambda dy, x, y, g, m, v: (dy, dy, dy),
        func_type="aot",
    )

    def bprop(
        x: ms.Tensor,
        gamma: ms.Tensor,
        beta: ms.Tensor,
        moving_mean: ms.Tensor,
        moving_var: ms.Tensor,
        out: tuple[ms.Tensor, ...],
        dout: tuple[ms.Tensor, ...],
    ) -> tuple[ms.Tensor, ...]:
        y, mean, var = out[0], out[1], out[2]
        # the statistics only feed the moving averages (no gradient): dout[1:] is ignored
        dx, dgamma, dbeta = backward(dout[0], x, y, gamma, mean, var)
        return dx, dgamma, dbeta, ops.zeros_like(moving_mean), ops.zeros_like(moving_var)

    shapes = lambda x, g, b, m, v: (list(x), list(g), list(g), list(g), list(g))  # noqa: E731
    return ops.Custom(f"{library}:BnReluForward", shapes, lambda x, g, b, m, v: (x,) * 5, func_type="aot", bprop=bprop)


class FastBatchNormReLU(nn.BatchNorm2d):
    """relu(BatchNorm2d(x)) on our kernel in training, stock in eval (same parameters)."""

    def __init__(self, num_features: int):
        super().__init__(num_features, eps=1e-5, momentum=0.9)  # bn_relu.cc's constants
        self.fast = _op()
        self.relu = ops.ReLU()

    def construct(self, x: ms.Tensor) -> ms.Tensor:
        if not self.training:
            return self.relu(self.bn_infer(x, self.gamma, self.beta, self.moving_mean, self.moving_variance)[0])
        # index the outputs used (unpacking all five makes MindSpore warn, in every run's log,
        # that it dropped the unused batch-statistics outputs)
        out = self.fast(x, self.gamma, self.beta, self.moving_mean, self.moving_variance)
        ops.assign(self.moving_mean, out[3])
        ops.assign(self.moving_variance, out[4])
        return out[0]


def _eligible(bn: nn.Cell, relu: nn.Cell) -> bool:
    """A stock BatchNorm2d (affine, eps 1e-5, momentum 0.9, batch statistics in training) right
    before a ReLU: what bn_relu.cc computes."""
    return (
        type(bn) is nn.BatchNorm2d
        and type(relu) is nn.ReLU
        and bn.gamma.requires_grad
        and abs(bn.eps - 1e-5) < 1e-12
        and abs(bn.momentum - 0.1) < 1e-6
        and bn.use_batch_statistics is None
        and getattr(bn, "format", "NCHW") == "NCHW"
    )


def use_fast_bn_relu(net: nn.Cell) -> int:
    """Swap every BatchNorm2d → ReLU pair inside a SequentialCell for a FastBatchNormReLU holding
    the same Parameters (names unchanged) and an Identity; returns how many pairs. The kernels
    must be available (`library.available()`)."""
    swapped = 0
    for _, parent in list(net.cells_and_names()):
        if not isinstance(parent, nn.SequentialCell):
            continue
        cells = list(parent)
        for index in range(len(cells) - 1):
            bn, relu = cells[index], cells[index + 1]
            if not _eligible(bn, relu):
                continue
            keys = list(parent._cells)  # noqa: SLF001 - MindSpore keeps children here
            fast = FastBatchNormReLU(bn.num_features)
            fast_conv.swap_cell(parent, keys[index], bn, fast, ("gamma", "beta", "moving_mean", "moving_variance"))
            fast_conv.swap_cell(parent, keys[index + 1], relu, nn.Identity(), ())
            cells[index], cells[index + 1] = fast, parent[index + 1]
            swapped += 1
    return swapped
