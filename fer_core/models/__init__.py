"""The model registry. Importing this package is cheap: mindspore loads in `build_model`."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module


@dataclass(frozen=True)
class ArchInfo:
    name: str
    description: str
    params: int  # trainable + BatchNorm statistics, as stored in a weights checkpoint
    factory: str  # "module:function", imported only when the model is built


ARCHITECTURES: dict[str, ArchInfo] = {
    info.name: info
    for info in (
        ArchInfo("tiny_cnn", "4 strided conv layers, ~61 k parameters: the synthetic demo and tests",
                 61_207, "fer_core.models.cnn:tiny_cnn"),
        ArchInfo("fer_vgg", "Full-resolution VGG, 8 convs at 48→3 pixels, ~1.18 M parameters: the CPU presets",
                 1_176_359, "fer_core.models.cnn:fer_vgg"),
        ArchInfo("fer_cnn", "VGG-style CNN with a stride-4 stem, ~1.2 M parameters: the first CPU model",
                 1_167_879, "fer_core.models.cnn:fer_cnn"),
        ArchInfo("resnet18_attn", "ResNet-18 with squeeze-excitation and spatial attention: the GPU presets",
                 11_433_807, "fer_core.models.resnet:resnet18_attn"),
    )
}


def build_model(name: str, num_classes: int = 7):
    """Build a fresh MindSpore network of a registered architecture."""
    info = ARCHITECTURES[name]
    module_name, function = info.factory.split(":")
    return getattr(import_module(module_name), function)(num_classes=num_classes)
