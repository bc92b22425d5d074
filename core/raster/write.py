"""Write float GeoTIFFs window by window under a temporary name, renamed when complete."""
import contextlib
import shutil
from pathlib import Path
from typing import Iterator

import numpy as np
import rasterio
import rasterio.shutil
from rasterio.enums import Resampling
from rasterio.errors import RasterioIOError
from rasterio.vrt import WarpedVRT
from rasterio.windows import Window

from core.atomic import atomic_path
from core.errors import NaturalExplainError
from core.raster.grid import Grid

NODATA = -9999.0
_PROFILE = dict(driver="GTiff", dtype="float32", nodata=NODATA, tiled=True, blockxsize=256, blockysize=256,
                compress="deflate", predictor=3, BIGTIFF="IF_SAFER")


@contextlib.contextmanager
def open_geotiff(path: str | Path, grid: Grid, bands: int = 1, descriptions: list[str] | None = None,
                 dtype: str = "float32", nodata: float | None = NODATA) -> Iterator[rasterio.io.DatasetWriter]:
    """A GeoTIFF on `grid` (float32 maps by default), open for windowed writes, renamed to `path` on success.

    Every pixel starts as nodata, so rows never written (a skipped empty tile) read as nodata.
    A raster in the input's own dtype (inpainting) passes `dtype` and its `nodata` (None: none).
    """
    profile = dict(_PROFILE, crs=grid.crs, transform=grid.transform, width=grid.width, height=grid.height, count=bands,
                   dtype=dtype, nodata=nodata, predictor=3 if np.dtype(dtype).kind == "f" else 2)
    if grid.width < 256 or grid.height < 256:
        profile.update(tiled=False, blockxsize=None, blockysize=None)
        profile = {k: v for k, v in profile.items() if v is not None}
    with atomic_path(path) as tmp:
        with rasterio.open(tmp, "w", **profile) as dst:
            for i, text in enumerate(descriptions or [], start=1):
                dst.set_band_description(i, text)
            yield dst
        _verify_complete(tmp, Path(path))


def _verify_complete(tmp: Path, final: Path) -> None:
    """Read every block back: GDAL can lose a write (a full disk) without raising.

    Raises:
        NaturalExplainError: when a block cannot be read, before the file gets its final name.
    """
    try:
        with rasterio.open(tmp) as ds:
            for _, window in ds.block_windows(1):
                ds.read(window=window)
    except RasterioIOError as exc:
        free_mb = shutil.disk_usage(final.parent).free / 1e6
        raise NaturalExplainError(f"{final} could not be written completely ({free_mb:.0f} MB free on that disk): "
                                  "free some space or choose another output folder") from exc


def to_cog(path: Path) -> None:
    """Rewrite a finished GeoTIFF as a Cloud-Optimized GeoTIFF (internal tiles and overviews), atomically.

    GDAL's COG driver needs the whole file to build overviews, so it is a copy after the windowed
    writes, not a way of writing them.
    """
    with atomic_path(path) as tmp:
        rasterio.shutil.copy(path, tmp, driver="COG", COMPRESS="DEFLATE", PREDICTOR="YES", BIGTIFF="IF_SAFER",
                             OVERVIEW_RESAMPLING="AVERAGE")
        _verify_complete(tmp, path)


def write_rows(dst: rasterio.io.DatasetWriter, row0: int, values: np.ndarray, valid: np.ndarray) -> None:
    """Write (C, h, W) values at `row0`, nodata where `valid` is False."""
    data = np.where(valid[None], values, NODATA).astype(np.float32)
    dst.write(data, window=Window(0, row0, values.shape[2], values.shape[1]))


def warped_rows(src_path: Path, grid: Grid, rows_per_block: int = 512) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (first_row, (C, h, W) values) of a float GeoTIFF warped onto `grid` (bilinear).

    Used when a model computes at its own resolution and the result must land exactly on
    the input's pixel grid; block by block, so memory stays flat.
    """
    with rasterio.open(src_path) as src, WarpedVRT(src, crs=grid.crs, transform=grid.transform, width=grid.width,
                                                   height=grid.height, resampling=Resampling.bilinear,
                                                   src_nodata=NODATA, nodata=NODATA) as vrt:
        for row0 in range(0, grid.height, rows_per_block):
            window = Window(0, row0, grid.width, min(rows_per_block, grid.height - row0))
            yield row0, vrt.read(window=window)
