"""What a JEM's log p(x) cannot see: the input's band means, band order and fine detail against the training imagery.

log p(x) takes uniformly dark input for water and misses colour slips (bench/measure_ood.py:
8-bit Landsat 7 numbers AUROC 0.59, a red/blue swap 0.58, a 60 m product read at 10 m 0.50).
Three statistics of the model's standardised input catch what it misses, for any model with a
card, at a few operations per pixel, gathered from the tiles the engine already runs:

- **moments**: each band's mean in training standard deviations from the card's training mean
  (the standardised input's mean, so the card's `mean`/`std` are the reference); an offset
  left in or another sensor's numbers move every band at once (each band's std over the training
  std is recorded too, not voted: one field or one lake has a fraction of the scene's spread, so
  in the north half's own 128 px areas it falls as low as 1/120 of the training std);
- **band order**: for every pair of bands whose training means differ by more than either
  band's training std (blue above green and red in Sentinel-2 L1C), the share of pixels that
  keep that order; a red/blue swap reverses it in nearly every pixel;
- **fine detail**: per band, the mean absolute difference of neighbouring pixels over that of
  pixels 3 apart; a coarser product resampled to the model's resolution has no detail at the
  pixel scale (over 128 px areas, the sharpest band's ratio is 0.47-0.90 in the scene's own
  10 m imagery and 0.35-0.52 in its 60 m product read at 10 m).

Each limit sits beyond every 128 x 128 px area (the smallest area `core ood` accepts) of the
north half of the Virginia scene, the bundled models' training area, by as much again as its
most unusual area lies beyond the typical one: limit = extreme + (extreme - median) over those
105 areas (bench/measure_ood.py recomputes them under "limits_from_north").
"""
import dataclasses
from typing import Any

import numpy as np
import torch

from core.models.card import ModelCard
from core.value_range import valid_mask

# bench/measure_ood.py "limits_from_north", 105 areas of 128 px of the north half, bundled JEM's card,
# each rounded to two decimals:
# moments: the largest |band mean| has median 0.958 and reaches 1.449 training std -> 1.94.
MOMENTS_LIMIT = 1.94
# band order: the least kept pair's share has median 0.990 and falls to 0.845 -> 0.70.
ORDER_LIMIT = 0.70
# fine detail: the sharpest band's lag-1 / lag-3 ratio has median 0.549 and falls to 0.477 -> 0.40.
DETAIL_LIMIT = 0.40
DETAIL_LAG = 3


@dataclasses.dataclass(frozen=True)
class Reason:
    """One check of the verdict: its statistic, its limit and whether the input crossed it.

    `below` is True for checks that fire when the statistic falls under the limit; `what` is the
    clause the analyst reads, a format string of `statistic` and `limit` naming the band(s).
    """

    check: str
    statistic: float
    limit: float
    below: bool
    what: str

    @property
    def fired(self) -> bool:
        """True when the statistic lies on the unusual side of the limit."""
        return self.statistic < self.limit if self.below else self.statistic > self.limit

    def sentence(self) -> str:
        """The reason as the clause the analyst reads, with its number and its limit."""
        return self.what.format(statistic=self.statistic, limit=self.limit)

    def to_json(self) -> dict[str, Any]:
        """The reason as ood.json lists it."""
        return {"check": self.check, "statistic": round(float(self.statistic), 4), "limit": self.limit,
                "fires_when": "below" if self.below else "above", "fired": self.fired, "what": self.sentence()}


def ordered_pairs(card: ModelCard) -> list[tuple[int, int]]:
    """Pairs (i, j) whose training mean of band i exceeds band j's by more than either band's std."""
    mean, std = np.asarray(card.mean), np.asarray(card.std)
    return [(i, j) for i in range(len(mean)) for j in range(len(mean))
            if mean[i] - mean[j] > max(std[i], std[j])]


class InputStatistics:
    """Gathers, tile by tile, the sums behind the moments, band-order and fine-detail checks.

    Pixels that overlapping tiles share count once per tile, as in core.value_range; neighbour
    differences are taken inside each tile, between valid pixels only.

    Args:
        card: the model card the input is standardised by.
        device: where the tiles' tensors live.
    """

    def __init__(self, card: ModelCard, device: torch.device) -> None:
        self.card = card
        bands = len(card.bands)
        self.pairs = ordered_pairs(card)
        # Pixel values compared in the same standardised units: x_i > x_j  <=>  z_i * s_i + m_i > z_j * s_j + m_j.
        self.mean = torch.tensor(card.mean, dtype=torch.float32, device=device)
        self.std = torch.tensor(card.std, dtype=torch.float32, device=device)
        self.pixels = 0
        self.sum = np.zeros(bands)
        self.squares = np.zeros(bands)
        self.kept = np.zeros(len(self.pairs))
        self.near = np.zeros(bands)
        self.far = np.zeros(bands)
        self.near_pairs = 0
        self.far_pairs = 0

    def add(self, x: torch.Tensor, valid: np.ndarray | None = None) -> None:
        """Add a batch of tiles.

        Args:
            x: (B, C, H, W) standardised model input.
            valid: (B, H, W) True where a pixel holds data; None when every pixel does.
        """
        mask = valid_mask(x, valid)
        full = bool(mask.all())  # most tiles: no mask arithmetic (bench/bench_scale.py's overhead)
        self.pixels += mask.numel() if full else int(mask.sum())
        weighted = x if full else x * mask[:, None].to(x.dtype)
        self.sum += weighted.sum(dim=(0, 2, 3)).double().cpu().numpy()
        self.squares += (weighted * x).sum(dim=(0, 2, 3)).double().cpu().numpy()
        for k, (i, j) in enumerate(self.pairs):
            brighter = x[:, i] * self.std[i] + self.mean[i] > x[:, j] * self.std[j] + self.mean[j]
            self.kept[k] += int((brighter if full else brighter & mask).sum())
        for lag, sums, attr in ((1, self.near, "near_pairs"), (DETAIL_LAG, self.far, "far_pairs")):
            total, count = _abs_differences(x, None if full else mask, lag)
            sums += total.double().cpu().numpy()
            setattr(self, attr, getattr(self, attr) + count)

    def merge(self, other: "InputStatistics") -> None:
        """Add another gatherer's sums (a Dask worker's share of the tiles)."""
        self.pixels += other.pixels
        self.near_pairs += other.near_pairs
        self.far_pairs += other.far_pairs
        for name in ("sum", "squares", "kept", "near", "far"):
            getattr(self, name).__iadd__(getattr(other, name))

    def band_means(self) -> np.ndarray:
        """Per band, the input's mean in training standard deviations from the training mean."""
        return self.sum / max(self.pixels, 1)

    def band_stds(self) -> np.ndarray:
        """Per band, the input's std over the training std."""
        mean = self.band_means()
        return np.sqrt(np.maximum(self.squares / max(self.pixels, 1) - mean ** 2, 0.0))

    def reasons(self) -> list[Reason]:
        """The moments, band-order and fine-detail checks (each left out when the input gives it nothing to measure)."""
        if self.pixels == 0:
            return []
        bands = self.card.bands
        means = self.band_means()
        worst = int(np.argmax(np.abs(means)))
        found = [Reason("moments", float(abs(means[worst])), MOMENTS_LIMIT, False,
                        f"{bands[worst]}'s mean lies {{statistic:.2f}} training std {'above' if means[worst] > 0 else 'below'} "
                        "the training mean (limit {limit:.2f}; an offset left in, another sensor or scale?)")]
        if self.pairs:
            shares = self.kept / self.pixels
            k = int(np.argmin(shares))
            i, j = self.pairs[k]
            found.append(Reason("band_order", float(shares[k]), ORDER_LIMIT, True,
                                f"{bands[i]} is brighter than {bands[j]}, as in the training imagery, in only "
                                "{statistic:.1%} of the pixels (limit {limit:.0%}; bands swapped?)"))
        if self.near_pairs and self.far_pairs:
            ratios = (self.near / self.near_pairs) / np.maximum(self.far / self.far_pairs, 1e-12)
            sharpest = int(np.argmax(ratios))
            found.append(Reason("fine_detail", float(ratios[sharpest]), DETAIL_LIMIT, True,
                                f"the sharpest band, {bands[sharpest]}, differs between neighbouring pixels by only "
                                f"{{statistic:.2f}} of what it does {DETAIL_LAG} px apart (limit {{limit:.2f}}; a coarser "
                                "product resampled to the model's resolution?)"))
        return found

    def to_json(self) -> dict[str, Any]:
        """Per band, the input's mean and std in the training's units, and the pixels counted."""
        means, stds = self.band_means(), self.band_stds()
        return {"pixels": self.pixels, "bands": {name: {"mean_z": round(float(means[i]), 4),
                                                        "std_ratio": round(float(stds[i]), 4)}
                                                 for i, name in enumerate(self.card.bands)}}


def _abs_differences(x: torch.Tensor, mask: torch.Tensor | None, lag: int) -> tuple[torch.Tensor, int]:
    """Per band, the summed |difference| of valid pixel pairs `lag` apart along rows and columns, and the pair count.

    `mask` None: every pixel is valid, and the pairs need no weighting.
    """
    total, count = torch.zeros(x.shape[1], dtype=x.dtype, device=x.device), 0
    for dim in (2, 3):
        n = x.shape[dim] - lag
        differences = (x.narrow(dim, lag, n) - x.narrow(dim, 0, n)).abs_()
        if mask is None:
            total += differences.sum(dim=(0, 2, 3))
            count += differences.numel() // x.shape[1]
        else:
            both = mask.narrow(dim - 1, lag, n) & mask.narrow(dim - 1, 0, n)
            total += torch.einsum("bchw,bhw->c", differences, both.to(x.dtype))
            count += int(both.sum())
    return total, count
