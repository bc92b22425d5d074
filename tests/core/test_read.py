import numpy as np
import rasterio
from rasterio.windows import Window

from core.raster.bands import match_bands
from core.raster.grid import model_grid
from core.raster.read import read_window
from core.raster.sources import open_input


def test_aligned_band_is_read_without_resampling(sample_dir):
    raster = open_input(sample_dir)
    (raw,), valid = read_window(match_bands(raster, ["B02"]), raster.grid, Window(100, 200, 64, 32))
    with rasterio.open(sample_dir / "B02.tif") as src:
        np.testing.assert_array_equal(raw, src.read(1, window=Window(100, 200, 64, 32)))
    assert valid.all()


def test_20m_band_resampled_to_10m_keeps_its_mean(sample_dir):
    raster = open_input(sample_dir)
    (raw,), valid = read_window(match_bands(raster, ["B11"]), raster.grid)
    with rasterio.open(sample_dir / "B11.tif") as src:
        native = src.read(1).astype(float)
    assert raw.shape == (800, 800) and valid.all()
    assert abs(raw.mean() - native.mean()) / native.mean() < 0.01


def test_window_outside_the_raster_reads_as_invalid(sample_dir):
    raster = open_input(sample_dir)
    raw, valid = read_window(match_bands(raster, ["B02", "B11"]), raster.grid, Window(-20, -10, 40, 30))
    assert not valid[:10].any() and not valid[:, :20].any() and valid[12:, 22:].all()


def test_model_grid_at_coarser_resolution_covers_the_same_area(sample_dir):
    grid = open_input(sample_dir).grid
    coarse = model_grid(grid, 30.0)
    assert coarse.res == (30.0, 30.0) and coarse.bounds[:2] == (grid.bounds[0], grid.bounds[3] - 30 * coarse.height)
    assert model_grid(grid, 10.0) is grid
