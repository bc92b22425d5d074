"""How familiar an input is to a JEM: its patches' log p(x) against the training histogram.

A JEM's sidecar holds the histogram of its training patches' tile log p(x). The same
quantity for the input's patches, compared with it, says whether the model has seen
imagery like this: many patches below the training 1st percentile, or a large KL
divergence, mean its naturalness verdict should not be trusted.

The patch values come from the dense logits of the tiles the engine already runs: the FCN's
tile logits are the spatial mean of its logit map, so average-pooling dense logits over
patch-sized windows gives each patch's tile logits from the same forward pass. On the
held-out half of the real scene these values correlate 0.99 with running each patch alone, as
training did, and differ by 0.006 on average against a spread (std) of 0.15 between patches.
"""
import dataclasses
from typing import Any

import numpy as np
import torch
from rasterio.windows import Window
from torch.nn import functional as F

from core.jem.energy import log_px_of_logits
from core.jem.histogram import LogPxHistogram, kl_divergence

# Patches fewer than this give too noisy a histogram to judge by (a 128 px square at 32 px patches).
MIN_PATCHES = 16
# The input looks out of distribution when more than SHARE_LIMIT of its patches lie below the
# training 1st percentile, or when its histogram's KL divergence from the training one exceeds
# KL_LIMIT. Measured with the bundled JEM by bench/measure_ood.py: the held-out south half of the
# scene has 2.4 % of its 1800 patches below p1 and KL 0.52; random in-distribution areas of 16
# (64) patches reach 6.2 % (6.2 %) and KL 2.05 (1.11) at their 95th percentile; both real Landsat 8
# scenes, read through Sentinel-2 band mappings, have 100 % below p1 and KL 21.8. The limits sit
# above what a small in-distribution area reaches by chance and far below the foreign scenes.
SHARE_LIMIT = 0.2
KL_LIMIT = 3.0


class PatchLogPx:
    """Gathers the tile log p(x) of every fully valid patch of a model grid, tile by tile.

    Patches lie on one grid of `patch` pixels anchored at the model grid's origin, so a patch
    that overlapping tiles both hold is counted once (from the first tile that holds it).
    `by_patch` maps (row, column) on that patch grid to the patch's log p(x).

    Args:
        patch: the patch side in model pixels (the JEM's training patch size).
    """

    def __init__(self, patch: int) -> None:
        self.patch = patch
        self.by_patch: dict[tuple[int, int], float] = {}

    def add(self, windows: list[Window], logits: torch.Tensor, valid: np.ndarray) -> None:
        """Record the patches inside each tile.

        Args:
            windows: each tile's window on the model grid.
            logits: (B, K, H, W) dense logits of the tiles.
            valid: (B, H, W) True where a tile's pixels hold data; patches with any gap are skipped.
        """
        p = self.patch
        for window, tile_logits, tile_valid in zip(windows, logits, valid):
            r0, c0 = -int(window.row_off) % p, -int(window.col_off) % p
            rows, cols = (tile_valid.shape[0] - r0) // p, (tile_valid.shape[1] - c0) // p
            if rows <= 0 or cols <= 0:
                continue
            crop = tile_logits[None, :, r0:r0 + rows * p, c0:c0 + cols * p]
            values = log_px_of_logits(F.avg_pool2d(crop.float(), p))[0, 0].cpu().numpy()
            full = tile_valid[r0:r0 + rows * p, c0:c0 + cols * p].reshape(rows, p, cols, p).all(axis=(1, 3))
            top, left = (int(window.row_off) + r0) // p, (int(window.col_off) + c0) // p
            for i, j in zip(*np.nonzero(full)):
                self.by_patch.setdefault((top + int(i), left + int(j)), float(values[i, j]))

    def merge(self, other: "PatchLogPx") -> None:
        """Add the patches of later tiles gathered elsewhere (a Dask worker's), keeping each patch's first value."""
        for key, value in other.by_patch.items():
            self.by_patch.setdefault(key, value)

    def values(self) -> np.ndarray:
        """The patches' log p(x), in no particular order."""
        return np.fromiter(self.by_patch.values(), dtype=np.float64, count=len(self.by_patch))


@dataclasses.dataclass(frozen=True)
class Familiarity:
    """The input's patches against the training histogram.

    `kl_divergence` and `share_below_p1` are None when there are fewer than MIN_PATCHES patches;
    `threshold` is the training 1st percentile of log p(x) the share is counted against.
    """

    kl_divergence: float | None
    share_below_p1: float | None
    patches: int
    threshold: float
    histogram: LogPxHistogram | None

    @property
    def out_of_distribution(self) -> bool:
        """True when the input looks unlike the training imagery (see SHARE_LIMIT and KL_LIMIT)."""
        return self.kl_divergence is not None and (self.share_below_p1 > SHARE_LIMIT or self.kl_divergence > KL_LIMIT)

    def to_json(self) -> dict[str, Any]:
        """The run record's "ood" block."""
        return {"kl_divergence": self.kl_divergence, "share_below_p1": self.share_below_p1, "patches": self.patches,
                "threshold": self.threshold, "out_of_distribution": self.out_of_distribution,
                "limits": {"share_below_p1": SHARE_LIMIT, "kl_divergence": KL_LIMIT}}


def assess(values: np.ndarray, training: LogPxHistogram) -> Familiarity:
    """Compare the input patches' log p(x) with the training histogram, over its bin edges.

    Args:
        values: tile log p(x) of the input's patches.
        training: the JEM's training histogram (core.jem.histogram.training_histogram).
    """
    threshold = training.percentiles["p1"]
    if len(values) < MIN_PATCHES:
        return Familiarity(None, None, len(values), threshold, None)
    observed = LogPxHistogram.of(values, edges=np.asarray(training.edges))
    share = float(np.mean(values < threshold))
    return Familiarity(round(kl_divergence(observed, training), 4), round(share, 4), len(values), threshold, observed)
