"""What every dataset layout hands to training: labelled raw patches and where each lies.

A layout knows its files and labels, never how it is trained: it returns raw values in
the file's units, and the trainer's side applies the model card's scale, clip and
normalisation, exactly as inference will.
"""
import abc
from pathlib import Path

import numpy as np
from torch.utils.data import Dataset

from core.errors import NaturalExplainError
from train.split import BlockKey


class LabelledPatches(Dataset, abc.ABC):
    """Raw patches with class labels, plus what the split and the model card need.

    Attributes:
        classes: class names; a label is an index into this list.
        bands: band names in the order of the patch channels.
        labels: one class index per sample.
        groups: per sample, the spatial block key, or the file name when `georeferenced` is False.
        georeferenced: per sample, whether its group is a spatial block.
        splits: per sample, the dataset's own split name (train/val/test), or None.
        files: the input files, for the data hash.
        resolution_m: the pixel size of the patches in metres.
        is_8bit: True when the pixels are 8-bit (e.g. JPEG), so the default scale is 1/255.
    """

    classes: list[str]
    bands: list[str]
    labels: list[int]
    groups: list[BlockKey | str]
    georeferenced: list[bool]
    splits: list[str] | None
    files: list[Path]
    resolution_m: float
    is_8bit: bool

    def __len__(self) -> int:
        return len(self.labels)

    @abc.abstractmethod
    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray, int]:
        """Returns raw float32 (C, H, W) values, a bool (H, W) valid mask and the class index."""


def class_index(names: list[str]) -> tuple[list[str], list[int]]:
    """Sorted class names and each sample's index into them.

    Raises:
        NaturalExplainError: when fewer than two classes are present.
    """
    classes = sorted(set(names))
    if len(classes) < 2:
        raise NaturalExplainError(f"the labels hold {len(classes)} class(es) ({', '.join(classes) or 'none'}); "
                                  "a classifier needs samples of at least two classes")
    lookup = {name: i for i, name in enumerate(classes)}
    return classes, [lookup[name] for name in names]
