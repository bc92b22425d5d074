"""Every explanation method writes maps on the input grid through the same tiler and blending."""
import numpy as np
import pytest
import rasterio

from core.aoi import AOI
from core.explain.registry import METHODS, explainer_class, parse_methods
from core.pipeline import explain
from core.raster.write import NODATA
from tests.helpers.cli import assert_one_line_error, run_cli

CAPTUM_METHODS = ["gradcam", "occlusion", "deeplift", "ig"]
ALL_METHODS = ["cyclegan", "counterfactual", *CAPTUM_METHODS]


@pytest.fixture(scope="module")
def holed_run(tmp_path_factory, sample_dir):
    """Every method over a 64 px AOI of a sample copy with a nodata hole in it."""
    import shutil

    root = tmp_path_factory.mktemp("methods")
    sample = shutil.copytree(sample_dir, root / "sample")
    with rasterio.open(sample / "B03.tif", "r+") as ds:
        data = ds.read(1)
        data[510:520, 610:630] = 0
        ds.write(data, 1)
    # rows 500..564, cols 600..664 of the 10 m grid
    aoi = AOI.from_bounds(442730 + 6000, 4174960 - 5640, 442730 + 6640, 4174960 - 5000, "EPSG:32618")
    return explain(sample, root / "out", methods=ALL_METHODS, aoi=aoi)


def test_registry_lists_every_method_once():
    classes = [explainer_class(name) for name in METHODS]
    assert sorted(METHODS) == sorted(ALL_METHODS)
    assert len(set(classes)) == len(classes), "one explainer registered under two names"
    assert [cls.name for cls in classes] == list(METHODS), "an explainer's name differs from its registry key"


@pytest.mark.slow
@pytest.mark.parametrize("method", ALL_METHODS)
def test_attribution_lies_on_the_naturalness_grid_and_keeps_nodata(holed_run, method):
    with rasterio.open(holed_run.outputs["naturalness"]) as ref, rasterio.open(holed_run.outputs[f"attribution_{method}"]) as ds:
        assert (ds.crs, ds.transform, ds.shape) == (ref.crs, ref.transform, ref.shape) == (ref.crs, ref.transform, (64, 64))
        data = ds.read(1)
    assert not np.isnan(data).any()
    hole = data[10:20, 10:30]
    assert (hole == NODATA).all() and (data[30:] != NODATA).all()
    valid = data[data != NODATA]
    assert valid.min() >= 0 and valid.max() > 0


@pytest.mark.slow
def test_run_record_times_every_method(holed_run):
    import json

    timings = json.loads(holed_run.run_json.read_text())["timings"]
    assert all(timings[f"{m}_s"] > 0 for m in ALL_METHODS) and set(ALL_METHODS) <= set(timings["s_per_megapixel"])


@pytest.mark.slow
@pytest.mark.parametrize("name", ["enhanced_max", "enhanced_min"])
def test_enhanced_images_carry_the_model_bands_in_the_input_units(holed_run, sample_dir, name):
    with rasterio.open(holed_run.outputs[name]) as ds, rasterio.open(holed_run.outputs["naturalness"]) as ref:
        assert (ds.crs, ds.transform, ds.shape) == (ref.crs, ref.transform, ref.shape)
        assert ds.descriptions[:4] == ("B02", "B03", "B04", "B08") and ds.count == 10
        data = ds.read()
    valid = data[:, 30:, :]
    assert (data[:, 10:20, 10:30] == NODATA).all() and not np.isnan(data).any()
    assert 0 <= valid.min() and valid.max() <= 10_000  # Sentinel-2 DN: reflectance x 10000


def test_unknown_method_is_one_line(tmp_path, sample_dir):
    assert_one_line_error(run_cli("explain", str(sample_dir), "--out", str(tmp_path / "o"), "--methods", "gradcam,lime"),
                          "unknown method(s) lime", "gradcam")
    assert parse_methods(" GradCAM , ig,gradcam") == ["gradcam", "ig"]
