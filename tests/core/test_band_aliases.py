"""Bands of real products match the models' Sentinel-2 names without --bands.

Supported: Sentinel-2 L1C/L2A file names (`T18SVG_..._B02_10m.jp2`, `B8A_20m`) and the L2A
IMG_DATA/R10m,R20m,R60m layout (each band at its finest resolution); Landsat 8/9 Collection 2
names mapped to Sentinel-2's by wavelength (`SR_B2`..`SR_B7`, and `B2`..`B7` in files named like
a Landsat product, `LC09_L2SP_...`; Landsat 4-7 products by their own numbering); colour words in
descriptions (Red, Green, Blue, NIR, near infrared, SWIR1/2); and GDAL's colour interpretation
(Red/Green/Blue, and NIR where GDAL >= 3.10 has it) for bands with no other name. A band GDAL
calls undefined stays unnamed. Every file here is the real bundled sample's, under the product's
names.
"""
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.windows import Window, from_bounds

from core.models.choice import choose_model
from core.pipeline import explain
from core.raster.sources import normalize_band_name, open_input
from core.resources import DEFAULT_MODEL, RGBN_MODEL, SAMPLE
from tests.helpers.rasters import MODEL_BANDS, grid_of

WINDOW = Window(300, 300, 128, 128)
L2A = "T18SVG_20200101T155511"
LANDSAT9_L2 = "LC09_L2SP_014034_20220101_20220103_02_T1"
LANDSAT8_L1 = "LC08_L1TP_014034_20220101_20220103_02_T1"
LANDSAT7_L2 = "LE07_L2SP_014034_20220101_20220103_02_T1"


@pytest.mark.parametrize("text,name", [
    (f"{L2A}_B02_10m", "B02"), (f"{L2A}_B8A_20m.jp2", "B8A"), ("B8A_20m", "B8A"), ("B12_20m", "B12"),
    ("B11", "B11"), ("B5", "B05"),
    ("SR_B1", "B01"), ("SR_B2", "B02"), ("SR_B3", "B03"), ("SR_B4", "B04"), ("SR_B5", "B08"), ("SR_B6", "B11"),
    ("SR_B7", "B12"), ("ST_B10", "TIR1"), (f"{LANDSAT9_L2}_SR_B5.TIF", "B08"), (f"{LANDSAT8_L1}_B5.TIF", "B08"),
    (f"{LANDSAT8_L1}_B8.TIF", "PAN"), (f"{LANDSAT8_L1}_B9.TIF", "B10"), (f"{LANDSAT7_L2}_SR_B4.TIF", "B08"),
    (f"{LANDSAT7_L2}_SR_B5.TIF", "B11"), (f"{LANDSAT7_L2}_SR_B7.TIF", "B12"),
    ("Red", "B04"), ("green", "B03"), ("BLUE", "B02"), ("NIR", "B08"), ("near-infrared", "B08"),
    ("Near Infrared", "B08"), ("SWIR1", "B11"), ("swir 2", "B12"), ("Band 1", "BAND 1")])
def test_product_band_names_become_sentinel2_names(text, name):
    assert normalize_band_name(text) == name


def test_a_plain_band_number_is_landsat_only_in_a_landsat_product():
    assert normalize_band_name("B5", context=f"{LANDSAT9_L2}.TIF") == "B08"
    assert normalize_band_name("B5", context="scene.tif") == "B05"
    assert normalize_band_name("B05", context=f"{LANDSAT9_L2}.TIF") == "B05"  # USGS never pads: Sentinel-2's


def crop(source: Path, target: Path) -> Path:
    """The sample band file `source` cut to WINDOW (of the 10 m grid) at its own resolution, written to `target`."""
    with rasterio.open(SAMPLE / "B02.tif") as ref:
        bounds = rasterio.windows.bounds(WINDOW, ref.transform)
    with rasterio.open(source) as ds:
        window = from_bounds(*bounds, ds.transform).round_offsets().round_lengths()
        profile = dict(ds.profile, width=window.width, height=window.height,
                       transform=ds.window_transform(window))
        data = ds.read(window=window)
    target.parent.mkdir(parents=True, exist_ok=True)
    with rasterio.open(target, "w", **profile) as dst:
        dst.write(data)
    return target


@pytest.fixture(scope="module")
def l2a_img_data(tmp_path_factory) -> Path:
    """An L2A IMG_DATA folder: R10m/R20m/R60m with the sample's bands under L2A's names, B02-B04 also at 20 m,
    and an 8-bit true-colour TCI_10m whose colour interpretation must not name bands."""
    root = tmp_path_factory.mktemp("l2a") / "IMG_DATA"
    for band in ["B02", "B03", "B04", "B08"]:
        crop(SAMPLE / f"{band}.tif", root / "R10m" / f"{L2A}_{band}_10m.tif")
    for band in ["B02", "B03", "B04", "B05", "B06", "B07", "B8A", "B11", "B12"]:
        crop(SAMPLE / f"{band}.tif", root / "R20m" / f"{L2A}_{band}_20m.tif")
    crop(SAMPLE / "B01.tif", root / "R60m" / f"{L2A}_B01_60m.tif")
    with rasterio.open(root / "R10m" / f"{L2A}_B02_10m.tif") as ds:
        profile = dict(ds.profile, count=3, dtype="uint8", nodata=None, photometric="RGB")
    with rasterio.open(root / "R10m" / f"{L2A}_TCI_10m.tif", "w", **profile) as dst:
        dst.write(np.full((3, profile["height"], profile["width"]), 128, dtype="uint8"))
    return root


def test_l2a_folder_matches_every_band_at_its_finest_resolution(l2a_img_data, tmp_path):
    raster = open_input(l2a_img_data)
    named = {b.name: b for b in raster.bands if b.name}
    assert set(MODEL_BANDS) <= set(named) and named["B02"].path.parent.name == "R10m"
    assert [b.name for b in raster.bands].count("B02") == 1  # the 20 m copy is left out
    assert not [b.name for b in raster.bands if "TCI" in b.path.name and b.name]  # file names name bands here
    result = explain(l2a_img_data, tmp_path / "o", device="cpu")
    assert result.model.path == DEFAULT_MODEL
    assert grid_of(tmp_path / "o" / "naturalness.tif") == grid_of(l2a_img_data / "R10m" / f"{L2A}_B02_10m.tif")


@pytest.fixture(scope="module")
def landsat_folder(tmp_path_factory) -> Path:
    """A Landsat 9 Collection 2 Level-2 folder: SR_B2..SR_B7 (the sample's B02, B03, B04, B08, B11, B12) and QA_PIXEL."""
    root = tmp_path_factory.mktemp("landsat") / LANDSAT9_L2
    for landsat, sentinel in [("SR_B2", "B02"), ("SR_B3", "B03"), ("SR_B4", "B04"), ("SR_B5", "B08"),
                              ("SR_B6", "B11"), ("SR_B7", "B12"), ("QA_PIXEL", "B01")]:
        crop(SAMPLE / f"{sentinel}.tif", root / f"{LANDSAT9_L2}_{landsat}.TIF")
    return root


def test_landsat_folder_matches_by_wavelength_and_gets_the_rgbn_model(landsat_folder, tmp_path):
    raster = open_input(landsat_folder)
    assert [b.name for b in raster.bands] == [f"{LANDSAT9_L2}_QA_PIXEL".upper(), "B02", "B03", "B04", "B08", "B11", "B12"]
    result = explain(landsat_folder, tmp_path / "o", device="cpu")
    assert result.model.path == RGBN_MODEL and result.model.automatic
    record = json.loads((tmp_path / "o" / "run.json").read_text())
    assert record["model"]["chosen_automatically"] is True and record["model"]["bands"] == ["B02", "B03", "B04", "B08"]
    assert not record["warnings"]


def test_landsat_level1_file_names_match_too(landsat_folder, tmp_path):
    for path in landsat_folder.glob("*_SR_B*.TIF"):
        shutil.copy(path, tmp_path / path.name.replace(LANDSAT9_L2, LANDSAT8_L1).replace("_SR_", "_"))
    assert [b.name for b in open_input(tmp_path).bands] == ["B02", "B03", "B04", "B08", "B11", "B12"]


def test_stacked_landsat_geotiff_named_by_descriptions(landsat_folder, tmp_path):
    """Earth Engine exports name a stack's bands SR_B2 ... in their descriptions."""
    files = sorted(landsat_folder.glob("*_SR_B[2-5].TIF"))
    with rasterio.open(files[0]) as ds:
        profile = dict(ds.profile, count=len(files))
    with rasterio.open(tmp_path / "stack.tif", "w", **profile) as dst:
        for i, path in enumerate(files, start=1):
            with rasterio.open(path) as src:
                dst.write(src.read(1), i)
            dst.set_band_description(i, path.stem.rsplit("_", 2)[-2] + "_" + path.stem.rsplit("_", 1)[-1])
    raster = open_input(tmp_path / "stack.tif")
    assert [b.name for b in raster.bands] == ["B02", "B03", "B04", "B08"]
    assert choose_model(raster).path == RGBN_MODEL


def test_landsat_digital_numbers_left_unscaled_get_the_value_range_warning(landsat_folder, tmp_path):
    """Collection 2 Level-2 stores reflectance as DN = (reflectance + 0.2) / 2.75e-5; the models multiply by 1e-4.

    The scale is the model card's: a product stored otherwise is caught by the value-range check.
    """
    encoded = tmp_path / "encoded"
    encoded.mkdir()
    for path in landsat_folder.glob("*_SR_B*.TIF"):
        with rasterio.open(path) as ds:
            profile, data = ds.profile, ds.read().astype("float64")
        with rasterio.open(encoded / path.name, "w", **profile) as dst:
            dst.write(np.clip((data * 1e-4 + 0.2) / 2.75e-5, 1, 65535).round().astype("uint16"))
    result = explain(encoded, tmp_path / "o", device="cpu")
    assert any("unlike the model's training imagery" in w for w in result.warnings), result.warnings
    assert "value_range" in json.loads(result.run_json.read_text())["verdict"]["fired"]
