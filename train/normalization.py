"""Band statistics of the training split, and patches turned into model input as inference does it.

Mean and std come from the training split only (after scale and clip), so validation says
how the model does on data it never saw; the same `to_model_input` as the engine's
inference prepares every patch, so training and maps cannot disagree on preprocessing.
The per-band value range (the 0.1 and 99.9 percentiles) lets the engine warn when an
input's values lie where the training pixels never did (digital numbers given for
reflectance, a band mapping slip), which a JEM's log p(x) alone can miss.
"""
import dataclasses
from typing import Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from core.errors import NaturalExplainError
from core.models.card import ModelCard
from core.models.preprocess import scale_and_clip, to_model_input
from train.datasets.labelled_patches import LabelledPatches

# A band that is constant over the training data gets this std instead of 0.
MIN_STD = 1e-6
# The value range is read off a histogram over the clip range, so memory stays flat for any
# amount of data; 4096 bins resolve 0.00025 reflectance for Sentinel-2's clip of [0, 1].
RANGE_PERCENTILES = (0.1, 99.9)
RANGE_BINS = 4096


@dataclasses.dataclass(frozen=True)
class BandStatistics:
    """Per-band mean, std and [low, high] value range (RANGE_PERCENTILES) of the training pixels."""

    mean: list[float]
    std: list[float]
    value_range: list[list[float]]


def _percentile_bounds(counts: np.ndarray, clip: tuple[float, float]) -> list[list[float]]:
    """Per band, the lower edge of the bin holding the low percentile and the upper edge of the high one's."""
    edges = np.linspace(clip[0], clip[1], RANGE_BINS + 1)
    cdf = np.cumsum(counts, axis=1) / counts.sum(axis=1, keepdims=True)
    low, high = (q / 100 for q in RANGE_PERCENTILES)
    return [[float(edges[np.searchsorted(c, low)]), float(edges[np.searchsorted(c, high) + 1])] for c in cdf]


def band_statistics(dataset: LabelledPatches, indices: Sequence[int], scale: float,
                    clip: tuple[float, float]) -> BandStatistics:
    """Per-band mean, std and value range over the valid pixels of the given samples, after scale and clip.

    Args:
        dataset: the raw patches.
        indices: the training samples.
        scale: multiplies raw values (e.g. 1e-4 for Sentinel-2 digital numbers).
        clip: (low, high) after scaling.

    Raises:
        NaturalExplainError: when the samples hold no valid pixel.
    """
    total = squares = counts = None
    count = 0
    for i in indices:
        raw, valid, _ = dataset[i]
        x = scale_and_clip(raw, scale, clip)[:, valid].astype(np.float64)
        total = x.sum(axis=1) if total is None else total + x.sum(axis=1)
        squares = (x ** 2).sum(axis=1) if squares is None else squares + (x ** 2).sum(axis=1)
        bins = np.clip(((x - clip[0]) / (clip[1] - clip[0]) * RANGE_BINS).astype(np.int64), 0, RANGE_BINS - 1)
        offsets = np.arange(len(x))[:, None] * RANGE_BINS
        found = np.bincount((bins + offsets).ravel(), minlength=len(x) * RANGE_BINS).reshape(len(x), RANGE_BINS)
        counts = found if counts is None else counts + found
        count += x.shape[1]
    if not count:
        raise NaturalExplainError("the training samples hold no valid pixel: check the nodata value of the input")
    mean = total / count
    std = np.sqrt(np.maximum(squares / count - mean ** 2, 0.0))
    return BandStatistics([float(m) for m in mean], [float(max(s, MIN_STD)) for s in std],
                          _percentile_bounds(counts, clip))


class ModelInputs(Dataset):
    """A subset of raw patches, each prepared by the card's preprocessing: (tensor (C,H,W), label)."""

    def __init__(self, dataset: LabelledPatches, indices: Sequence[int], card: ModelCard) -> None:
        self.dataset, self.indices, self.card = dataset, list(indices), card

    def __len__(self) -> int:
        return len(self.indices)

    @property
    def labels(self) -> list[int]:
        """The class index of each sample, without reading any pixels."""
        return [self.dataset.labels[i] for i in self.indices]

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        raw, valid, label = self.dataset[self.indices[i]]
        return torch.from_numpy(to_model_input(raw, valid, self.card)), label
