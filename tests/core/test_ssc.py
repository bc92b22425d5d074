"""Self-Supervised Classification (core.ssc, `python -m core ssc`) on real tiles of the bundled sample.

Phase 2 learns from this image's own confident pixels only, writes on exactly the input's grid
with nodata kept, falls back to phase 1's map when phase 1 saw one class only, and stops with one
line on input it cannot learn from. The labels used are the north-half training labels (the
sample's rows 0-529 are the scene's north half; the crops here stay above that).
"""
import json
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.windows import Window

import core.ssc
from core.aoi import AOI
from core.pipeline import explain
from core.raster.bands import match_bands
from core.raster.read import BandReader
from core.raster.sources import open_input
from core.raster.write import NODATA
from core.ssc import (
    ANTHROPOGENIC,
    NATURAL,
    FeatureSpec,
    _predict,
    confusion,
    f1_report,
    fit_learner,
    near_label_edge,
    sample_training_pixels,
    ssc,
)
from tests.helpers.cli import REPO, assert_one_line_error, run_cli
from tests.helpers.rasters import MODEL_BANDS, grid_of, write_stack

LABELS = REPO / "resources" / "labels" / "virginia_s2_train.geojson"
# The sample's top-left 256 px: farmland, marsh and creeks (both classes), north of scene row 980.
MIXED = Window(0, 0, 256, 256)
HOLE = (slice(100, 130), slice(100, 140))
# Sample origin (EPSG:32618) and an all-natural 1 km square of lagoon and marsh (rows 0-99, cols 500-599).
X0, Y0 = 442730.0, 4174960.0
ALL_NATURAL = f"{X0 + 5000},{Y0 - 1000},{X0 + 6000},{Y0}"
FAST = ["--samples-per-class", "2000", "--device", "cpu", "--quiet"]


@pytest.fixture(scope="module")
def holed_stack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The mixed crop as one 10-band GeoTIFF (nodata 0) with a 30 x 40 px hole of nodata."""
    path = write_stack(tmp_path_factory.mktemp("ssc") / "mixed.tif", MIXED)
    with rasterio.open(path, "r+") as ds:
        data = ds.read()
        data[:, HOLE[0], HOLE[1]] = 0
        ds.write(data)
    return path


@pytest.fixture(scope="module")
def run(holed_stack: Path, tmp_path_factory: pytest.TempPathFactory):
    return ssc(holed_stack, tmp_path_factory.mktemp("ssc_out"), device="cpu", labels=LABELS, samples_per_class=2000)


def test_f1_on_a_known_small_case() -> None:
    truth = np.array([1, 1, 1, 1, 0, 0, -1, 1])
    predicted = np.array([1, 1, 1, 0, 0, 1, 1, 1])
    counts = confusion(truth, predicted)
    assert counts.tolist() == [[1, 1], [1, 4]]  # the unlabelled pixel is not counted
    report = f1_report(counts)
    # natural: TP 4, FP 1, FN 1 -> 8/10; anthropogenic: TP 1, FP 1, FN 1 -> 2/4; weighted by support 5 and 2
    assert report["per_class"]["natural"] == {"f1": 0.8, "support": 5}
    assert report["per_class"]["anthropogenic"] == {"f1": 0.5, "support": 2}
    assert report["pixel_weighted_f1"] == pytest.approx((0.8 * 5 + 0.5 * 2) / 7, abs=1e-4)
    assert f1_report(np.zeros((2, 2)))["pixel_weighted_f1"] == 0.0


def test_label_edge_is_within_two_pixels_of_another_value() -> None:
    labels = np.full((1, 9), NATURAL, dtype=np.int8)
    labels[0, :4] = ANTHROPOGENIC
    assert near_label_edge(labels).tolist() == [[False, False, True, True, True, True, False, False, False]]


@pytest.mark.slow
def test_outputs_lie_on_the_input_grid_in_0_1_with_nodata_kept(run, holed_stack: Path) -> None:
    crs, transform, width, height = grid_of(holed_stack)
    with rasterio.open(run.probability) as ds:
        assert (ds.crs, ds.transform, ds.width, ds.height) == (crs, transform, width, height)
        values = ds.read(1)
        assert ds.nodata == NODATA
    with rasterio.open(holed_stack) as src:
        nodata = (src.read() == 0).all(axis=0)
    assert nodata[HOLE].all() and ((values == NODATA) == nodata).all()
    data = values[values != NODATA]
    assert data.min() >= 0 and data.max() <= 1 and data.size == (~nodata).sum()
    # phase 2 sharpens phase 1; it does not invert it
    assert 0.8 < run.agreement <= 1 and run.fallback is None


@pytest.mark.slow
def test_record_counts_training_pixels_and_scores_both_stages(run) -> None:
    record = json.loads(run.json_path.read_text())
    pixels = record["training_pixels"]
    assert pixels["fitted"]["natural"] == pixels["fitted"]["anthropogenic"] > 100  # balanced
    assert pixels["confident"]["natural"] >= pixels["sampled"]["natural"]
    assert record["learner"]["name"] == "mlp" and record["learner"]["settings"]["random_state"] == 0
    for stage in ("cnn", "ssc"):
        scores = record["scores"][stage]
        assert 0.5 < scores["pixel_weighted_f1"] <= 1 and scores["pixels"] > 1000
        assert set(scores["per_class"]) == {"natural", "anthropogenic"}
        assert 0 < scores["boundary"]["pixels"] < scores["pixels"]
    assert record["timings"]["s_per_megapixel"] > 0
    assert run.figure.stat().st_size > 10_000 and run.figure.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.slow
def test_phase2_trains_only_on_pixels_of_the_image_inside_the_aoi(holed_stack: Path, tmp_path: Path) -> None:
    triangle = AOI({"type": "Polygon", "coordinates": [[(X0 + 200, Y0 - 200), (X0 + 2400, Y0 - 300),
                                                        (X0 + 600, Y0 - 2400), (X0 + 200, Y0 - 200)]]}, "EPSG:32618")
    first = explain(holed_stack, tmp_path, aoi=triangle, device="cpu")
    phase1 = open_input(first.outputs["naturalness"]).bands[0]
    refs = match_bands(open_input(holed_stack), MODEL_BANDS)
    with BandReader(refs) as reader, BandReader([phase1]) as p1:
        training = sample_training_pixels(reader, p1, phase1.grid, FeatureSpec(tuple(MODEL_BANDS)), per_class=500)
    assert len(training.y) > 200
    inside = triangle.inside_mask(phase1.grid)
    assert inside[training.rows, training.cols].all()
    with rasterio.open(first.outputs["naturalness"]) as ds:
        p = ds.read(1)[training.rows, training.cols]
    assert (p != NODATA).all()
    assert (p[training.y == NATURAL] >= 0.9).all() and (p[training.y == ANTHROPOGENIC] <= 0.1).all()
    with rasterio.open(holed_stack) as src:  # the features are the pixels' own band values (B02 first)
        row0 = round((phase1.grid.transform.f - src.transform.f) / src.transform.e)
        col0 = round((phase1.grid.transform.c - src.transform.c) / src.transform.a)
        assert np.array_equal(training.x[:, 0], src.read(1)[training.rows + row0, training.cols + col0])


@pytest.mark.slow
def test_one_class_aoi_falls_back_to_phase_1(sample_dir: Path, tmp_path: Path) -> None:
    result = run_cli("ssc", str(sample_dir), "--out", str(tmp_path), "--aoi", ALL_NATURAL, "--learner", "rf", *FAST)
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if "only natural" in line]
    assert len(lines) == 1 and lines[0].startswith("warning: phase 1 found only natural") and "Traceback" not in result.stderr
    with rasterio.open(tmp_path / "naturalness.tif") as a, rasterio.open(tmp_path / "naturalness_ssc.tif") as b:
        assert np.array_equal(a.read(1), b.read(1))
    assert json.loads((tmp_path / "ssc.json").read_text())["fallback"].startswith("phase 1 found only natural")


@pytest.mark.slow
def test_cli_too_few_confident_pixels(sample_dir: Path, tmp_path: Path) -> None:
    tiny = f"{X0 + 500},{Y0 - 600},{X0 + 600},{Y0 - 500}"  # 10 x 10 px
    assert_one_line_error(run_cli("ssc", str(sample_dir), "--out", str(tmp_path), "--aoi", tiny, *FAST),
                          "phase 1 is confident", "fewer than the 200")


@pytest.mark.slow
def test_cli_aoi_with_no_valid_pixels(holed_stack: Path, tmp_path: Path) -> None:
    # the hole: rows 100-129, cols 100-139 of the crop
    hole = f"{X0 + 1050},{Y0 - 1250},{X0 + 1350},{Y0 - 1050}"
    assert_one_line_error(run_cli("ssc", str(holed_stack), "--out", str(tmp_path), "--aoi", hole, *FAST),
                          "no valid pixels")
    assert not (tmp_path / "ssc.json").exists()


@pytest.mark.parametrize("option, value, needle", [("--learner", "svm", "invalid choice"),
                                                   ("--features", "bands,colour", "features must be"),
                                                   ("--confidence", "0.5", "--confidence"),
                                                   ("--samples-per-class", "0", "--samples-per-class")])
def test_cli_bad_options(sample_dir: Path, tmp_path: Path, option: str, value: str, needle: str) -> None:
    assert_one_line_error(run_cli("ssc", str(sample_dir), "--out", str(tmp_path), option, value), needle)


@pytest.mark.slow
def test_cli_labels_without_a_natural_class_stop_before_any_work(sample_dir: Path, tmp_path: Path) -> None:
    result = run_cli("ssc", str(sample_dir), "--out", str(tmp_path / "o"), "--labels", str(LABELS),
                     "--label-field", "split", *FAST)
    assert_one_line_error(result, "no 'split' value", "natural class")
    assert not (tmp_path / "o" / "naturalness.tif").exists()


@pytest.mark.slow
def test_prediction_streams_by_blocks_with_the_same_result(run, holed_stack: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks of 17 rows give the map one block gives: texture windows see across block edges, nothing is whole-scene."""
    phase1 = open_input(run.phase1_run.parent / "naturalness.tif").bands[0]
    refs = match_bands(open_input(holed_stack), MODEL_BANDS)
    spec = FeatureSpec(tuple(MODEL_BANDS), ("bands", "indices", "texture"))
    with BandReader(refs) as reader, BandReader([phase1]) as p1:
        training = sample_training_pixels(reader, p1, phase1.grid, spec, per_class=300)
    learner, _ = fit_learner(training, "rf", 0)
    maps = []
    for rows in (256, 17):
        monkeypatch.setattr(core.ssc, "BLOCK_ROWS", rows)
        _predict(refs, phase1, phase1.grid, spec, learner, None, tmp_path / f"{rows}.tif", None, None)
        with rasterio.open(tmp_path / f"{rows}.tif") as ds:
            maps.append(ds.read(1))
    assert np.array_equal(maps[0], maps[1])
