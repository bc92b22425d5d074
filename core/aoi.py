"""The area of interest: a polygon in any CRS, turned into a window and mask on a raster grid."""
import dataclasses
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
from rasterio._err import CPLE_BaseError
from rasterio.crs import CRS
from rasterio.errors import CRSError
from rasterio.features import geometry_mask
from rasterio.warp import transform_geom
from rasterio.windows import Window, from_bounds

from core.errors import NaturalExplainError
from core.raster.grid import Grid
from core.vector_io import read_polygons


def parse_crs(text: str) -> CRS:
    """A CRS from 'EPSG:4326', '4326', WKT or PROJ text.

    Raises:
        NaturalExplainError: when the text is no CRS.
    """
    try:
        return CRS.from_user_input(int(text) if str(text).isdigit() else text)
    except CRSError as exc:
        raise NaturalExplainError(f"'{text}' is not a CRS: use e.g. EPSG:4326") from exc


_NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")


def parse_bounds(text: str) -> tuple[tuple[float, float, float, float], str | None]:
    """'xmin,ymin,xmax,ymax[,EPSG]' -> the four numbers and 'EPSG:code' (None when no EPSG is given).

    Raises:
        NaturalExplainError: (naming no option) unless the text is four finite numbers, with xmin < xmax
            and ymin < ymax, and an optional EPSG code.
    """
    form = "xmin,ymin,xmax,ymax or xmin,ymin,xmax,ymax,EPSG with finite numbers"
    parts = [p.strip() for p in text.split(",")]
    if len(parts) not in (4, 5) or not all(_NUMBER.fullmatch(p) for p in parts[:4]):
        raise NaturalExplainError(f"must be {form}, got {text!r}")
    xmin, ymin, xmax, ymax = (float(p) for p in parts[:4])
    if not all(math.isfinite(v) for v in (xmin, ymin, xmax, ymax)):
        raise NaturalExplainError(f"must be {form}, got {text!r}")
    if not (xmax > xmin and ymax > ymin):
        raise NaturalExplainError(f"must have xmin < xmax and ymin < ymax, got {text!r}")
    crs = None
    if len(parts) == 5:
        code = parts[4].upper().removeprefix("EPSG:")
        crs = f"EPSG:{int(code)}" if code.isascii() and code.isdigit() else parts[4]
        try:
            parse_crs(crs)
        except NaturalExplainError as exc:
            raise NaturalExplainError(f"must end in a known CRS such as the EPSG code 4326, got {parts[4]!r}") from exc
    return (xmin, ymin, xmax, ymax), crs


@dataclasses.dataclass(frozen=True)
class AOI:
    """A (multi)polygon as GeoJSON plus the CRS its coordinates are in."""

    geometry: dict[str, Any]
    crs: str
    is_box: bool = False

    @classmethod
    def from_bounds(cls, xmin: float, ymin: float, xmax: float, ymax: float, crs: str) -> "AOI":
        """A rectangle; the CRS is WKT, 'EPSG:xxxx' or anything rasterio's CRS understands.

        Raises:
            NaturalExplainError: when the rectangle is empty.
        """
        if not all(math.isfinite(v) for v in (xmin, ymin, xmax, ymax)):
            raise NaturalExplainError(f"the AOI ({xmin}, {ymin}, {xmax}, {ymax}) must be four finite numbers")
        if not (xmax > xmin and ymax > ymin):
            raise NaturalExplainError(f"the AOI ({xmin}, {ymin}, {xmax}, {ymax}) is empty: xmax must exceed xmin and ymax ymin")
        parse_crs(crs)
        ring = [[xmin, ymin], [xmax, ymin], [xmax, ymax], [xmin, ymax], [xmin, ymin]]
        return cls({"type": "Polygon", "coordinates": [ring]}, crs, is_box=True)

    @classmethod
    def parse(cls, text: str, default_crs: str) -> "AOI":
        """Parse the CLI's 'xmin,ymin,xmax,ymax[,EPSG]' (the raster's CRS when no EPSG is given).

        Raises:
            NaturalExplainError: when the text is not four finite numbers making a box and an optional EPSG code.
        """
        try:
            numbers, crs = parse_bounds(text)
        except NaturalExplainError as exc:
            raise NaturalExplainError(f"--aoi: {exc}") from exc
        return cls.from_bounds(*numbers, crs=crs or default_crs)

    @classmethod
    def from_vector(cls, path: str | Path) -> "AOI":
        """The union (as a MultiPolygon) of every polygon in a vector file."""
        polygons, crs = read_polygons(path)
        coords = [poly for geometry, _ in polygons for poly in _polygons(geometry)]
        return cls({"type": "MultiPolygon", "coordinates": coords}, crs)

    def in_crs(self, crs: CRS) -> dict[str, Any]:
        """The geometry reprojected into `crs` (densified edges, so boxes bend correctly)."""
        return transform_geom(parse_crs(self.crs), crs, self.geometry, precision=-1)

    def window_on(self, grid: Grid) -> Window:
        """The whole-pixel window of `grid` covering the AOI, clipped to the grid.

        Raises:
            NaturalExplainError: when the AOI and the grid do not overlap.
        """
        try:
            xs, ys = _coordinates(self.in_crs(grid.crs))
        except CPLE_BaseError:  # PROJ cannot even reach the raster's CRS zone from there
            xs, ys = [], []
        col0 = row0 = col1 = row1 = 0
        if xs:
            w = from_bounds(min(xs), min(ys), max(xs), max(ys), transform=grid.transform)
            col0, row0 = max(math.floor(w.col_off + 1e-9), 0), max(math.floor(w.row_off + 1e-9), 0)
            col1 = min(math.ceil(w.col_off + w.width - 1e-9), grid.width)
            row1 = min(math.ceil(w.row_off + w.height - 1e-9), grid.height)
        if col1 <= col0 or row1 <= row0:
            xmin, ymin, xmax, ymax = grid.bounds
            raise NaturalExplainError(
                f"the AOI lies outside the raster, whose bounds are {xmin:.6g}, {ymin:.6g}, {xmax:.6g}, {ymax:.6g} "
                f"in {grid.crs.to_string()}: draw the AOI over the raster")
        return Window(col0, row0, col1 - col0, row1 - row0)

    def inside_mask(self, grid: Grid) -> np.ndarray | None:
        """Bool (H, W) mask of `grid` pixels whose centre is inside the AOI; None for a box, which needs none."""
        if self.is_box and parse_crs(self.crs) == grid.crs:
            return None
        geometry = self.in_crs(grid.crs)
        return geometry_mask([geometry], out_shape=(grid.height, grid.width), transform=grid.transform, invert=True)


def _coordinates(geometry: dict[str, Any]) -> tuple[list[float], list[float]]:
    flat = np.asarray([pt for poly in _polygons(geometry) for ring in poly for pt in ring], dtype=float)
    return flat[:, 0].tolist(), flat[:, 1].tolist()


def _polygons(geometry: dict[str, Any]) -> list:
    return [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
