"""JEM training's score term: denoising score matching over a ladder of noise levels, for annealed sampling.

JEM's own objective (SGLD samples against data) left a network whose chains from noise stayed
noise (README, `core sample`). Denoising score matching at many noise levels (Song & Ermon's
NCSN) fits the gradient of log p(x, y) on noisy copies of the data at every scale from coarse
layout to fine texture, which is what annealed Langevin dynamics (core.jem.annealed) walks down.
One network serves every level by NCSNv2's rule, score(x, sigma) = grad f(x)[y] / sigma
(Song & Ermon, 2020), so the target of grad f at x + sigma * eps is -eps whatever sigma is, and the
term is ||grad f(x + sigma * eps)[y] + eps||^2 over the pixels: 1 when the gradient does nothing.

The levels are in the classifier's standardised input (each band has std 1 over the training
data): the noise then buries every band alike, where in reflectance the same sigma drowned the
visible bands (std ~0.02) long before the infrared (~0.1).
"""
import math

import torch
from torch import nn

# The noise ladder (standardised units): at the top the data's structure is gone (the band values'
# std is 1), at the bottom the noise is below the finest texture (~0.25 in the visible bands).
SIGMA_MAX = 2.0
SIGMA_MIN = 0.02


def noise_levels(n: int, generator: torch.Generator, sigma_max: float = SIGMA_MAX,
                 sigma_min: float = SIGMA_MIN) -> torch.Tensor:
    """(n,) noise levels drawn log-uniformly between sigma_min and sigma_max, so every scale gets its share."""
    share = torch.rand(n, generator=generator)
    return torch.exp(math.log(sigma_min) + share * (math.log(sigma_max) - math.log(sigma_min)))


def score_residual(network: nn.Module, x: torch.Tensor, labels: torch.Tensor, generator: torch.Generator,
                   sigma_max: float = SIGMA_MAX, sigma_min: float = SIGMA_MIN) -> torch.Tensor:
    """The term: the mean squared error of grad f(x + sigma * eps)[y] as a prediction of -eps.

    Args:
        network: the classifier, returning (B, K) tile logits of a standardised input (not wrapped
            by DDP: the term differentiates its input gradient).
        x: (B, C, H, W) standardised data.
        labels: (B,) class indices: the gradient fitted is that of log p(x, y), which samples class y.
        generator: draws the levels and the noise.
        sigma_max: the top of the ladder.
        sigma_min: its bottom.

    Returns:
        A differentiable scalar, 1 when the gradient is 0.
    """
    sigma = noise_levels(len(x), generator, sigma_max, sigma_min).to(x.device)[:, None, None, None]
    eps = torch.randn(x.shape, generator=generator).to(x.device)
    noisy = (x + sigma * eps).detach().requires_grad_(True)
    joint = network(noisy).gather(1, labels[:, None]).sum()
    grad, = torch.autograd.grad(joint, noisy, create_graph=True)
    return (grad + eps).pow(2).mean()
