"""Small real rasters cut from the bundled sample, and how to compare their grids."""
from pathlib import Path

import rasterio

from core.resources import SAMPLE

MODEL_BANDS = ["B02", "B03", "B04", "B08", "B05", "B06", "B07", "B8A", "B11", "B12"]
# Landsat 8 bands (by position in the cloudy scene's folder, l8_B1, l8_B10, l8_B11, l8_B2, ...) nearest in
# centre wavelength to the model's, as bench/measure_ood.py derives them.
CLOUDY_BANDS = "B02=4,B03=5,B04=6,B08=7,B05=6,B06=6,B07=7,B8A=7,B11=8,B12=9"


def grid_of(path: Path) -> tuple:
    with rasterio.open(path) as ds:
        return ds.crs, ds.transform, ds.width, ds.height


def write_stack(path: Path, window=None, nodata: float | None = 0) -> Path:
    """A multi-band GeoTIFF of the sample's model bands on its 10 m grid, bands described by name.

    This is how analysts usually hold a scene: one file, bands stacked and named.
    """
    from core.raster.bands import match_bands
    from core.raster.read import read_window
    from core.raster.sources import open_input

    raster = open_input(SAMPLE)
    grid = raster.grid.window(window) if window is not None else raster.grid
    raw, _ = read_window(match_bands(raster, MODEL_BANDS), grid)
    profile = dict(driver="GTiff", width=grid.width, height=grid.height, count=len(MODEL_BANDS), dtype="uint16",
                   crs=grid.crs, transform=grid.transform, nodata=nodata, compress="deflate")
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(raw.round().astype("uint16"))
        for i, name in enumerate(MODEL_BANDS, start=1):
            dst.set_band_description(i, name)
    return path
