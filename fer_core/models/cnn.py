"""Plain convolutional networks for 48×48 grayscale faces (the CPU and demo models)."""

from __future__ import annotations

import mindspore as ms
import mindspore.nn as nn
import mindspore.ops as ops


def conv_bn_relu(c_in: int, c_out: int, stride: int = 1) -> list[nn.Cell]:
    return [
        nn.Conv2d(c_in, c_out, 3, stride=stride, pad_mode="pad", padding=1, has_bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(),
    ]


def global_average_pool(x: ms.Tensor) -> ms.Tensor:
    """(B, C, H, W) -> (B, C): the mean of each map, as a matmul with a constant 1/(H·W) column.

    The same numbers as ops.mean(x, (2, 3)), but its gradient is one MatMul: mean's (a Tile
    and a division) cost MindSpore 2.8 on CPU 3–4 ms more a step at batch 128
    (bench/global_pool.py).
    """
    b, c, h, w = x.shape
    return ops.matmul(x.reshape(b, c, h * w), ops.ones((h * w, 1), x.dtype) / (h * w)).reshape(b, c)


class SpaceToDepth(nn.Cell):
    """(B, C, H, W) -> (B, 4C, H/2, W/2): every 2×2 patch becomes 4 channels, losslessly."""

    def construct(self, x: ms.Tensor) -> ms.Tensor:
        b, c, h, w = x.shape
        x = x.reshape(b, c, h // 2, 2, w // 2, 2).transpose(0, 1, 3, 5, 2, 4)
        return x.reshape(b, c * 4, h // 2, w // 2)


class ConvNet(nn.Cell):
    """3×3 conv-BN-ReLU layers from a compact spec, global average pool, dropout + dense.

    Spec tokens: `c64` a conv with 64 channels, `c64s2` the same with stride 2, `p` a 2×2
    max-pool, `d` space-to-depth (2×2 pixels to 4 channels). Strided convs downsample here because MindSpore 2.8's CPU weight-gradient
    kernel is several times slower on large feature maps than on small ones (bench/).
    """

    def __init__(self, spec: str, num_classes: int = 7, dropout: float = 0.3):
        super().__init__()
        layers: list[nn.Cell] = []
        c_in = 1
        for token in spec.split():
            if token == "d":
                layers.append(SpaceToDepth())
                c_in *= 4
                continue
            if token == "p":
                layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
                continue
            width, _, stride = token[1:].partition("s")
            layers += conv_bn_relu(c_in, int(width), int(stride or 1))
            c_in = int(width)
        self.features = nn.SequentialCell(layers)
        self.classifier = nn.SequentialCell([nn.Dropout(p=dropout), nn.Dense(c_in, num_classes)])

    def construct(self, x: ms.Tensor) -> ms.Tensor:
        x = self.features(x)
        x = global_average_pool(x)
        return self.classifier(x)


def tiny_cnn(num_classes: int = 7) -> nn.Cell:
    """~61 k parameters: learns the synthetic demo set in a minute on 2 cores."""
    return ConvNet("c16s2 c32s2 c64s2 c64", num_classes, dropout=0.1)


def fer_cnn(num_classes: int = 7) -> nn.Cell:
    """VGG-style, ~1.2 M parameters (< 5 MB), a stride-4 stem: the first CPU presets.

    The stem (space-to-depth, then a strided conv) is a 6×6, stride-4 patch embedding:
    1.5× faster to train on 2 cores than a 3×3 conv on the full 48×48 image (bench/).
    """
    return ConvNet("d c32s2 c64 c64 c128s2 c128 c256s2 c256", num_classes, dropout=0.4)


def fer_vgg(num_classes: int = 7) -> nn.Cell:
    """Full-resolution VGG, ~1.18 M parameters (< 5 MB): the CPU presets.

    Four stages of two 3×3 conv-BN-ReLU (32, 64, 128, 256 channels), a 2×2 max-pool after
    each (48→24→12→6→3). Its first convs see every pixel, which fer_cnn's strided stem does
    not; with the engine's waiting thread MindSpore trains it at PyTorch's speed (bench/).
    """
    return ConvNet("c32 c32 p c64 c64 p c128 c128 p c256 c256 p", num_classes, dropout=0.3)
