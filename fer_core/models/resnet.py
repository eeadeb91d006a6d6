"""ResNet-18 with squeeze-excitation and spatial attention, for 48×48 grayscale faces.

The parameter names and shapes are those of the classic FER2013 ResNet-18 checkpoints
(11,433,807 parameters), so those checkpoints load: `conv1`, `bn1`, `layer{1..4}.{0,1}.…`
with `channel_attention.fc.{0,2}`, `spatial_attention.conv`, `downsample.{0,1}`, and the
head `classifier.{0,1,4,5,8}`.
"""

from __future__ import annotations

import mindspore as ms
import mindspore.nn as nn
import mindspore.ops as ops

from fer_core.models.cnn import global_average_pool


def conv3x3(c_in: int, c_out: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(c_in, c_out, 3, stride=stride, pad_mode="pad", padding=1, has_bias=False)


class ChannelAttention(nn.Cell):
    """Squeeze-excitation: global average pool, bottleneck MLP, sigmoid gate per channel."""

    def __init__(self, channels: int, reduction: int = 16):
        super().__init__()
        self.fc = nn.SequentialCell(
            [
                nn.Dense(channels, channels // reduction),
                nn.ReLU(),
                nn.Dense(channels // reduction, channels),
                nn.Sigmoid(),
            ]
        )

    def construct(self, x: ms.Tensor) -> ms.Tensor:
        weights = self.fc(global_average_pool(x))
        return x * weights.reshape(weights.shape[0], weights.shape[1], 1, 1)


class SpatialAttention(nn.Cell):
    """A 7×7 conv over [mean, max] across channels, sigmoid gate per position."""

    def __init__(self, kernel_size: int = 7):
        super().__init__()
        self.conv = nn.Conv2d(2, 1, kernel_size, pad_mode="pad", padding=kernel_size // 2, has_bias=False)

    def construct(self, x: ms.Tensor) -> ms.Tensor:
        pooled = ops.concat((x.mean(axis=1, keep_dims=True), x.max(axis=1, keepdims=True)), axis=1)
        return x * ops.sigmoid(self.conv(pooled))


class BasicBlock(nn.Cell):
    def __init__(self, c_in: int, c_out: int, stride: int = 1):
        super().__init__()
        self.conv1 = conv3x3(c_in, c_out, stride)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = conv3x3(c_out, c_out)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.relu = nn.ReLU()
        self.channel_attention = ChannelAttention(c_out)
        self.spatial_attention = SpatialAttention()
        self.downsample = None
        if stride != 1 or c_in != c_out:
            self.downsample = nn.SequentialCell(
                [nn.Conv2d(c_in, c_out, 1, stride=stride, has_bias=False), nn.BatchNorm2d(c_out)]
            )

    def construct(self, x: ms.Tensor) -> ms.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out = self.spatial_attention(self.channel_attention(out))
        return self.relu(out + identity)


class ResNet18Attention(nn.Cell):
    def __init__(self, num_classes: int = 7, dropout: float = 0.5):
        super().__init__()
        self.conv1 = conv3x3(1, 64)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU()
        self.layer1 = self._stage(64, 64, 1)
        self.layer2 = self._stage(64, 128, 2)
        self.layer3 = self._stage(128, 256, 2)
        self.layer4 = self._stage(256, 512, 2)
        self.classifier = nn.SequentialCell(
            [
                nn.Dense(512, 256),
                nn.BatchNorm1d(256),
                nn.ReLU(),
                nn.Dropout(p=dropout),
                nn.Dense(256, 128),
                nn.BatchNorm1d(128),
                nn.ReLU(),
                nn.Dropout(p=dropout),
                nn.Dense(128, num_classes),
            ]
        )

    @staticmethod
    def _stage(c_in: int, c_out: int, stride: int) -> nn.SequentialCell:
        return nn.SequentialCell([BasicBlock(c_in, c_out, stride), BasicBlock(c_out, c_out)])

    def construct(self, x: ms.Tensor) -> ms.Tensor:
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.classifier(global_average_pool(x))


def resnet18_attn(num_classes: int = 7) -> nn.Cell:
    return ResNet18Attention(num_classes)
