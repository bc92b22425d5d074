"""The whole pipeline on the real Sentinel-2 sample with the bundled model."""
import json

import numpy as np
import pytest
import rasterio
from osgeo import ogr, osr
from rasterio.features import rasterize
from rasterio.warp import transform_bounds

from core.aoi import AOI
from core.errors import RunCanceled
from core.models.model_file import load_model, save_model
from core.pipeline import explain
from core.raster.write import NODATA
from core.resources import RESOURCES
from core.vector_io import read_polygons
from tests.helpers.cli import run_cli
from tests.helpers.rasters import grid_of

pytestmark = pytest.mark.slow  # runs explain on the whole sample


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory, sample_dir):
    out = tmp_path_factory.mktemp("run")
    result = run_cli("explain", str(sample_dir), "--out", str(out), "--quiet")
    assert result.returncode == 0, result.stderr
    return out


def test_output_lies_exactly_on_the_input_grid(sample_run, sample_dir):
    assert grid_of(sample_run / "naturalness.tif") == grid_of(sample_dir / "B02.tif")


def test_naturalness_is_a_probability_everywhere(sample_run):
    with rasterio.open(sample_run / "naturalness.tif") as ds:
        data = ds.read(1)
        assert ds.nodata == NODATA and ds.dtypes[0] == "float32"
    assert not np.isnan(data).any() and data.min() >= 0 and data.max() <= 1


def test_natural_labelled_pixels_score_higher_than_anthropogenic_ones(sample_run):
    polygons, crs = read_polygons(RESOURCES / "labels" / "virginia_s2_train.geojson", "label")
    with rasterio.open(sample_run / "naturalness.tif") as ds:
        scores = ds.read(1)
        codes = {"anthropogenic": 1, "natural": 2}
        labels = rasterize([(g, codes[v]) for g, v in polygons], out_shape=scores.shape, transform=ds.transform)
    natural, anthropogenic = scores[labels == 2].mean(), scores[labels == 1].mean()
    assert (labels == 2).sum() > 10_000 and (labels == 1).sum() > 10_000
    assert natural - anthropogenic > 0.4, (natural, anthropogenic)


def test_run_record_pins_input_model_and_timings(sample_run, sample_dir):
    record = json.loads((sample_run / "run.json").read_text())
    assert len(record["input"]["sha256"]) == 64 and record["model"]["training_command"].startswith("python -m train")
    assert record["timings"]["total_s"] > 0 and record["grid"]["width"] == 800
    assert record["outputs"]["naturalness"].endswith("naturalness.tif")


def test_nodata_in_any_band_is_nodata_in_the_map(tmp_path, sample_copy):
    for band, scale in (("B02", 1), ("B11", 2)):
        with rasterio.open(sample_copy / f"{band}.tif", "r+") as ds:
            data = ds.read(1)
            data[300 // scale:400 // scale, 100 // scale:200 // scale] = 0
            data[600 // scale:, 600 // scale:] = 0
            ds.write(data, 1)
    result = explain(sample_copy, tmp_path / "o", tile_size=128)
    with rasterio.open(result.outputs["naturalness"]) as ds:
        out = ds.read(1)
    assert any("skipped" in w for w in result.warnings)
    assert (out[300:400, 100:200] == NODATA).all() and (out[600:, 600:] == NODATA).all()
    assert (out[:290] != NODATA).all() and (out[:, :90] != NODATA).all()


def test_aoi_in_another_crs_is_cut_on_the_input_grid(tmp_path, sample_dir):
    bounds = transform_bounds("EPSG:32618", "EPSG:4326", 444000, 4168000, 447000, 4171000)
    result = explain(sample_dir, tmp_path / "o", aoi=AOI.from_bounds(*bounds, crs="EPSG:4326"))
    with rasterio.open(result.outputs["naturalness"]) as ds, rasterio.open(sample_dir / "B02.tif") as src:
        col, row = ~src.transform * (ds.transform.c, ds.transform.f)
        assert ds.crs == src.crs and ds.res == src.res
        assert col == int(col) and row == int(row)
        left, bottom, right, top = ds.bounds
        assert 443900 < left <= 444000 and 4171000 <= top < 4171100 and 447000 <= right < 447100
        assert (ds.read(1) == NODATA).mean() < 0.05


def test_polygon_aoi_from_a_vector_file_masks_outside_pixels(tmp_path, sample_dir):
    path = tmp_path / "aoi.gpkg"
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32618)
    source = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    layer = source.CreateLayer("aoi", srs, ogr.wkbPolygon)
    feature = ogr.Feature(layer.GetLayerDefn())
    feature.SetGeometry(ogr.CreateGeometryFromWkt("POLYGON((444000 4168000,447000 4168000,444000 4171000,444000 4168000))"))
    layer.CreateFeature(feature)
    source = None
    result = run_cli("explain", str(sample_dir), "--out", str(tmp_path / "o"), "--aoi-vector", str(path), "--quiet")
    assert result.returncode == 0, result.stderr
    with rasterio.open(tmp_path / "o" / "naturalness.tif") as ds:
        data = ds.read(1)
    assert data.shape == (300, 300)
    assert (data[5, 250:] == NODATA).all() and (data[250:, 5:40] != NODATA).all()


def test_model_at_another_resolution_still_writes_on_the_input_grid(tmp_path, sample_dir, default_model):
    loaded = load_model(default_model)
    loaded.card.resolution_m = 20.0
    coarse = save_model(loaded.network, loaded.card, tmp_path / "coarse")
    result = explain(sample_dir, tmp_path / "o", model=coarse, aoi=AOI.from_bounds(443000, 4168000, 446000, 4171000, "EPSG:32618"))
    with rasterio.open(result.outputs["naturalness"]) as ds:
        data = ds.read(1)
        assert ds.res == (10.0, 10.0) and ds.bounds == (443000, 4168000, 446000, 4171000)
    assert data.min() >= 0 and data.max() <= 1 and "resampled" in " ".join(result.warnings)


def test_cancel_leaves_no_final_file(tmp_path, sample_dir):
    calls = []

    def cancel_after_first_batch():
        calls.append(1)
        return len(calls) > 1

    with pytest.raises(RunCanceled):
        explain(sample_dir, tmp_path / "o", batch_size=2, is_canceled=cancel_after_first_batch)
    assert list((tmp_path / "o").iterdir()) == []


def test_vectorized_polygons_carry_score_and_area(tmp_path, sample_run):
    result = run_cli("vectorize", str(sample_run / "naturalness.tif"), "--threshold", "0.5", "--out", str(tmp_path / "n.shp"))
    assert result.returncode == 0, result.stderr
    source = ogr.Open(str(tmp_path / "n.shp"))
    layer = source.GetLayer(0)
    assert layer.GetSpatialRef().GetAuthorityCode(None) == "32618" and layer.GetFeatureCount() > 0
    xmin, xmax, ymin, ymax = layer.GetExtent()
    assert 442730 <= xmin and xmax <= 450730 and 4166960 <= ymin and ymax <= 4174960
    for feature in layer:
        assert feature.GetField("score_mean") >= 0.5 and feature.GetField("area_m2") == feature.GetField("pixels") * 100
    names = sorted(p.name for p in tmp_path.iterdir())
    assert {"n.dbf", "n.prj", "n.shp", "n.shx"} <= set(names) and not any(n.startswith(".") for n in names), names


def test_raster_smaller_than_one_tile_in_one_stacked_file(tmp_path):
    from rasterio.windows import Window

    from tests.helpers.rasters import write_stack

    small = write_stack(tmp_path / "small.tif", Window(500, 100, 70, 45))
    result = run_cli("explain", str(small), "--out", str(tmp_path / "o"), "--quiet")
    assert result.returncode == 0, result.stderr
    assert grid_of(tmp_path / "o" / "naturalness.tif") == grid_of(small)
    with rasterio.open(tmp_path / "o" / "naturalness.tif") as ds:
        data = ds.read(1)
    assert data.min() >= 0 and data.max() <= 1


def test_geographic_input_is_mapped_on_its_own_grid_with_its_nodata_edge(tmp_path):
    from osgeo import gdal
    from rasterio.windows import Window

    from tests.helpers.rasters import write_stack

    utm = write_stack(tmp_path / "utm.tif", Window(200, 200, 300, 300))
    lonlat = tmp_path / "lonlat.tif"
    gdal.Warp(str(lonlat), str(utm), dstSRS="EPSG:4326")
    result = explain(lonlat, tmp_path / "o")
    with rasterio.open(result.outputs["naturalness"]) as out, rasterio.open(lonlat) as src:
        assert (out.crs, out.transform, out.shape) == (src.crs, src.transform, src.shape)
        np.testing.assert_array_equal(out.read(1) != NODATA, src.read_masks(1) > 0)
