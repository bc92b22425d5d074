"""Architectures a model file may name; loading builds only what is listed here."""
from typing import Callable

from torch import nn

from core.models.classifier import NaturalnessFCN
from core.models.generator import PatternGenerators

ARCHITECTURES: dict[str, Callable[..., nn.Module]] = {
    "naturalness_fcn": NaturalnessFCN,
    "pattern_generators": PatternGenerators,
}
