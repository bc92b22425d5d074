"""Architectures a model file may name; loading builds only what is listed here.

Names map to "module:class" strings, imported only when a network is built, so reading a
model card (core.models.card) checks the name without loading torch.
"""
import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from torch import nn

ARCHITECTURES: dict[str, str] = {
    "naturalness_fcn": "core.models.classifier:NaturalnessFCN",
    "repaint_pattern_generators": "core.models.generator:PatternGenerators",
    "unet_segmenter": "core.models.unet:UNetSegmenter",
    "jem_wide_resnet": "core.models.wide_resnet:JEMWideResNet",
    "jem_hybrid": "core.models.hybrid_jem:HybridJEM",
}

# What each architecture is for, so a model given where another kind belongs is refused by name, not by a crash.
KINDS: dict[str, str] = {
    "naturalness_fcn": "classifier",
    "repaint_pattern_generators": "generators",
    "unet_segmenter": "segmenter",
    "jem_wide_resnet": "classifier",
    "jem_hybrid": "classifier",
}


def build_architecture(name: str, arch_args: dict[str, Any]) -> "nn.Module":
    """A fresh network of the registered architecture `name`, built with `arch_args`."""
    module, _, cls = ARCHITECTURES[name].partition(":")
    return getattr(importlib.import_module(module), cls)(**arch_args)
