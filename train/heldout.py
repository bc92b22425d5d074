"""The held-out labelled pixels of the Virginia scene: the north half's validation blocks.

Every bundled model trained on the north half's labels (resources/labels/virginia_s2_train.geojson)
with 1 km blocks, a validation fraction of 0.2 and seed 0, so the blocks the classifier's split
held out are pixels no bundled classifier saw. Maps of different models are compared here on
the labelled pixels of those blocks, minus any block another model (the segmenter, whose
patches differ and so may split a few blocks differently) trained on. The south half (rows
980 and below) holds no labels and is never scored.
"""
import dataclasses
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from rasterio.windows import Window

from core.raster.grid import Grid
from core.raster.sources import open_input
from train.datasets.raster_polygons import RasterPolygonPatches, block_windows, label_raster, read_labelled_polygons
from train.reproduce import BAND_SUBSET_MODELS, LABELS
from train.split import BlockKey, split_samples

# The labels cover rows 0-980 of the scene's 10 m grid; the south half is never labelled or scored.
NORTH_ROWS = 980
BLOCK_SIZE_M = 1000.0
VAL_FRACTION = 0.2
SEED = 0
# The classifiers' patches (train.reproduce.TRAINING_OPTIONS): 32 px every 16 px.
CLASSIFIER_PATCH, CLASSIFIER_STRIDE = 32, 16


@dataclasses.dataclass(frozen=True)
class HeldOutPixels:
    """The north half's grid, its classes, and a label raster holding only held-out labelled pixels.

    Attributes:
        grid: the scene's grid, rows 0 to NORTH_ROWS.
        classes: class names; `labels` indexes them.
        labels: (H, W) int16 class indices on `grid`, -1 outside the held-out blocks or where unlabelled.
        blocks: the held-out blocks' windows on `grid`.
        all_labels: (H, W) int16 class indices of every label on `grid` (-1 unlabelled), to find label edges
            that a held-out block's border would otherwise hide.
    """

    grid: Grid
    classes: list[str]
    labels: np.ndarray
    blocks: list[Window]
    all_labels: np.ndarray

    @property
    def pixels(self) -> int:
        return int((self.labels >= 0).sum())


def north_grid(scene: Path) -> Grid:
    """The scene's grid cut to its labelled north half."""
    grid = open_input(scene).grid
    return grid.window(Window(0, 0, grid.width, NORTH_ROWS))


def classifier_val_blocks(scene: Path, labels: Path = LABELS) -> set[BlockKey]:
    """The blocks the bundled classifiers' split held out (their patches, blocks, fraction and seed).

    The split depends on the patches only, not on the bands, so the 3-band set is read (the cheapest).
    """
    dataset = RasterPolygonPatches(scene, labels, "label", BAND_SUBSET_MODELS["naturalness_s2_rgb"], 10.0,
                                   CLASSIFIER_PATCH, CLASSIFIER_STRIDE, BLOCK_SIZE_M)
    split = split_samples(dataset.groups, dataset.georeferenced, dataset.labels, None, VAL_FRACTION, SEED)
    return {dataset.groups[i] for i in split.val}


def held_out_pixels(scene: Path, labels: Path = LABELS, trained_elsewhere: Iterable[BlockKey] = ()) -> HeldOutPixels:
    """The labelled pixels of the classifiers' validation blocks, leaving out blocks in `trained_elsewhere`.

    Args:
        scene: the scene (train.fetch's band folder).
        labels: the north-half region labels.
        trained_elsewhere: blocks some other compared model trained on.
    """
    held_out = classifier_val_blocks(scene, labels) - set(trained_elsewhere)
    north = north_grid(scene)
    shapes = read_labelled_polygons(labels, "label", north)
    classes = sorted({label for _, label in shapes})
    every = label_raster(shapes, classes, north)
    raster = np.full((north.height, north.width), -1, dtype=np.int16)
    blocks = []
    for key, window in block_windows(north, north.bounds, BLOCK_SIZE_M):
        if key in held_out:
            rows = slice(window.row_off, window.row_off + window.height)
            cols = slice(window.col_off, window.col_off + window.width)
            raster[rows, cols] = every[rows, cols]
            blocks.append(window)
    return HeldOutPixels(north, classes, raster, blocks, every)
