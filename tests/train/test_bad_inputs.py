"""Bad input ends with one clear line on stderr and exit status 2, never a traceback or a model file."""
from pathlib import Path

import pytest
from osgeo import ogr, osr

from tests.helpers.training import RASTER_BANDS, run_train
from train.checkpoint import latest_checkpoint

pytestmark = pytest.mark.slow  # each case starts python -m train


def _polygons(path: Path, features: list[tuple[str | None, str]]) -> Path:
    """A GeoPackage in the scene's CRS with (label, WKT polygon) features."""
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(32618)
    source = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    layer = source.CreateLayer("labels", srs, ogr.wkbPolygon)
    layer.CreateField(ogr.FieldDefn("landscape", ogr.OFTString))
    for label, wkt in features:
        feature = ogr.Feature(layer.GetLayerDefn())
        if label is not None:
            feature.SetField("landscape", label)
        feature.SetGeometry(ogr.CreateGeometryFromWkt(wkt))
        layer.CreateFeature(feature)
    source = None
    return path


def _box(x0: float, y0: float, size: float) -> str:
    return f"POLYGON(({x0} {y0},{x0 + size} {y0},{x0 + size} {y0 + size},{x0} {y0 + size},{x0} {y0}))"


def _assert_one_line_error(result, *words: str) -> None:
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr and len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for word in words:
        assert word in lines[0]


@pytest.fixture
def raster_args(raster_layout: dict[str, Path], tmp_path: Path) -> list:
    return ["classifier", "--raster", raster_layout["raster"], "--polygons", raster_layout["polygons"],
            "--label-field", "landscape", "--bands", ",".join(RASTER_BANDS), "--patch-size", "16",
            "--epochs", "1", "--out", tmp_path / "model"]


def _with(args: list, option: str, value) -> list:
    args = list(args)
    args[args.index(option) + 1] = value
    return args


def test_missing_raster_is_one_line(raster_args: list, tmp_path: Path) -> None:
    _assert_one_line_error(run_train(*_with(raster_args, "--raster", tmp_path / "absent.tif")), "does not exist")
    assert not (tmp_path / "model.json").exists()


def test_missing_polygons_is_one_line(raster_args: list, tmp_path: Path) -> None:
    _assert_one_line_error(run_train(*_with(raster_args, "--polygons", tmp_path / "absent.gpkg")), "does not exist")


def test_unknown_label_field_names_the_fields(raster_args: list) -> None:
    _assert_one_line_error(run_train(*_with(raster_args, "--label-field", "kind")), "no field 'kind'", "landscape")


def test_empty_label_field_is_one_line(raster_args: list, tmp_path: Path) -> None:
    empty = _polygons(tmp_path / "empty.gpkg", [(None, _box(440000, 4172000, 1000)), ("", _box(446500, 4172000, 1000))])
    _assert_one_line_error(run_train(*_with(raster_args, "--polygons", empty)), "empty")


def test_class_without_samples_is_named(raster_args: list, tmp_path: Path) -> None:
    tiny = _polygons(tmp_path / "tiny.gpkg", [("anthropogenic", _box(439500, 4171500, 1500)),
                                              ("natural", _box(447000, 4172000, 150))])
    _assert_one_line_error(run_train(*_with(raster_args, "--polygons", tiny)), "natural", "--patch-size")


def test_unknown_band_says_how_to_map(raster_args: list) -> None:
    _assert_one_line_error(run_train(*_with(raster_args, "--bands", "B02,B03,B04,B11")), "B11", "--band")


def test_unwritable_out_fails_before_training(raster_args: list, tmp_path: Path) -> None:
    not_a_folder = tmp_path / "a_file"
    not_a_folder.write_text("a file where the output folder should be")  # unwritable even for root
    workdir = tmp_path / "checkpoints"
    result = run_train(*_with(raster_args, "--out", not_a_folder / "model"), "--workdir", workdir)
    _assert_one_line_error(result, "--out", "folder")
    assert latest_checkpoint(workdir) is None  # refused before the first epoch, so no checkpoint either


def test_natural_classes_are_required_unless_one_is_named_natural(eurosat_rgb: Path, tmp_path: Path) -> None:
    result = run_train("classifier", "--eurosat", eurosat_rgb, "--out", tmp_path / "model", "--epochs", "1")
    _assert_one_line_error(result, "--natural-classes", "Anthropogenic", "Natural")


def test_raster_without_polygons_is_a_usage_error(raster_layout: dict[str, Path], tmp_path: Path) -> None:
    result = run_train("classifier", "--raster", raster_layout["raster"], "--out", tmp_path / "model")
    _assert_one_line_error(result, "--polygons")
