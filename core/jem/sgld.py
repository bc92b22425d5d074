"""Stochastic gradient Langevin dynamics in unit space: JEM's sampler, trainer and inpainter.

SGLD climbs log p(x) with a fixed step and adds Gaussian noise: x <- x + a * grad + s * N(0, 1)
(JEM: 20 steps, a = 1, s = 0.01). It runs in the card's unit space ([0, 1] per band, see
core.models.preprocess.UnitSpace), where uniform noise is a sensible start and clamping keeps
every sample a possible image. A mask limits the walk to some pixels; the rest stay the
exact starting values, which is what inpainting needs.
"""
import dataclasses
from typing import Callable

import torch

# log p(x) (B,) of a unit-space batch, differentiable with respect to it.
LogDensity = Callable[[torch.Tensor], torch.Tensor]


@dataclasses.dataclass(frozen=True)
class SGLDSettings:
    """JEM's defaults: 20 steps of size 1 with noise 0.01."""

    steps: int = 20
    step_size: float = 1.0
    noise: float = 0.01


def sgld(log_density: LogDensity, start: torch.Tensor, settings: SGLDSettings = SGLDSettings(),
         mask: torch.Tensor | None = None, generator: torch.Generator | None = None) -> torch.Tensor:
    """Run SGLD from `start` and return the detached samples, clamped to [0, 1].

    Args:
        log_density: unit-space batch -> (B,) log p(x); its parameters are not updated.
        start: (B, C, H, W) unit-space starting points.
        settings: steps, step size and noise.
        mask: optional boolean, broadcastable to `start`; only True entries move, the others
            keep their starting values bit for bit.
        generator: for reproducible noise (a CPU generator; the noise is moved to start's device).

    Returns:
        (B, C, H, W) samples.
    """
    x = start.detach().clone()
    for _ in range(settings.steps):
        x.requires_grad_(True)
        grad, = torch.autograd.grad(log_density(x).sum(), x)
        noise = torch.randn(x.shape, generator=generator).to(x.device)
        step = (x + settings.step_size * grad + settings.noise * noise).clamp(0.0, 1.0)
        x = (step if mask is None else torch.where(mask, step, start)).detach()
    return x
