"""JEM training's score term: denoising score matching over a ladder of noise levels, for annealed sampling.

JEM's own objective (SGLD samples against data) left a network whose chains from noise stayed
noise (README, `core sample`). Denoising score matching at many noise levels (Song & Ermon's
NCSN) fits the gradient of log p(x, y) on noisy copies of the data at every scale from coarse
layout to fine texture, which is what annealed Langevin dynamics (core.jem.annealed) walks down.
The network is told the level (core.models.hybrid_jem) and its gradient follows NCSNv2's rule,
score(x, sigma) = grad f(x, sigma)[y] / sigma (Song & Ermon, 2020), so the target of grad f at
x + sigma * eps is -eps whatever sigma is, and the term is ||grad f(x + sigma * eps)[y] + eps||^2
over the pixels: 1 when the gradient does nothing. Each sample's share is weighted by 1 + sigma^2
(EDM's weight for data of unit std, Karras et al. 2022, normalised to mean 1): the residual's floor
at level sigma is about 1 / (1 + sigma^2), and unweighted the top of the ladder, where a chain from
pure noise starts, counted for little.

A chain falls behind its ladder: where the fit is loose, it still holds more noise than the level
it is at. Trained only on noise of exactly the level it is told, a network told sigma removes at
most about sigma of noise, so a chain that lags keeps its extra noise to the end (a probe of the
first sigma-told JEM, 7 epochs: from pure noise the chains' 3 x 3 high-pass stuck at 1.1 in
standardised units where real patches have 0.1). So in SLACK_SHARE of each batch the noise is
drawn up to SLACK_MAX times the level the network is told, and the target is all of it in units
of the told level, (actual / told) * eps: sigma times the score of the data noised at the told
level, at a point farther from the data than that level reaches (Ning et al. 2023 perturb the
inputs of diffusion training against the same exposure bias). Those samples' residuals are
divided by (actual / told)^2, so that 1 still means the gradient does nothing.

The levels are in the classifier's standardised input (each band has std 1 over the training
data): the noise then buries every band alike, where in reflectance the same sigma drowned the
visible bands (std ~0.02) long before the infrared (~0.1).
"""
import math

import torch
from torch import nn

from core.models.hybrid_jem import SIGMA_MIN

# The top of the noise ladder (standardised units): the data's structure is gone (the band values'
# std is 1), so pure noise of this std is close to the data noised at this level, where a chain
# can start. Its bottom, SIGMA_MIN, is below the finest texture.
SIGMA_MAX = 5.0
# The share of each batch noised above its told level, and the most it is (log-uniform from 1).
SLACK_SHARE = 0.5
SLACK_MAX = 3.0
# The range edm_denoising_loss holds its log-normal levels to: the tails beyond teach nothing a chain uses.
EDM_LEVELS = (0.005, 40.0)


def noise_levels(n: int, generator: torch.Generator, sigma_max: float = SIGMA_MAX,
                 sigma_min: float = SIGMA_MIN) -> torch.Tensor:
    """(n,) noise levels drawn log-uniformly between sigma_min and sigma_max, so every scale gets its share."""
    share = torch.rand(n, generator=generator)
    return torch.exp(math.log(sigma_min) + share * (math.log(sigma_max) - math.log(sigma_min)))


# What the network's noise prediction is: "energy", minus the gradient of f(x, sigma)[y], which
# annealed chains then follow exactly; or "denoiser", (x - r(x, sigma)) / sigma from the energy's
# U-Net r (core.models.hybrid_jem), Tweedie's formula, which needs one backward pass where the
# energy's needs two. On held-out patches after ~800 steps each, Tweedie's step with r trained as a
# denoiser left an RMSE of 0.13 at sigma 0.3 and 0.25 at 0.8, the energy's gradient trained as
# such 0.19 and 0.40 (out of 0.3 and 0.8): the denoiser learns far faster on two CPU cores. Its
# chains follow r's score, which is that of log p only as far as r's Jacobian is symmetric.
SCORE_FORMS = ("energy", "denoiser")


def score_residual(network: nn.Module, x: torch.Tensor, labels: torch.Tensor, generator: torch.Generator,
                   sigma_max: float = SIGMA_MAX, sigma_min: float = SIGMA_MIN,
                   slack_share: float = SLACK_SHARE, form: str = "energy") -> torch.Tensor:
    """The term: the weighted mean squared error of the network's noise prediction at x + slack * sigma * eps, told
    sigma, as a prediction of slack * eps, relative to slack^2.

    Args:
        network: the JEM (a core.models.hybrid_jem.HybridJEM for "denoiser"), returning (B, K) tile logits of a
            standardised input at a (B, 1, 1, 1) noise level (not wrapped by DDP: the term differentiates its
            input gradient).
        x: (B, C, H, W) standardised data.
        labels: (B,) class indices: the gradient fitted is that of log p(x, y), which samples class y.
        generator: draws the levels and the noise.
        sigma_max: the top of the ladder.
        sigma_min: its bottom.
        slack_share: the share of the batch noised above its told level (0 measures the fit at the levels alone).
        form: one of SCORE_FORMS.

    Returns:
        A differentiable scalar, 1 when the prediction is 0.
    """
    sigma = noise_levels(len(x), generator, sigma_max, sigma_min).to(x.device)[:, None, None, None]
    lagging = torch.rand(len(x), generator=generator) < slack_share
    slack = torch.where(lagging, noise_levels(len(x), generator, SLACK_MAX, 1.0), torch.ones(len(x)))
    slack = slack.to(x.device)[:, None, None, None]
    eps = torch.randn(x.shape, generator=generator).to(x.device)
    noisy = (x + slack * sigma * eps).detach()
    if form == "denoiser":
        predicted = (noisy - network.denoised(noisy, sigma)) / sigma
    else:
        noisy.requires_grad_(True)
        joint = network(noisy, sigma).gather(1, labels[:, None]).sum()
        predicted = -torch.autograd.grad(joint, noisy, create_graph=True)[0]
    weight = sigma.flatten() ** 2 + 1
    residual = (predicted - slack * eps).div(slack).pow(2).flatten(1).mean(dim=1)
    return (residual * weight).sum() / weight.sum()


def edm_denoising_loss(network: nn.Module, clean: torch.Tensor, generator: torch.Generator, p_mean: float,
                       p_std: float, label: torch.Tensor | None = None) -> torch.Tensor:
    """Karras et al.'s (EDM, 2022) denoising loss for data of unit std: the weighted squared error of the network's
    denoised estimate at a log-normal noise level, which the long fit of the energy (train/trainers/energy.py) uses.

    The levels are log-normal around exp(p_mean), where the layout of a patch is decided, not log-uniform as in
    score_residual; the weight (1 + sigma^2) / sigma^2 gives every level an error of unit scale.

    Args:
        network: a core.models.hybrid_jem.HybridJEM (its `denoised`).
        clean: (B, C, H, W) standardised data.
        generator: draws the levels and the noise (on the CPU, so a run is the same on any device).
        p_mean: the mean of log sigma.
        p_std: its std.
        label: (B,) the class the U-Net is told for each patch (-1: none); None for a U-Net told no class.

    Returns:
        A differentiable scalar.
    """
    sigma = (torch.randn(len(clean), generator=generator) * p_std + p_mean).exp().clamp(*EDM_LEVELS)
    sigma = sigma[:, None, None, None].to(clean.device)
    noisy = clean + sigma * torch.randn(clean.shape, generator=generator).to(clean.device)
    weight = (sigma ** 2 + 1) / sigma ** 2
    return (weight * (network.denoised(noisy, sigma, label) - clean) ** 2).mean()
