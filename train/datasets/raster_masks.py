"""A raster plus a polygon layer, as pixel masks: the segmenter's view of the classifier's layout.

The same files, band matching, model grid and 1 km blocks as train.datasets.raster_polygons
(whose helpers it reuses), but a sample is a square patch with its per-pixel class mask, not
one label for a patch wholly inside one polygon: pixels no polygon covers (or that two
classes' polygons cover) and nodata pixels are IGNORE and count in no loss or score. A patch
is kept when at least `min_labelled` of its pixels are labelled; patches never cross a block
edge, so the spatial split holds whole blocks out exactly as it does for the classifier.
"""
from pathlib import Path

import numpy as np
import torch
from rasterio.windows import Window

from core.errors import NaturalExplainError
from core.models.preprocess import to_model_input
from core.raster.grid import Grid
from core.raster.read import BandReader
from train.datasets.labelled_patches import LabelledPatches
from train.datasets.raster_polygons import _polygon_bounds, block_windows, label_raster, open_labelled
from train.normalization import ModelInputs
from train.split import BlockKey

# The mask value of pixels that count in no loss and no score (torch's CrossEntropyLoss default ignore_index).
IGNORE = -100
# The fewest labelled pixels with data a segmenter is trained from: 16 patches of 64 x 64 px.
MIN_LABELLED_PIXELS = 16 * 64 * 64


def _offsets(length: int, size: int, stride: int) -> list[int]:
    """Patch starts along one side of a block: every `stride`, the last flush with the block's end."""
    if length < size:
        return []
    starts = list(range(0, length - size + 1, stride))
    return starts if starts[-1] == length - size else starts + [length - size]


class RasterPolygonMasks(LabelledPatches):
    """Patches of a raster with per-pixel class masks from the polygons that cover them.

    `labels` holds each patch's majority class (for the split's stratification), `pixel_counts`
    the labelled pixels of each class over all patches.

    Args:
        raster: a GDAL raster or a folder of band files (see core.raster.sources.open_input).
        polygons: a vector file whose polygons carry a label field; any CRS.
        label_field: the attribute with the class name.
        bands: the band names the model takes, in order.
        resolution_m: the model grid's pixel size; every band is resampled to it.
        patch_size: side of a patch in model pixels.
        stride: step between patch origins in pixels.
        block_size_m: side of the split's spatial blocks in metres.
        min_labelled: the share of a patch's pixels that must be labelled (with data) for it to be kept.
        band_mapping: optional model band name -> 1-based input band number.

    Raises:
        NaturalExplainError: for missing files, unmatched bands, empty labels, or too few labelled pixels.
    """

    def __init__(self, raster: Path, polygons: Path, label_field: str, bands: list[str], resolution_m: float,
                 patch_size: int, stride: int, block_size_m: float, min_labelled: float = 0.25,
                 band_mapping: dict[str, int] | None = None) -> None:
        refs, grid, shapes = open_labelled(self, raster, polygons, label_field, bands, resolution_m, patch_size,
                                           band_mapping)
        self._blocks: list[tuple[np.ndarray, np.ndarray, np.ndarray, Grid]] = []
        self._origins: list[tuple[int, int, int]] = []
        self.labels, self.groups = [], []
        self.pixel_counts = np.zeros(len(self.classes), dtype=np.int64)
        with BandReader(refs) as reader:
            for key, window in block_windows(grid, _polygon_bounds(shapes), block_size_m):
                self._add_block(reader, grid.window(window), key, shapes, patch_size, stride, min_labelled)
        self.georeferenced = [True] * len(self.labels)
        self._check_enough_labels(polygons, label_field, min_labelled)

    def _add_block(self, reader: BandReader, block: Grid, key: BlockKey, shapes: list, patch_size: int,
                   stride: int, min_labelled: float) -> None:
        labels = label_raster(shapes, self.classes, block)
        if not (labels >= 0).any():
            return
        raw, valid = reader.read(block)
        mask = np.where((labels >= 0) & valid, labels, IGNORE).astype(np.int64)
        kept = []
        for r in _offsets(block.height, patch_size, stride):
            for c in _offsets(block.width, patch_size, stride):
                patch = mask[r:r + patch_size, c:c + patch_size]
                counts = np.bincount(patch[patch >= 0], minlength=len(self.classes))
                if counts.sum() >= min_labelled * patch_size * patch_size:
                    kept.append((r, c, int(counts.argmax())))
                    self.pixel_counts += counts
        if not kept:
            return
        self._blocks.append((raw, valid, mask, block))
        for r, c, k in kept:
            self._origins.append((len(self._blocks) - 1, r, c))
            self.labels.append(k)
            self.groups.append(key)

    def _check_enough_labels(self, polygons: Path, label_field: str, min_labelled: float) -> None:
        total = int(self.pixel_counts.sum())
        if total < MIN_LABELLED_PIXELS:
            raise NaturalExplainError(
                f"the polygons of {polygons} label {total} pixels with data in {self._patch_size} x {self._patch_size} px "
                f"patches at least {min_labelled:.0%} labelled, too few to train a segmenter (at least "
                f"{MIN_LABELLED_PIXELS}): draw more or larger polygons over the raster, or lower --patch-size or "
                "--min-labelled")
        empty = [name for k, name in enumerate(self.classes) if not self.pixel_counts[k]]
        if empty:
            raise NaturalExplainError(f"class(es) {', '.join(empty)} of field '{label_field}' in {polygons} label no "
                                      "pixel with data in a kept patch: draw polygons of every class over the raster")

    def patch_grid(self, index: int) -> Grid:
        """The model-grid pixels a patch covers, to say where it lies."""
        block, r, c = self._origins[index]
        return self._blocks[block][3].window(Window(c, r, self._patch_size, self._patch_size))

    def mask(self, index: int) -> np.ndarray:
        """The patch's (H, W) int64 class mask, IGNORE where unlabelled or without data."""
        block, r, c = self._origins[index]
        p = self._patch_size
        return self._blocks[block][2][r:r + p, c:c + p]

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray, int]:
        block, r, c = self._origins[index]
        raw, valid, _, _ = self._blocks[block]
        p = self._patch_size
        return raw[:, r:r + p, c:c + p], valid[r:r + p, c:c + p], self.labels[index]


class MaskedModelInputs(ModelInputs):
    """A subset of mask patches prepared by the card's preprocessing: (tensor (C,H,W), mask (H,W) int64);
    `labels` are the patches' majority classes."""

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        raw, valid, _ = self.dataset[self.indices[i]]
        return (torch.from_numpy(to_model_input(raw, valid, self.card)),
                torch.from_numpy(self.dataset.mask(self.indices[i]).copy()))
