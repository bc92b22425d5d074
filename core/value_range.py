"""Do the input's pixel values lie where the training pixels did, band by band?

A JEM's log p(x) judges how familiar a patch looks, but it can take a very wrong input for a
familiar one: 8-bit Landsat 7 numbers read as Sentinel-2 reflectance are uniformly dark, and
dark is what water looks like, so their log p(x) sits above the training median
(bench/measure_ood.py). Counting, per band, the share of valid pixels outside the training
value range (the card's `value_range`) catches that and a red/blue mapping slip, for any
model, at the cost of two comparisons per pixel.
"""
import numpy as np
import torch

from core.models.card import ModelCard

# A band is flagged when more than this share of its pixels lie outside the training range.
# The held-out south half of the sample scene, which is in distribution, peaks at 13% (NIR
# over more open water than the north half has), a red/blue swap at 93%, Landsat numbers at 100%.
OUTSIDE_LIMIT = 0.5
NAMED_BANDS = 3


def valid_mask(x: torch.Tensor, valid: np.ndarray | None) -> torch.Tensor:
    """(B, H, W) bool on x's device: `valid`, or every pixel of the (B, C, H, W) batch when None."""
    if valid is None:
        return torch.ones((len(x), *x.shape[-2:]), dtype=torch.bool, device=x.device)
    return torch.from_numpy(valid).to(x.device)


class ValueRangeCheck:
    """Counts, per band, the valid pixels below and above the card's training value range.

    Pixels are counted in the model's standardised input, where the range is mapped the same
    way, so the check needs no second copy of the data. Pixels that overlapping tiles share are
    counted once per tile, so they weigh a little more than the rest in the shares.

    Args:
        card: a model card with a `value_range`.
        device: where the tiles' tensors live.
    """

    def __init__(self, card: ModelCard, device: torch.device) -> None:
        bounds = torch.tensor(card.value_range, dtype=torch.float32, device=device)
        mean = torch.tensor(card.mean, dtype=torch.float32, device=device)
        std = torch.tensor(card.std, dtype=torch.float32, device=device)
        self.low = ((bounds[:, 0] - mean) / std)[None, :, None]
        self.high = ((bounds[:, 1] - mean) / std)[None, :, None]
        self.card = card
        self.below = np.zeros(len(card.bands), dtype=np.int64)
        self.above = np.zeros(len(card.bands), dtype=np.int64)
        self.pixels = 0

    def add(self, x: torch.Tensor, valid: np.ndarray | None = None) -> None:
        """Count the valid pixels of a batch of tiles.

        Args:
            x: (B, C, H, W) standardised model input.
            valid: (B, H, W) True where a pixel holds data; None when every pixel does.
        """
        valid = valid_mask(x, valid)
        mask = valid.flatten(1)[:, None, :]
        flat = x.flatten(2)
        self.below += ((flat < self.low) & mask).sum(dim=(0, 2)).cpu().numpy()
        self.above += ((flat > self.high) & mask).sum(dim=(0, 2)).cpu().numpy()
        self.pixels += int(valid.sum())

    def merge(self, other: "ValueRangeCheck") -> None:
        """Add another check's counts (a Dask worker's share of the tiles)."""
        self.below += other.below
        self.above += other.above
        self.pixels += other.pixels

    def shares(self) -> np.ndarray:
        """Per band, the share of valid pixels outside the training range (zeros before any pixel)."""
        return (self.below + self.above) / max(self.pixels, 1)

    def warning(self) -> str | None:
        """One sentence naming the bands whose values mostly lie outside the training range, else None."""
        shares = self.shares()
        flagged = [i for i in np.argsort(-shares) if shares[i] > OUTSIDE_LIMIT][:NAMED_BANDS]
        if not flagged:
            return None
        bands = ", ".join(f"{self.card.bands[i]}: {shares[i]:.0%} of pixels "
                          f"{'below' if self.below[i] > self.above[i] else 'above'} it" for i in flagged)
        return (f"the input's values lie outside the range of the model's training imagery ({bands}): check the "
                f"band mapping and the scaling (the model multiplies the input's values by {self.card.scale:g}); "
                "treat the naturalness map with caution")

    def to_json(self) -> dict:
        """The run record's "value_range" block: per band, the range and the shares below and above it."""
        pixels = max(self.pixels, 1)
        return {"pixels": self.pixels, "limit": OUTSIDE_LIMIT, "out_of_range": self.warning() is not None,
                "bands": {name: {"range": self.card.value_range[i], "below": round(float(self.below[i] / pixels), 4),
                                 "above": round(float(self.above[i] / pixels), 4)}
                          for i, name in enumerate(self.card.bands)}}
