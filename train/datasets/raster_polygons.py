"""A raster plus a polygon layer with a label field: the way an analyst labels in QGIS.

The raster is read block by block on the model's grid (never whole), the polygons are
reprojected to the raster's CRS and rasterized per block, and square patches are cut
wherever one class's polygons cover a patch wholly and every band has data. Blocks follow
an absolute grid of `block_size_m` squares, so each patch lies inside exactly one block and
the spatial split can hold whole blocks out.
"""
import math
from pathlib import Path
from typing import Any, Iterator

import numpy as np
from rasterio.features import bounds as geometry_bounds
from rasterio.features import rasterize
from rasterio.warp import transform_geom
from rasterio.windows import Window

from core.errors import NaturalExplainError
from core.raster.bands import match_bands
from core.raster.grid import Grid, metres_per_unit, model_grid
from core.raster.read import BandReader
from core.raster.sources import BandRef, open_input, open_raster
from core.vector_io import read_polygons
from train.datasets.labelled_patches import LabelledPatches, class_index
from train.split import BlockKey

LabelledShapes = list[tuple[dict[str, Any], str]]


def read_labelled_polygons(path: Path, label_field: str, grid: Grid) -> LabelledShapes:
    """Read (GeoJSON-like geometry in the grid's CRS, label) for every labelled polygon.

    Args:
        path: a GeoPackage, Shapefile, GeoJSON or any OGR vector file (first layer).
        label_field: the attribute holding the class name.
        grid: the raster grid whose CRS the polygons are reprojected to.

    Returns:
        One (geometry, label) pair per feature with a non-empty label.

    Raises:
        NaturalExplainError: for a missing or unreadable file, an unknown field, or no labels.
    """
    polygons, crs = read_polygons(path, label_field)
    shapes: LabelledShapes = [(transform_geom(crs, grid.crs, geometry), str(label).strip())
                              for geometry, label in polygons if label is not None and str(label).strip()]
    if not shapes:
        raise NaturalExplainError(f"field '{label_field}' of {path} is empty in every polygon: fill in the class names")
    return shapes


def _polygon_bounds(shapes: LabelledShapes) -> tuple[float, float, float, float]:
    boxes = np.array([geometry_bounds(geometry) for geometry, _ in shapes])
    return boxes[:, 0].min(), boxes[:, 1].min(), boxes[:, 2].max(), boxes[:, 3].max()


def block_windows(grid: Grid, bounds: tuple[float, float, float, float], block_size_m: float) -> Iterator[tuple[BlockKey, Window]]:
    """The pixel windows of `grid` lying wholly inside each block of an absolute block grid.

    Blocks are `block_size_m` squares anchored at the CRS origin (sized in CRS units via the
    grid's metres per unit); only blocks meeting `bounds` and the grid are returned.

    Args:
        grid: the model grid.
        bounds: (xmin, ymin, xmax, ymax) of the labels, in the grid's CRS.
        block_size_m: side of a block in metres.

    Returns:
        An iterator of (block key, window), windows clipped to the grid.
    """
    mx, my = metres_per_unit(grid)
    bx, by = block_size_m / mx, block_size_m / my
    gx0, gy0, gx1, gy1 = grid.bounds
    xmin, ymin = max(bounds[0], gx0), max(bounds[1], gy0)
    xmax, ymax = min(bounds[2], gx1), min(bounds[3], gy1)
    t, eps = grid.transform, 1e-6
    for row in range(math.floor(ymax / by), math.floor(ymin / by) - 1, -1):
        for col in range(math.floor(xmin / bx), math.floor(xmax / bx) + 1):
            c0 = max(math.ceil((col * bx - t.c) / t.a - eps), 0)
            c1 = min(math.floor(((col + 1) * bx - t.c) / t.a + eps), grid.width)
            r0 = max(math.ceil(((row + 1) * by - t.f) / t.e - eps), 0)
            r1 = min(math.floor((row * by - t.f) / t.e + eps), grid.height)
            if c1 > c0 and r1 > r0:
                yield (grid.crs.to_string(), col, row), Window(c0, r0, c1 - c0, r1 - r0)


def label_raster(shapes: LabelledShapes, classes: list[str], grid: Grid) -> np.ndarray:
    """Class index per pixel of `grid`: -1 where no polygon, or polygons of two classes, cover it."""
    covered = np.zeros((len(classes), grid.height, grid.width), dtype=bool)
    for k, name in enumerate(classes):
        mine = [geometry for geometry, label in shapes if label == name]
        if mine:
            covered[k] = rasterize(mine, out_shape=(grid.height, grid.width), transform=grid.transform,
                                   fill=0, default_value=1, dtype="uint8").astype(bool)
    labels = covered.argmax(axis=0).astype(np.int16)
    labels[covered.sum(axis=0) != 1] = -1
    return labels


def patch_origins(labels: np.ndarray, patch_size: int, stride: int) -> list[tuple[int, int, int]]:
    """(row, col, class) of every patch wholly covered by a single class."""
    height, width = labels.shape
    found = []
    for r in range(0, height - patch_size + 1, stride):
        for c in range(0, width - patch_size + 1, stride):
            patch = labels[r:r + patch_size, c:c + patch_size]
            if patch[0, 0] >= 0 and (patch == patch[0, 0]).all():
                found.append((r, c, int(patch[0, 0])))
    return found


def open_labelled(dataset: LabelledPatches, raster: Path, polygons: Path, label_field: str, bands: list[str],
                  resolution_m: float, patch_size: int,
                  band_mapping: dict[str, int] | None) -> tuple[list[BandRef], Grid, LabelledShapes]:
    """Match the raster's bands, lay the model grid and read the polygons onto it, setting what every
    raster-and-polygons dataset records (classes, bands, files, 8-bit input, patch size); returns the
    band references, the model grid and the labelled shapes."""
    source = open_input(raster)
    refs = match_bands(source, bands, band_mapping)
    grid = model_grid(source.grid, resolution_m)
    shapes = read_labelled_polygons(polygons, label_field, grid)
    dataset.classes, _ = class_index([label for _, label in shapes])
    dataset.bands, dataset.resolution_m, dataset.splits = list(bands), resolution_m, None
    dataset.files = list(dict.fromkeys(ref.path for ref in refs)) + [polygons]
    with open_raster(refs[0].path) as ds:
        dataset.is_8bit = ds.dtypes[refs[0].index - 1] == "uint8"
    dataset._patch_size = patch_size
    return refs, grid, shapes


class RasterPolygonPatches(LabelledPatches):
    """Patches of a raster (file or band folder) labelled by the polygons that cover them.

    Args:
        raster: a GDAL raster or a folder of band files (see core.raster.sources.open_input).
        polygons: a vector file whose polygons carry a label field; any CRS.
        label_field: the attribute with the class name.
        bands: the band names the model takes, in order.
        resolution_m: the model grid's pixel size; every band is resampled to it.
        patch_size: side of a patch in model pixels.
        stride: step between patch origins in pixels (patches of one block may overlap).
        block_size_m: side of the split's spatial blocks in metres.
        band_mapping: optional model band name -> 1-based input band number.

    Raises:
        NaturalExplainError: for missing files, unmatched bands, empty labels or no patches.
    """

    def __init__(self, raster: Path, polygons: Path, label_field: str, bands: list[str], resolution_m: float,
                 patch_size: int, stride: int, block_size_m: float, band_mapping: dict[str, int] | None = None) -> None:
        refs, grid, shapes = open_labelled(self, raster, polygons, label_field, bands, resolution_m, patch_size,
                                           band_mapping)
        self._blocks: list[tuple[np.ndarray, np.ndarray, Grid]] = []
        self._origins: list[tuple[int, int, int]] = []
        self.labels, self.groups = [], []
        with BandReader(refs) as reader:
            for key, window in block_windows(grid, _polygon_bounds(shapes), block_size_m):
                self._add_block(reader, grid.window(window), key, shapes, patch_size, stride)
        self.georeferenced = [True] * len(self.labels)
        self._check_every_class_has_samples(polygons, label_field)

    def _add_block(self, reader: BandReader, block: Grid, key: BlockKey, shapes: LabelledShapes,
                   patch_size: int, stride: int) -> None:
        origins = patch_origins(label_raster(shapes, self.classes, block), patch_size, stride)
        if not origins:
            return
        raw, valid = reader.read(block)
        kept = [(r, c, k) for r, c, k in origins if valid[r:r + patch_size, c:c + patch_size].all()]
        if not kept:
            return
        self._blocks.append((raw, valid, block))
        for r, c, k in kept:
            self._origins.append((len(self._blocks) - 1, r, c))
            self.labels.append(k)
            self.groups.append(key)

    def _check_every_class_has_samples(self, polygons: Path, label_field: str) -> None:
        empty = [name for k, name in enumerate(self.classes) if k not in set(self.labels)]
        if empty:
            raise NaturalExplainError(
                f"class(es) {', '.join(empty)} of field '{label_field}' in {polygons} cover no whole "
                f"{self._patch_size}x{self._patch_size} px patch with data: draw larger polygons there or lower --patch-size")

    def patch_grid(self, index: int) -> Grid:
        """The model-grid pixels a patch covers, to say where it lies."""
        block, r, c = self._origins[index]
        return self._blocks[block][2].window(Window(c, r, self._patch_size, self._patch_size))

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray, int]:
        block, r, c = self._origins[index]
        raw, valid, _ = self._blocks[block]
        p = self._patch_size
        return raw[:, r:r + p, c:c + p], valid[r:r + p, c:c + p], self.labels[index]
