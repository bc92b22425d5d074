"""Annealed Langevin sampling and the score term on energies whose scores are known exactly."""
import math

import torch
from torch import nn

from core.jem.annealed import AnnealedSettings, annealed_langevin, energy_slope
from train.score_term import noise_levels, score_residual

SHAPE = (8, 3, 16, 16)
D = math.prod(SHAPE[1:])


class DistanceEnergy(nn.Module):
    """f(x, sigma) = -scale * ||x - mu||^2 / (2 sigma), two identical logits: sigma times log p of the point mu
    noised at sigma, so grad f = -(x - mu) / sigma: at x = mu + slack * sigma * eps exactly -slack * eps, the target
    of the score term (scale 1)."""

    def __init__(self, mu: torch.Tensor, scale: float = 1.0) -> None:
        super().__init__()
        self.mu, self.scale = mu, scale

    def forward(self, x: torch.Tensor, sigma: float | torch.Tensor) -> torch.Tensor:
        sigma = torch.as_tensor(sigma).flatten()
        energy = -self.scale * (x - self.mu).flatten(1).pow(2).sum(dim=1) / (2 * sigma)
        return torch.stack([energy, energy], dim=1)


def test_score_residual_is_0_for_the_exact_score_and_1_for_none() -> None:
    mu = torch.full(SHAPE, 0.3)
    labels = torch.zeros(SHAPE[0], dtype=torch.long)
    exact = score_residual(DistanceEnergy(mu), mu, labels, torch.Generator().manual_seed(0))
    flat = score_residual(DistanceEnergy(mu, 0.0), mu, labels, torch.Generator().manual_seed(0))
    half = score_residual(DistanceEnergy(mu, 0.5), mu, labels, torch.Generator().manual_seed(0))
    exact, flat, half = (float(term.detach()) for term in (exact, flat, half))
    assert exact < 0.01 and abs(flat - 1) < 0.05 and abs(half - 0.25) < 0.02


class PointDenoiser(nn.Module):
    """r(x, sigma) = mu whatever the input: the exact denoiser of data at the point mu."""

    def __init__(self, mu: torch.Tensor) -> None:
        super().__init__()
        self.mu = mu

    def denoised(self, x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        return self.mu.expand_as(x)


def test_the_denoiser_form_fits_tweedies_noise_prediction() -> None:
    mu = torch.full(SHAPE, 0.3)
    labels = torch.zeros(SHAPE[0], dtype=torch.long)
    exact = score_residual(PointDenoiser(mu), mu, labels, torch.Generator().manual_seed(0), form="denoiser")
    lazy = score_residual(PointDenoiser(mu + 1), mu, labels, torch.Generator().manual_seed(0), form="denoiser")
    assert float(exact) < 1e-6 < 1 < float(lazy)


def test_noise_levels_cover_the_ladder_log_uniformly() -> None:
    levels = noise_levels(20000, torch.Generator().manual_seed(0), 2.0, 0.02)
    assert 0.02 <= float(levels.min()) and float(levels.max()) <= 2.0
    assert abs(float(levels.log().median()) - math.log(0.2)) < 0.05  # the ladder's geometric middle


def test_annealed_chains_from_noise_land_on_the_data() -> None:
    mu = torch.linspace(-1, 1, D).reshape(SHAPE[1:])
    settings = AnnealedSettings(sigma_max=2.0, sigma_min=0.02, levels=30)
    network = DistanceEnergy(mu)
    slope = energy_slope(lambda x, sigma: network(x, sigma)[:, 0])
    samples = annealed_langevin(slope, SHAPE, settings, torch.Generator().manual_seed(0))
    start = 2.0 * torch.randn(SHAPE, generator=torch.Generator().manual_seed(0))
    assert float((samples - mu).pow(2).mean().sqrt()) < 0.01 < float((start - mu).pow(2).mean().sqrt())
    assert settings.evaluations == 60


def test_a_chain_started_near_the_data_in_little_noise_lands_on_it_too() -> None:
    """The start core sample gives it: a rough guess (here mu plus a smooth offset) drowned in noise of sigma_max."""
    mu = torch.linspace(-1, 1, D).reshape(SHAPE[1:])
    network = DistanceEnergy(mu)
    guess = mu + 0.3 * torch.ones(SHAPE)
    slope = energy_slope(lambda x, sigma: network(x, sigma)[:, 0])
    samples = annealed_langevin(slope, SHAPE, AnnealedSettings(0.8, 0.02, 20), torch.Generator().manual_seed(1),
                                start=guess)
    assert float((samples - mu).pow(2).mean().sqrt()) < 0.01


def test_a_chain_on_a_flat_energy_stays_finite() -> None:
    """A score of 0 (a level the network never learned) would get an unbounded corrector step; it is held to sigma^2."""
    flat = DistanceEnergy(torch.zeros(SHAPE[1:]), 0.0)
    slope = energy_slope(lambda x, sigma: flat(x, sigma)[:, 0])
    samples = annealed_langevin(slope, SHAPE, AnnealedSettings(2.0, 0.02, 30), torch.Generator().manual_seed(0))
    assert torch.isfinite(samples).all() and float(samples.std()) < 10
