"""The model registry. Importing this package is cheap: mindspore loads in `build_model`."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mindspore import nn

# name -> "module:function", imported only when the model is built
ARCHITECTURES: dict[str, str] = {
    # 4 conv layers (3 strided), ~61 k parameters: the synthetic demo and tests
    "tiny_cnn": "fer_core.models.cnn:tiny_cnn",
    # full-resolution VGG, 8 convs at 48→3 pixels, ~1.18 M parameters: the CPU presets
    "fer_vgg": "fer_core.models.cnn:fer_vgg",
    # VGG-style CNN with a stride-4 stem, ~1.2 M parameters: the first CPU model
    "fer_cnn": "fer_core.models.cnn:fer_cnn",
    # ResNet-18 with squeeze-excitation and spatial attention: the GPU presets
    "resnet18_attn": "fer_core.models.resnet:resnet18_attn",
}


def build_model(name: str, num_classes: int = 7) -> nn.Cell:
    """Build a fresh MindSpore network of a registered architecture."""
    module_name, function = ARCHITECTURES[name].split(":")
    return getattr(import_module(module_name), function)(num_classes=num_classes)
