"""Annealed Langevin sampling down a noise ladder, for a JEM trained with the score term (train/score_term.py).

Such a JEM's gradient at noise level sigma is grad f(x)[y] / sigma (NCSNv2's rule), so one network
walks a chain down a ladder of levels: at each, one Langevin corrector step with its size set by
a signal-to-noise ratio, then the reverse-diffusion predictor to the next level (Song et al., 2021,
the predictor-corrector sampler of the variance-exploding SDE), and at the last a step to the
posterior mean (Tweedie's formula) that removes the remaining noise. The corrector's step is at most
sigma^2: the density at level sigma curves by about 1 / sigma^2 across the data, so a longer step
overshoots it, and a score that underestimates the noise (a level the network fits poorly) would
otherwise get a step that grows without bound and a chain that blows up (a network probed on
branch wip/sigma-told-jem reached a step of 165 at sigma 0.02). It runs in the classifier's
standardised input, where the ladder was trained.
"""
import dataclasses
from typing import Callable

import numpy as np
import torch

# f(x)[y] (B,) of a standardised batch, differentiable with respect to it.
LogJoint = Callable[[torch.Tensor], torch.Tensor]


@dataclasses.dataclass(frozen=True)
class AnnealedSettings:
    """The ladder (the card's, from training) and the chain's settings.

    Attributes:
        sigma_max: the top noise level, the std of the noise the chain starts in.
        sigma_min: the bottom level.
        levels: levels on the ladder, spaced geometrically.
        snr: the corrector's signal-to-noise ratio (Song et al.'s 0.16 on CIFAR-10; with the bundled generative JEM
            0.1 and 0.05 left more grain, 300 levels no less).
    """

    sigma_max: float
    sigma_min: float
    levels: int = 100
    snr: float = 0.16

    @property
    def evaluations(self) -> int:
        """Gradient evaluations per chain: a corrector and a predictor per level."""
        return 2 * self.levels


def _gradient(log_joint: LogJoint, x: torch.Tensor) -> torch.Tensor:
    x = x.detach().requires_grad_(True)
    grad, = torch.autograd.grad(log_joint(x).sum(), x)
    return grad


def _per_sample_norm(t: torch.Tensor) -> torch.Tensor:
    return t.flatten(1).norm(dim=1)[:, None, None, None]


def annealed_langevin(log_joint: LogJoint, shape: tuple[int, ...], settings: AnnealedSettings,
                      generator: torch.Generator, device: torch.device | str = "cpu",
                      start: torch.Tensor | None = None) -> torch.Tensor:
    """Draw samples of `shape` (B, C, H, W) in standardised input units, starting from `start` + N(0, sigma_max^2).

    Args:
        log_joint: the class's logit f(x)[y] of a standardised batch.
        shape: (B, C, H, W).
        settings: the ladder and the chain.
        generator: a CPU generator for the start and every step's noise.
        device: where the chain runs.
        start: (B, C, H, W) what the first noise is added to (the band means, 0, when None).

    Returns:
        (B, C, H, W) detached samples.
    """
    sigmas = np.geomspace(settings.sigma_max, settings.sigma_min, settings.levels).tolist() + [0.0]

    def noise() -> torch.Tensor:
        return torch.randn(shape, generator=generator).to(device)

    x = settings.sigma_max * noise() + (0 if start is None else start.to(device))
    for sigma, below in zip(sigmas[:-1], sigmas[1:]):
        score, z = _gradient(log_joint, x) / sigma, noise()
        step = (2 * (settings.snr * _per_sample_norm(z) / _per_sample_norm(score).clamp_min(1e-12)) ** 2
                ).clamp_max(sigma ** 2)
        x = x + step * score + (2 * step).sqrt() * z
        drop = sigma ** 2 - below ** 2
        x = x + drop / sigma * _gradient(log_joint, x)
        if below > 0:
            x = x + (drop ** 0.5 * below / sigma) * noise()
    return x.detach()
