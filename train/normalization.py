"""Band statistics of the training split, and patches turned into model input as inference does it.

Mean and std come from the training split only (after scale and clip), so validation says
how the model does on data it never saw; the same `to_model_input` as the engine's
inference prepares every patch, so training and maps cannot disagree on preprocessing.
"""
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


def band_statistics(dataset: LabelledPatches, indices: Sequence[int], scale: float,
                    clip: tuple[float, float]) -> tuple[list[float], list[float]]:
    """Per-band mean and std over the valid pixels of the given samples, after scale and clip.

    Args:
        dataset: the raw patches.
        indices: the training samples.
        scale: multiplies raw values (e.g. 1e-4 for Sentinel-2 digital numbers).
        clip: (low, high) after scaling.

    Returns:
        (mean, std), one value per band.

    Raises:
        NaturalExplainError: when the samples hold no valid pixel.
    """
    total = squares = None
    count = 0
    for i in indices:
        raw, valid, _ = dataset[i]
        x = scale_and_clip(raw, scale, clip)[:, valid].astype(np.float64)
        total = x.sum(axis=1) if total is None else total + x.sum(axis=1)
        squares = (x ** 2).sum(axis=1) if squares is None else squares + (x ** 2).sum(axis=1)
        count += x.shape[1]
    if not count:
        raise NaturalExplainError("the training samples hold no valid pixel: check the nodata value of the input")
    mean = total / count
    std = np.sqrt(np.maximum(squares / count - mean ** 2, 0.0))
    return [float(m) for m in mean], [float(max(s, MIN_STD)) for s in std]


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
