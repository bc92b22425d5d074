"""The one interface every explanation method implements, in Captum's shape.

An Explainer is built from a loaded model and answers `attribute(x, target)` with a
non-negative (B, 1, H, W) importance map shaped like the input. `maps(x)` adds any other
per-pixel outputs a method has (the CycleGAN's enhanced images), so the pipeline writes
every method's results through the same tiler and blending.
"""
import abc
from typing import Any, ClassVar

import torch
from torch import nn

from core.models.model_file import LoadedModel


class NaturalLogit(nn.Module):
    """The classifier as one logit per tile: log-odds of the natural classes against the rest.

    With one natural class out of two this is l_natural - l_other, linear in the logits, so
    gradient methods see exactly the classifier's evidence for "natural".
    """

    def __init__(self, network: nn.Module, natural_indices: list[int], num_classes: int) -> None:
        super().__init__()
        self.network = network
        self.natural_indices = list(natural_indices)
        self.register_buffer("natural", torch.zeros(num_classes, dtype=torch.bool), persistent=False)
        self.natural[natural_indices] = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1) natural log-odds."""
        logits = self.network(x)
        return (torch.logsumexp(logits[:, self.natural], dim=1) - torch.logsumexp(logits[:, ~self.natural], dim=1))[:, None]


class Explainer(abc.ABC):
    """Base of every method: `name` is its registry key and output-file suffix."""

    name: ClassVar[str]
    description: ClassVar[str]

    def __init__(self, model: LoadedModel, options: Any = None) -> None:
        """`options`: the method's settings dataclass (core.explain.method_options), its defaults when None."""
        from core.explain.registry import METHODS

        self.model = model
        self.options = options if options is not None else METHODS[self.name].options()

    @abc.abstractmethod
    def attribute(self, x: torch.Tensor, target: torch.Tensor | None = None) -> torch.Tensor:
        """(B, 1, H, W) non-negative importance of each pixel for the verdict.

        Args:
            x: (B, C, H, W) model input (scaled and standardised, as the card says).
            target: optional (B,) class index per sample whose evidence is explained; None
                explains each tile's predicted class, so an anthropogenic verdict is explained too.
        """

    def explained_class(self, x: torch.Tensor, target: torch.Tensor | None) -> torch.Tensor:
        """(B,) the class each tile's map explains: `target`, or the tile's predicted class."""
        if target is not None:
            return target
        with torch.no_grad():
            return self.model.network(x).argmax(dim=1)

    def output_bands(self) -> dict[str, list[str]]:
        """Band descriptions of every output `maps` returns, by output name, in the same order."""
        return {f"attribution_{self.name}": [f"attribution_{self.name}"]}

    def maps(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Every per-pixel output of the method by output name (file stem); (B, C', H, W) each."""
        return {f"attribution_{self.name}": self.attribute(x)}
