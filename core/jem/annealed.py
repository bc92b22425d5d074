"""Sampling down a noise ladder, for a JEM trained with the score term (train/score_term.py).

Such a JEM's score at noise level sigma is grad f(x, sigma)[y] / sigma (NCSNv2's rule; the network
is told the level, core.models.hybrid_jem), so one network walks a chain down a ladder of levels.
Annealed Langevin dynamics takes at each level one Langevin corrector step with its size set by a
signal-to-noise ratio, then the reverse-diffusion predictor to the next level (Song et al., 2021,
the predictor-corrector sampler of the variance-exploding SDE), and at the last a step to the
posterior mean (Tweedie's formula) that removes the remaining noise. (The probability-flow ODE by
Heun's method, Karras et al.'s deterministic sampler, 40 levels from pure noise, left natural
samples of the bundled generative JEM's energy, probed 2,000 steps into `train energy`, with 1.5
times real water's fine detail and anthropogenic ones with a KID of 8.8; this chain 0.95 and 2.3.)
The corrector's step is at most
sigma^2: the density at level sigma curves by about 1 / sigma^2 across the data, so a longer step
overshoots it, and a score that underestimates the noise (a level the network fits poorly) would
otherwise get a step that grows without bound and a chain that blows up. It runs in the classifier's
standardised input, where the ladder was trained.
"""
import dataclasses
from typing import Callable

import numpy as np
import torch

# f(x, sigma)[y] (B,) of a standardised batch at noise level sigma, differentiable with respect to it.
LogJoint = Callable[[torch.Tensor, float], torch.Tensor]
# sigma times the score of a standardised batch at noise level sigma, (B, C, H, W): grad f(x, sigma)[y]
# (energy_slope), or for a JEM whose U-Net was fitted as a denoiser, Tweedie's (r(x, sigma) - x) / sigma
# guided by the classifier (core.sample).
Slope = Callable[[torch.Tensor, float], torch.Tensor]


@dataclasses.dataclass(frozen=True)
class AnnealedSettings:
    """The ladder (the card's, from training) and the chain's settings.

    Attributes:
        sigma_max: the top noise level, the std of the noise the chain starts in.
        sigma_min: the bottom level.
        levels: levels on the ladder, spaced geometrically.
        snr: the corrector's signal-to-noise ratio (Song et al.'s 0.16 on CIFAR-10).
    """

    sigma_max: float
    sigma_min: float
    levels: int = 100
    snr: float = 0.16

    @property
    def evaluations(self) -> int:
        """Gradient evaluations per chain: a corrector and a predictor per level."""
        return 2 * self.levels


def energy_slope(log_joint: LogJoint) -> Slope:
    """The slope of a JEM whose energy's gradient was fitted: grad f(x, sigma)[y], by autograd."""
    def slope(x: torch.Tensor, sigma: float) -> torch.Tensor:
        x = x.detach().requires_grad_(True)
        grad, = torch.autograd.grad(log_joint(x, sigma).sum(), x)
        return grad

    return slope


def _per_sample_norm(t: torch.Tensor) -> torch.Tensor:
    return t.flatten(1).norm(dim=1)[:, None, None, None]


def annealed_langevin(slope: Slope, shape: tuple[int, ...], settings: AnnealedSettings,
                      generator: torch.Generator, device: torch.device | str = "cpu",
                      start: torch.Tensor | None = None) -> torch.Tensor:
    """Draw samples of `shape` (B, C, H, W) in standardised input units, starting from `start` + N(0, sigma_max^2).

    Args:
        slope: sigma times the class's score at noise level sigma.
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
        score, z = slope(x, sigma).detach() / sigma, noise()
        step = (2 * (settings.snr * _per_sample_norm(z) / _per_sample_norm(score).clamp_min(1e-12)) ** 2
                ).clamp_max(sigma ** 2)
        x = x + step * score + (2 * step).sqrt() * z
        drop = sigma ** 2 - below ** 2
        x = x + drop / sigma * slope(x, sigma).detach()
        if below > 0:
            x = x + (drop ** 0.5 * below / sigma) * noise()
    return x.detach()

