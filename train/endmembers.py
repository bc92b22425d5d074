"""The real spectra the pattern generators may paint with: k-means centres of each class's training pixels.

core.models.generator mixes each pixel with a blend of these endmembers, so every enhanced
pixel is a mix of real land-cover spectra from the training imagery: the maximizer's come from
natural patches, the minimizer's from anthropogenic ones, so a counterfactual says which real
material of the other class would change the verdict. K-means runs in the
classifier's standardised space, where every band weighs by its own spread (raw reflectance
would let the bright near-infrared bands decide every cluster), on a seeded sample of pixels.
"""
import torch
from torch.utils.data import Dataset, Subset

from core.errors import NaturalExplainError
from core.models.card import ModelCard
from core.models.preprocess import UnitSpace
from train.normalization import ModelInputs

SAMPLE_PIXELS = 50_000
ITERATIONS = 30


def sample_pixels(data: Dataset, count: int, generator: torch.Generator) -> torch.Tensor:
    """(N, C) standardised pixels drawn evenly from every patch of `data` (tensor (C, H, W), label)."""
    per_patch = max(count // max(len(data), 1), 1)
    pixels = []
    for i in range(len(data)):
        flat = data[i][0].flatten(1)
        pixels.append(flat[:, torch.randint(flat.shape[1], (per_patch,), generator=generator)].T)
    return torch.cat(pixels)


def kmeans(points: torch.Tensor, k: int, generator: torch.Generator, iterations: int = ITERATIONS) -> torch.Tensor:
    """(k, C) centres of (N, C) points: k-means++ seeding, then Lloyd iterations; an emptied cluster keeps its centre."""
    centres = points[torch.randint(len(points), (1,), generator=generator)]
    while len(centres) < k:
        nearest = torch.cdist(points, centres).min(dim=1).values ** 2
        centres = torch.cat([centres, points[torch.multinomial(nearest / nearest.sum(), 1, generator=generator)]])
    for _ in range(iterations):
        assignment = torch.cdist(points, centres).argmin(dim=1)
        counts = torch.bincount(assignment, minlength=k).float()
        sums = torch.zeros_like(centres).index_add_(0, assignment, points)
        centres = torch.where(counts[:, None] > 0, sums / counts.clamp(min=1)[:, None], centres)
    return centres


def endmembers(data: Dataset, card: ModelCard, k: int, seed: int) -> list[list[float]]:
    """K real spectra of the training pixels in unit space, darkest first, as nested lists for the model card.

    A centre can sit on a handful of outliers (a glint, a bright roof) beyond the training value
    range; each is clipped to the card's range, so no painted pixel leaves it.

    Args:
        data: prepared training samples (standardised tensor (C, H, W), label).
        card: the classifier's card (preprocessing and value range).
        k: how many spectra.
        seed: fixes the pixel sample and the k-means seeding.
    """
    generator = torch.Generator().manual_seed(seed)
    centres = kmeans(sample_pixels(data, SAMPLE_PIXELS, generator).double(), k, generator).float()
    space = UnitSpace(card)
    if card.value_range:
        low, high = (torch.tensor([r[i] for r in card.value_range]) for i in (0, 1))
        std, mean = torch.tensor(card.std), torch.tensor(card.mean)
        centres = centres.clamp((low - mean) / std, (high - mean) / std)
    unit = space.from_input(centres[:, :, None, None])[:, :, 0, 0]
    return unit[torch.argsort(unit.mean(dim=1))].tolist()


def class_endmembers(data: ModelInputs, card: ModelCard, k: int, seed: int) -> dict[str, list[list[float]]]:
    """{"natural": ..., "anthropogenic": ...}: `k` endmembers from each class's training patches (see endmembers).

    Raises:
        NaturalExplainError: when a class has no training patch.
    """
    natural = set(card.natural_indices)
    found = {}
    for name, wanted in (("natural", True), ("anthropogenic", False)):
        members = [i for i, label in enumerate(data.labels) if (label in natural) == wanted]
        if not members:
            raise NaturalExplainError(f"the training patches hold no {name} patch: the pattern generators paint with "
                                      f"the spectra of both classes, so label some {name} areas")
        found[name] = endmembers(Subset(data, members), card, k, seed)
    return found
