"""python -m core segment: the bundled U-Net segmenter's map on the real sample, wrong-kind models refused
in one line, and the SpaceNet-style scores on small cases worked out by hand."""
import json
from pathlib import Path

import numpy as np
import pytest
import rasterio
from osgeo import ogr
from rasterio.transform import from_origin
from rasterio.windows import Window

from core.raster.write import NODATA
from core.resources import DEFAULT_GENERATORS, DEFAULT_MODEL
from core.segment import DEFAULT_SEGMENTER, segment
from core.segment_metrics import edge_zone, map_polygons, pixel_scores, polygon_f1
from tests.helpers.cli import run_cli
from tests.helpers.rasters import grid_of, write_stack

pytestmark = pytest.mark.slow  # runs the segmenter on the sample and its CLI


@pytest.fixture(scope="module")
def sample_segmentation(tmp_path_factory: pytest.TempPathFactory, sample_dir: Path) -> Path:
    out = tmp_path_factory.mktemp("segment")
    result = run_cli("segment", str(sample_dir), "--out", str(out), "--quiet")
    assert result.returncode == 0, result.stderr
    return out


def test_segmentation_lies_exactly_on_the_input_grid(sample_segmentation: Path, sample_dir: Path) -> None:
    assert grid_of(sample_segmentation / "segmentation.tif") == grid_of(sample_dir / "B02.tif")


def test_band_one_is_the_probability_of_natural(sample_segmentation: Path) -> None:
    with rasterio.open(sample_segmentation / "segmentation.tif") as ds:
        data = ds.read(1)
        assert ds.count == 1 and ds.descriptions == ("naturalness",)  # two classes: one band, as naturalness.tif
        assert ds.nodata == NODATA and ds.dtypes[0] == "float32"
    assert not np.isnan(data).any() and data.min() >= 0 and data.max() <= 1
    assert (data < 0.1).mean() > 0.1 and (data > 0.9).mean() > 0.1  # farmland and marsh both in the sample


def test_run_record_names_the_segmenter(sample_segmentation: Path) -> None:
    record = json.loads((sample_segmentation / "run.json").read_text())
    assert record["model"]["architecture"] == "unet_segmenter"
    assert record["model"]["training_command"].startswith("python -m train segmenter")
    assert record["outputs"]["segmentation"].endswith("segmentation.tif") and record["timings"]["total_s"] > 0


def test_nodata_in_the_input_is_nodata_in_the_map(tmp_path: Path) -> None:
    stack = write_stack(tmp_path / "stack.tif", Window(0, 0, 200, 160))
    with rasterio.open(stack, "r+") as ds:
        band = ds.read(3)
        band[40:80, 50:120] = 0  # nodata in one band only
        ds.write(band, 3)
    result = segment(stack, tmp_path / "out", device="cpu")
    with rasterio.open(result.segmentation) as ds:
        data = ds.read(1)
    assert (data[40:80, 50:120] == NODATA).all()
    assert (data[:40] != NODATA).all() and data[:40].max() <= 1


@pytest.mark.parametrize("command, model, kind", [("explain", DEFAULT_SEGMENTER, "holds a segmenter"),
                                                  ("segment", DEFAULT_MODEL, "holds a classifier"),
                                                  ("segment", DEFAULT_GENERATORS, "holds pattern generators")])
def test_a_model_of_the_wrong_kind_is_one_line_and_exit_2(tmp_path: Path, sample_dir: Path, command: str,
                                                          model: Path, kind: str) -> None:
    result = run_cli(command, str(sample_dir), "--out", str(tmp_path / "out"), "--model", str(model), "--quiet")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and kind in lines[0] and "Traceback" not in result.stderr, result.stderr
    assert ("core segment" if command == "explain" else "core explain") in lines[0]
    assert not (tmp_path / "out" / "run.json").exists()


def test_pixel_scores_on_a_known_case() -> None:
    predicted = np.array([1, 1, 1, 0, 0, 0, 1, 0], bool)
    truth = np.array([1, 1, 0, 1, 0, 0, 0, 0], bool)
    scores = pixel_scores(predicted, truth)  # tp 2, fp 2, fn 1, tn 3
    assert (scores["tp"], scores["fp"], scores["fn"], scores["tn"]) == (2, 2, 1, 3)
    assert scores["iou"] == pytest.approx(2 / 5, abs=1e-4) and scores["f1"] == pytest.approx(4 / 7, abs=1e-4)
    assert scores["accuracy"] == pytest.approx(5 / 8)


def test_edge_zone_is_the_labelled_pixels_near_a_polygon_outline() -> None:
    labels = np.full((9, 12), -1)
    labels[:, :5] = 0
    labels[:, 7:] = 1  # a 2 px unlabelled gap between the classes at columns 5 and 6
    zone = edge_zone(labels, width=2)
    assert zone[:, 3:5].all() and zone[:, 7:9].all()  # two labelled columns either side of the gap
    assert not zone[:, :3].any() and not zone[:, 9:].any() and not zone[:, 5:7].any()


def _square(x0: float, y0: float, side: float) -> ogr.Geometry:
    return ogr.CreateGeometryFromWkt(f"POLYGON(({x0} {y0},{x0 + side} {y0},{x0 + side} {y0 + side},{x0} {y0 + side},"
                                     f"{x0} {y0}))")


def test_polygon_f1_matches_one_to_one_at_iou_one_half() -> None:
    truth = [_square(0, 0, 10), _square(20, 0, 10)]
    predicted = [_square(1, 0, 10),   # IoU 90/110 with truth 0: a match
                 _square(0, 0, 10),   # IoU 1 with truth 0: the better pair takes it, so this one is unmatched
                 _square(26, 0, 10)]  # IoU 40/160 with truth 1: too little
    scores = polygon_f1(predicted, truth)
    assert (scores["tp"], scores["predicted"], scores["truth"]) == (1, 3, 2)
    assert scores["f1"] == pytest.approx(2 / 5, abs=1e-4) and scores["precision"] == pytest.approx(1 / 3, abs=1e-4)


def test_map_polygons_vectorizes_the_thresholded_map(tmp_path: Path) -> None:
    values = np.zeros((20, 30), dtype="float32")
    values[2:6, 2:8] = 0.9     # one 4 x 6 px region
    values[10:18, 20:25] = 0.6  # one 8 x 5 px region
    values[0, :] = NODATA
    path = tmp_path / "map.tif"
    with rasterio.open(path, "w", driver="GTiff", width=30, height=20, count=1, dtype="float32", nodata=NODATA,
                       crs="EPSG:32618", transform=from_origin(440000, 4170000, 10, 10)) as dst:
        dst.write(values[None])
    areas = sorted(g.GetArea() for g in map_polygons(path, 0.5))
    assert areas == [24 * 100.0, 40 * 100.0]
