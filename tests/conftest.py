"""Shared fixtures: the bundled real sample and small real rasters derived from it."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import rasterio

from core.resources import DEFAULT_MODEL, SAMPLE

REPO = Path(__file__).resolve().parent.parent
MODEL_BANDS = ["B02", "B03", "B04", "B08", "B05", "B06", "B07", "B8A", "B11", "B12"]


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    """The bundled Sentinel-2 crop: one GeoTIFF per band at native 10/20/60 m."""
    return SAMPLE


@pytest.fixture(scope="session")
def default_model() -> Path:
    return DEFAULT_MODEL


@pytest.fixture
def sample_copy(tmp_path: Path) -> Path:
    """A writable copy of the sample, for tests that damage it."""
    return Path(shutil.copytree(SAMPLE, tmp_path / "sample"))


def run_cli(*args: str, module: str = "core") -> subprocess.CompletedProcess:
    """Run `python -m <module> ...` from the repo root as a user would."""
    return subprocess.run([sys.executable, "-m", module, *args], cwd=REPO, capture_output=True, text=True)


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
