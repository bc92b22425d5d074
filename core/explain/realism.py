"""How much an enhanced image still looks like the imagery it came from.

A pattern generator can reach any classifier score by leaving real imagery behind (a white or
cyan tile is "natural" to a classifier that never saw one). Besides the share of pixels
outside the training value range (core.value_range), two cheap measures catch what an analyst
sees at once, and the trainer and bench/measure_enhancement.py both report them:

- the colour cast: the mean per-band shift of an enhanced tile from its input, in the
  classifier's standardised units (the band's training standard deviation). A counterfactual
  changes where it must; a global shift of every pixel is a colour cast, not an explanation.
- the checkerboard: the share of spectral power at the 2-pixel period (the Nyquist row and
  column of each band's 2-D spectrum), which strided transposed convolutions print.

KID (core.jem.kid) then asks whether the enhanced images moved towards the other class in a
network that was never asked to be fooled.
"""
import numpy as np
import torch
from torch import nn

from core.jem.kid import feature_scale, features, kid
from core.models.card import ModelCard
from core.models.model_file import LoadedModel
from core.value_range import ValueRangeCheck

SCORE_BATCH = 64


def colour_cast(x: torch.Tensor, enhanced: torch.Tensor) -> torch.Tensor:
    """(B,) mean over bands of |mean over pixels of (enhanced - x)|, both standardised (B, C, H, W)."""
    return (enhanced - x).mean(dim=(2, 3)).abs().mean(dim=1)


def checkerboard_share(images: torch.Tensor) -> float:
    """Share of the tiles' spectral power (mean removed per tile and band) at the 2-pixel period.

    Args:
        images: (B, C, H, W), H and W even, in any units.

    Returns:
        The power on the Nyquist row and column over the total power, pooled over tiles and bands.
    """
    height, width = images.shape[-2:]
    if height % 2 or width % 2:
        raise ValueError(f"the checkerboard measure needs an even tile size, got {height} x {width}")
    centred = images - images.mean(dim=(2, 3), keepdim=True)
    power = torch.fft.fft2(centred.double()).abs() ** 2
    nyquist = torch.zeros(height, width, dtype=torch.bool, device=images.device)
    nyquist[height // 2, :] = True
    nyquist[:, width // 2] = True
    total = power.sum().item()
    return power[..., nyquist].sum().item() / total if total else 0.0


def enhancement_measures(x: torch.Tensor, enhanced: torch.Tensor, score: nn.Module, card: ModelCard) -> dict[str, float]:
    """What the trainer logs and the bench reports for one set of images: score and realism, in one place.

    Args:
        x: (B, C, H, W) the real tiles, standardised as the classifier takes them.
        enhanced: the same tiles after a generator (or `x` itself), standardised.
        score: the classifier as natural log-odds (B, 1).
        card: the classifier's card; its value range, when it has one, adds the outside-range shares.

    Returns:
        score (mean natural probability), colour_cast (sd), checkerboard and, with a value
        range, outside_range (mean over bands) and outside_range_worst_band.
    """
    probability = torch.cat([torch.sigmoid(score(enhanced[i:i + SCORE_BATCH])).flatten()
                             for i in range(0, len(enhanced), SCORE_BATCH)])
    found = {"score": probability.mean().item(), "colour_cast": colour_cast(x, enhanced).mean().item(),
             "checkerboard": checkerboard_share(enhanced)}
    if card.value_range:
        check = ValueRangeCheck(card, enhanced.device)
        check.add(enhanced)
        shares = check.shares()
        found |= {"outside_range": float(shares.mean()), "outside_range_worst_band": float(shares.max())}
    return {name: round(value, 6) for name, value in found.items()}


def enhancement_kid(extractor: LoadedModel, bands: list[str], anthropogenic: torch.Tensor, natural: torch.Tensor,
                    maximized: torch.Tensor, minimized: torch.Tensor, seed: int = 0) -> dict[str, float]:
    """KID of each generator's images against the real class it aims at, with the floor and the class gap beside it.

    The feature network must be one the generators were not trained against (their guide would
    see its own adversarial patterns as the class). Each class is halved at random: the floor is
    KID between the halves of one class, the class gap KID between real anthropogenic and real
    natural patches, and each generator is scored on the first half of its inputs against the
    second half of its target class, so no patch is compared with itself.

    Args:
        extractor: the feature network (core.jem.kid.features).
        bands: the patches' band names.
        anthropogenic, natural: (N, C, H, W) real patches of each class, physical units.
        maximized: the maximizer's images of `anthropogenic`, same order; minimized: the minimizer's of `natural`.
        seed: fixes the halves.

    Returns:
        floor_natural, floor_anthropogenic, class_gap, maximized_to_natural, minimized_to_anthropogenic.
    """
    generator = torch.Generator().manual_seed(seed)
    a1, a2 = _halves(len(anthropogenic), generator)
    n1, n2 = _halves(len(natural), generator)
    sets = {"a1": anthropogenic[a1], "a2": anthropogenic[a2], "n1": natural[n1], "n2": natural[n2],
            "max": maximized[a1], "min": minimized[n1]}
    feats = {name: features(extractor, images, bands) for name, images in sets.items()}
    scale = feature_scale(np.concatenate([feats[k] for k in ("a1", "a2", "n1", "n2")]))

    def distance(first: str, second: str) -> float:
        return round(kid(feats[first] / scale, feats[second] / scale), 5)

    return {"floor_natural": distance("n1", "n2"), "floor_anthropogenic": distance("a1", "a2"),
            "class_gap": distance("a1", "n2"), "maximized_to_natural": distance("max", "n2"),
            "minimized_to_anthropogenic": distance("min", "a2")}


def _halves(count: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    order = torch.randperm(count, generator=generator)
    return order[: count // 2], order[count // 2:]
