"""The pixels a user asks to fill: a raster on the input's grid (nonzero = fill) or polygons in any CRS.

Read window by window like the input, so a continent-sized mask costs no memory; its errors
(not on the input's grid, selecting no pixel, a damaged block) are one line naming the mask.
"""
from pathlib import Path

import numpy as np
import rasterio
from rasterio.errors import RasterioIOError
from rasterio.windows import Window

from core.aoi import AOI
from core.errors import NaturalExplainError
from core.raster.grid import Grid
from core.raster.read import read_checked
from core.raster.sources import undecodable_gdal_messages_silenced


class FillMask:
    """The user's mask on the input grid: a raster on that grid (nonzero = fill) or polygons in any CRS."""

    def __init__(self, path: str | Path, grid: Grid) -> None:
        self.path, self.grid = Path(path), grid
        self.aoi: AOI | None = None
        self.dataset: rasterio.DatasetReader | None = None
        if not self.path.exists():
            raise NaturalExplainError(f"mask {self.path} does not exist")
        try:
            with undecodable_gdal_messages_silenced():
                self.dataset = rasterio.open(self.path)
        except RasterioIOError:
            self.aoi = AOI.from_vector(self.path)  # its own one-line errors for unreadable files
            return
        ds = self.dataset
        if ds.crs is None or not Grid(ds.crs, ds.transform, ds.width, ds.height).same_as(grid):
            ds.close()
            xmin, ymin, xmax, ymax = grid.bounds
            raise NaturalExplainError(
                f"mask {self.path} is not on the input's grid ({grid.width}x{grid.height} px, {grid.crs.to_string()}): "
                f"warp it onto it (gdalwarp -t_srs {grid.crs.to_string()} -te {xmin} {ymin} {xmax} {ymax} "
                f"-ts {grid.width} {grid.height} -r near) or give polygons instead")

    def close(self) -> None:
        if self.dataset is not None:
            self.dataset.close()

    def read(self, window: Window) -> np.ndarray:
        """Bool (h, w): True where the mask asks for a fill (a raster's nodata and NaN never do).

        Raises:
            NaturalExplainError: naming the mask and the window when its file is damaged.
        """
        if self.dataset is not None:
            values = read_checked(self.dataset, 1, window, masked=True)
            return np.ma.filled((values != 0) & ~np.isnan(values), False)
        return self.aoi.inside_mask(self.grid.window(window))  # never None: polygons are no box

    def check_selects_pixels(self, rows_per_strip: int = 512) -> None:
        """Strip by strip, so a continent-sized mask costs no memory.

        Raises:
            NaturalExplainError: when the mask selects no pixel of the input.
        """
        for row in range(0, self.grid.height, rows_per_strip):
            if self.read(Window(0, row, self.grid.width, min(rows_per_strip, self.grid.height - row))).any():
                return
        xmin, ymin, xmax, ymax = self.grid.bounds
        raise NaturalExplainError(
            f"mask {self.path} selects no pixel of the input (its raster is all zero, or its polygons lie outside "
            f"the input's bounds {xmin:.6g}, {ymin:.6g}, {xmax:.6g}, {ymax:.6g} in {self.grid.crs.to_string()}): "
            "mark the pixels to fill")
