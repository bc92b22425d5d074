"""The control maps every method is scored beside: what a map scores without asking the model.

- `random` ranks pixels by chance: the floor a method must beat on every measure.
- `brightness` ranks them by the tile's mean reflectance over bands. Removing bright pixels
  first already changes what any classifier of reflectance sees, so a method that does no
  better than brightness (or ranks pixels like it) explains the image, not the model.

They are not registry methods: they explain nothing, and only the evaluation draws them.
"""
import torch

from core.models.model_file import LoadedModel
from core.models.preprocess import UnitSpace

RANDOM = "random"
BRIGHTNESS = "brightness"
CONTROLS = (RANDOM, BRIGHTNESS)


def random_map(shape: tuple[int, int, int], generator: torch.Generator) -> torch.Tensor:
    """(N, H, W) uniform noise from `generator`: the same seed draws the same map."""
    return torch.rand(shape, generator=generator)


def brightness_map(x: torch.Tensor, loaded: LoadedModel) -> torch.Tensor:
    """(N, H, W) mean reflectance over bands (physical units, within the card's clip range).

    Args:
        x: (N, C, H, W) standardised model input.
        loaded: the classifier whose card says how `x` was standardised.
    """
    space = UnitSpace(loaded.card, x.device)
    return space.to_physical(space.from_input(x)).mean(dim=1)
