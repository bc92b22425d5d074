"""Checks on an analyst's raster + polygon labels that fail in one sentence before any patch is cut.

Training on a raster and a polygon layer goes wrong in a few ways an analyst can fix at once:
a class field holding a single value, polygons that all lie outside the raster, or a class
whose polygons cover almost no pixel of it. Each is found here from the polygons alone and a
rasterization of their bounding windows (never the whole raster), and reported as one
NaturalExplainError naming what to change. `python -m train classifier` runs them before it
reads the raster's pixels; the QGIS plugin shows the same sentence.
"""
import dataclasses
import math
from pathlib import Path

import numpy as np
from rasterio.features import bounds as geometry_bounds
from rasterio.features import rasterize
from rasterio.warp import transform_geom
from rasterio.windows import Window, from_bounds

from core.errors import NaturalExplainError
from core.raster.grid import Grid, model_grid
from core.raster.sources import open_input
from core.vector_io import read_polygons

MIN_CLASS_PIXELS = 50  # fewer labelled model pixels than this in a class cannot make one 32 px patch, let alone a split
MAX_COUNTED_PIXELS = 50_000_000  # a class window larger than this is not rasterized: it surely holds enough pixels


@dataclasses.dataclass(frozen=True)
class LabelSummary:
    """What the labels hold over the raster: model pixels per class (inside the raster), and polygons outside it."""

    pixels: dict[str, int]
    outside: int
    total: int

    @property
    def labelled_pixels(self) -> int:
        return sum(self.pixels.values())


def _overlaps(box: tuple[float, float, float, float], grid_bounds: tuple[float, float, float, float]) -> bool:
    return box[0] < grid_bounds[2] and box[2] > grid_bounds[0] and box[1] < grid_bounds[3] and box[3] > grid_bounds[1]


def _class_pixels(geometries: list[dict], grid: Grid) -> int:
    """Model pixels of `grid` that `geometries` cover, rasterized over their bounding window only."""
    boxes = np.array([geometry_bounds(g) for g in geometries])
    window = from_bounds(boxes[:, 0].min(), boxes[:, 1].min(), boxes[:, 2].max(), boxes[:, 3].max(),
                         transform=grid.transform)
    c0, r0 = max(math.floor(window.col_off), 0), max(math.floor(window.row_off), 0)
    c1 = min(math.ceil(window.col_off + window.width), grid.width)
    r1 = min(math.ceil(window.row_off + window.height), grid.height)
    if c1 <= c0 or r1 <= r0:
        return 0
    if (c1 - c0) * (r1 - r0) > MAX_COUNTED_PIXELS:
        return MAX_COUNTED_PIXELS
    part = grid.window(Window(c0, r0, c1 - c0, r1 - r0))
    mask = rasterize(geometries, out_shape=(part.height, part.width), transform=part.transform, fill=0,
                     default_value=1, dtype="uint8")
    return int(mask.sum())


def summarize_labels(raster: Path, polygons: Path, label_field: str, resolution_m: float) -> LabelSummary:
    """Count each class's labelled model pixels inside `raster`, and the polygons lying wholly outside it.

    Raises:
        NaturalExplainError: for an unreadable raster or vector file, or a missing field.
    """
    grid = model_grid(open_input(raster).grid, resolution_m)
    shapes, crs = read_polygons(polygons, label_field)
    labelled = [(transform_geom(crs, grid.crs, g), str(v).strip()) for g, v in shapes
                if v is not None and str(v).strip()]
    inside: dict[str, list[dict]] = {}
    outside = 0
    for geometry, label in labelled:
        if _overlaps(geometry_bounds(geometry), grid.bounds):
            inside.setdefault(label, []).append(geometry)
        else:
            inside.setdefault(label, [])
            outside += 1
    pixels = {label: _class_pixels(geoms, grid) if geoms else 0 for label, geoms in sorted(inside.items())}
    return LabelSummary(pixels, outside, len(labelled))


def check_labels(raster: Path, polygons: Path, label_field: str, resolution_m: float,
                 min_pixels: int = MIN_CLASS_PIXELS) -> LabelSummary:
    """Refuse labels a classifier cannot be trained on, in one sentence that says what to change.

    Returns:
        The label summary, when the labels can be trained on.

    Raises:
        NaturalExplainError: a class field with one value, polygons all outside the raster, or a class
            with fewer than `min_pixels` labelled pixels inside it.
    """
    summary = summarize_labels(raster, polygons, label_field, resolution_m)
    classes = list(summary.pixels)
    if len(classes) == 1:
        raise NaturalExplainError(
            f"field '{label_field}' of {polygons} holds only one value ({classes[0]}): a classifier needs polygons "
            "of at least two classes, so draw polygons of another class (e.g. natural and anthropogenic) or choose "
            "another field with --label-field")
    if summary.total and summary.labelled_pixels == 0:
        raise NaturalExplainError(
            f"every polygon of {polygons} lies outside the raster {raster}: draw the labels over the raster, or give "
            "the raster they were drawn on")
    few = {name: count for name, count in summary.pixels.items() if count < min_pixels}
    if few:
        listed = ", ".join(f"{name} ({count})" for name, count in few.items())
        raise NaturalExplainError(
            f"class(es) {listed} of field '{label_field}' cover fewer than {min_pixels} labelled pixels of the "
            f"raster at {resolution_m:g} m: draw more or larger polygons of {'them' if len(few) > 1 else 'it'} "
            "over the raster")
    return summary
