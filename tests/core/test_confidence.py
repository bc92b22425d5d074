"""The confidence map a JEM adds to explain, on real Sentinel-2 and Landsat 8 imagery: exactly on the
input grid, per-pixel log p(x) where there is data and nodata elsewhere, never written by a plain
classifier, and the run record's "ood" block."""
import json
from pathlib import Path

import numpy as np
import pytest
import rasterio
import torch
from rasterio.windows import Window

from core.aoi import AOI
from core.jem.energy import log_px_map
from core.jem.histogram import training_histogram
from core.models.model_file import load_model
from core.models.preprocess import to_model_input
from core.pipeline import explain
from core.raster.bands import match_bands, parse_band_mapping
from core.raster.read import read_window
from core.raster.sources import open_input
from core.raster.write import NODATA
from core.resources import DEFAULT_JEM, DEFAULT_MODEL
from tests.helpers.rasters import CLOUDY_BANDS, grid_of, write_stack
from train.fetch import landsat8_cloudy_dir

# A 200 x 180 px crop of the sample (one tile) with a 70 x 40 px nodata hole: 6 x 5 = 30 complete
# 32 px patches, of which the hole touches 3 x 2.
CROP = Window(300, 420, 200, 180)
HOLE = (slice(40, 80), slice(50, 120))
COMPLETE_PATCHES = 30 - 6


@pytest.fixture(scope="module")
def crop_with_hole(tmp_path_factory) -> Path:
    path = write_stack(tmp_path_factory.mktemp("crop") / "stack.tif", CROP, nodata=0)
    with rasterio.open(path, "r+") as ds:
        data = ds.read()
        data[:, HOLE[0], HOLE[1]] = 0
        ds.write(data)
    return path


@pytest.fixture(scope="module")
def jem_run(tmp_path_factory, crop_with_hole):
    return explain(crop_with_hole, tmp_path_factory.mktemp("jem"), model=DEFAULT_JEM)


def test_confidence_map_lies_exactly_on_the_input_grid(jem_run, crop_with_hole):
    assert grid_of(jem_run.outputs["confidence"]) == grid_of(crop_with_hole)
    with rasterio.open(jem_run.outputs["confidence"]) as ds:
        assert ds.count == 1 and ds.descriptions == ("log_px",)
        assert ds.dtypes[0] == "float32" and ds.nodata == NODATA


def test_confidence_is_the_networks_log_px_where_valid_and_nodata_in_the_hole(jem_run, crop_with_hole):
    assert json.loads(jem_run.run_json.read_text())["tiles"]["total"] == 1  # so no blending moves a value
    loaded = load_model(DEFAULT_JEM)
    raster = open_input(crop_with_hole)
    raw, valid = read_window(match_bands(raster, loaded.card.bands), raster.grid)
    with torch.inference_mode():
        expected = log_px_map(loaded.network, torch.from_numpy(to_model_input(raw, valid, loaded.card))[None])
    with rasterio.open(jem_run.outputs["confidence"]) as ds:
        confidence = ds.read(1)
    assert not valid[HOLE].any() and (confidence[~valid] == NODATA).all()
    assert np.isfinite(confidence[valid]).all()
    np.testing.assert_allclose(confidence[valid], expected[0, 0].numpy()[valid], rtol=1e-5, atol=1e-4)


def test_run_record_holds_the_ood_block_and_the_confidence_timing(jem_run):
    record = json.loads(jem_run.run_json.read_text())
    ood = record["ood"]
    assert ood["patches"] == COMPLETE_PATCHES
    assert ood["threshold"] == training_histogram(load_model(DEFAULT_JEM).card).percentiles["p1"]
    assert 0 <= ood["share_below_p1"] <= 1 and ood["kl_divergence"] >= 0
    # timed apart from naturalness (it reuses the logits: on this one tile it can round to 0.000 s)
    assert record["timings"]["confidence_s"] >= 0 and "confidence" in record["timings"]["s_per_megapixel"]
    assert record["outputs"]["confidence"].endswith("confidence.tif")


def test_plain_classifier_writes_no_confidence_map_and_no_ood_block(tmp_path, crop_with_hole):
    result = explain(crop_with_hole, tmp_path, model=DEFAULT_MODEL)
    record = json.loads(result.run_json.read_text())
    assert "confidence" not in result.outputs and not (tmp_path / "confidence.tif").exists()
    assert record["ood"] is None and "confidence_s" not in record["timings"]


@pytest.mark.slow
def test_confidence_map_of_a_30_m_landsat_scene_lies_on_its_grid(tmp_path):
    scene = landsat8_cloudy_dir()
    aoi = AOI.from_bounds(452475, 3395145, 458475, 3401145, "EPSG:32616")
    result = explain(scene, tmp_path, model=DEFAULT_JEM, aoi=aoi, bands=parse_band_mapping(CLOUDY_BANDS))
    grid = open_input(scene).grid
    expected = grid.window(aoi.window_on(grid))
    assert grid_of(result.outputs["confidence"]) == (expected.crs, expected.transform, expected.width, expected.height)
    with rasterio.open(result.outputs["confidence"]) as ds:
        confidence = ds.read(1)
    assert np.isfinite(confidence).all() and (confidence != NODATA).mean() > 0.99
