"""Informative SGLD starts: per-class Gaussians of coarse training patches (JEM++'s informative initialisation).

Sentinel-2 reflectance fills a small corner of the unit cube, so chains restarted from uniform
noise spend their 20 steps leaving noise, and the JEM learns to push down noise rather than to
shape the data's neighbourhood. Chains started from a Gaussian fitted to the training patches,
coarsened to POOL x POOL px cells (each class's mean and leading principal axes of those cells'
bands), begin with a class's colours and layout and leave SGLD the texture. The same starts
feed the trainer's replay buffer and `core sample`, so sampling continues the chains the JEM was
trained on. The statistics are small (a few thousand numbers per class) and live in the model
card's `jem.init` block.
"""
import dataclasses
from typing import Any

import torch
from torch.nn import functional as F

# Coarse cell side in px and principal axes kept per class: 32 px patches become 4 x 4 cells
# (160 numbers with 10 bands), whose first 32 axes hold most of the patches' variance.
POOL = 8
RANK = 32
DIGITS = 5


@dataclasses.dataclass(frozen=True)
class CoarseGaussian:
    """Per-class mean and principal axes of coarsened unit-space patches, plus the per-band fine detail's std.

    Attributes:
        shape: (C, H, W) of a patch.
        pool: coarse cell side in px.
        classes: class names, in the order of `mean` and `factor`.
        mean: (K, D) coarse means, D = C * (H / pool) * (W / pool).
        factor: (K, D, R) principal axes scaled by their std: a draw is mean + factor @ N(0, I).
        fine_std: (C,) std of each band's detail finer than a cell, added as white noise.
    """

    shape: tuple[int, int, int]
    pool: int
    classes: list[str]
    mean: torch.Tensor
    factor: torch.Tensor
    fine_std: torch.Tensor

    @classmethod
    def fit(cls, patches: torch.Tensor, labels: torch.Tensor, classes: list[str], pool: int = POOL,
            rank: int = RANK) -> "CoarseGaussian":
        """Fit to (N, C, H, W) unit-space patches with (N,) class indices; every class needs at least two patches.

        Raises:
            ValueError: when a class has fewer than two patches or the patch side is not a multiple of `pool`.
        """
        if patches.shape[-1] % pool or patches.shape[-2] % pool:
            raise ValueError(f"patch side {patches.shape[-1]} is not a multiple of the cell side {pool}")
        coarse = F.avg_pool2d(patches.double(), pool)
        detail = patches.double() - F.interpolate(coarse, size=patches.shape[-2:], mode="nearest")
        flat = coarse.flatten(1)
        means, factors = [], []
        for k in range(len(classes)):
            members = flat[labels == k]
            if len(members) < 2:
                raise ValueError(f"class {classes[k]} has {len(members)} patch(es); a Gaussian needs two")
            centred = members - members.mean(0)
            _, s, vh = torch.linalg.svd(centred, full_matrices=False)
            r = min(rank, len(s))
            means.append(members.mean(0))
            factors.append(F.pad(vh[:r].T * (s[:r] / (len(members) - 1) ** 0.5), (0, rank - r)))
        return cls(tuple(patches.shape[1:]), pool, list(classes), torch.stack(means).float(),
                   torch.stack(factors).float(), detail.transpose(0, 1).flatten(1).std(1).float())

    def draw(self, n: int, generator: torch.Generator, class_index: int | None = None) -> torch.Tensor:
        """(n, C, H, W) unit-space starts of one class, or of classes drawn uniformly when `class_index` is None."""
        k = (torch.randint(0, len(self.classes), (n,), generator=generator) if class_index is None
             else torch.full((n,), class_index))
        z = torch.randn((n, self.factor.shape[-1], 1), generator=generator)
        c, h, w = self.shape
        coarse = (self.mean[k] + (self.factor[k] @ z).squeeze(-1)).view(n, c, h // self.pool, w // self.pool)
        fine = self.fine_std[:, None, None] * torch.randn((n, c, h, w), generator=generator)
        return (F.interpolate(coarse, size=(h, w), mode="bilinear", align_corners=False) + fine).clamp(0.0, 1.0)

    def to_json(self) -> dict[str, Any]:
        """Plain numbers for the card's `jem.init` block."""
        def rounded(t: torch.Tensor) -> Any:
            return torch.round(t, decimals=DIGITS).tolist()

        return {"kind": "coarse_gaussian", "shape": list(self.shape), "pool": self.pool,
                "fine_std": rounded(self.fine_std),
                "classes": {name: {"mean": rounded(self.mean[k]), "factor": rounded(self.factor[k])}
                            for k, name in enumerate(self.classes)}}

    @classmethod
    def from_json(cls, entry: dict[str, Any]) -> "CoarseGaussian":
        """The Gaussian a card's `jem.init` block holds."""
        names = list(entry["classes"])
        return cls(tuple(entry["shape"]), int(entry["pool"]), names,
                   torch.tensor([entry["classes"][k]["mean"] for k in names]),
                   torch.tensor([entry["classes"][k]["factor"] for k in names]),
                   torch.tensor(entry["fine_std"]))
