"""The bundled classifiers are what `make models` (train/reproduce.py) makes, and they see nature.

Three classifiers share the scene, the north-half labels, the options and the 1 km-block split:
ten Sentinel-2 bands, blue/green/red/near infrared, and blue/green/red. Their naturalness maps,
made from GeoTIFFs of the north half with no options (each input gets its model automatically),
are scored on the labelled pixels of the validation blocks, which no model trained on.
"""
import json
from pathlib import Path

import pytest
import rasterio
from rasterio.windows import Window

from core.models.model_file import load_model
from core.pipeline import explain
from core.raster.bands import match_bands
from core.raster.read import read_window
from core.raster.sources import open_input
from core.raster.write import NODATA
from core.resources import DEFAULT_MODEL, MODELS, RGB_MODEL, RGBN_MODEL
from tests.helpers.cli import REPO
from tests.helpers.training import LABELS, assert_records_make_models_command, write_geotiff
from train.datasets.raster_polygons import RasterPolygonPatches, block_windows, label_raster, read_labelled_polygons
from train.reproduce import BAND_SUBSET_MODELS, band_subset_arguments, reproduce_arguments
from train.split import split_samples

pytestmark = pytest.mark.slow  # rebuilds the bundled model's training data

# The labels cover rows 0-980 of the scene's 10 m grid; the south half is never labelled or scored here.
NORTH_ROWS = 980
# How far (in accuracy) a model with fewer bands may fall below the 10-band model on held-out pixels.
FEWER_BANDS_TOLERANCE = 0.03


def test_bundled_model_records_the_command_make_models_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    assert_records_make_models_command(DEFAULT_MODEL, "classifier", reproduce_arguments)


@pytest.mark.parametrize("name", list(BAND_SUBSET_MODELS))
def test_band_subset_models_record_the_command_make_models_runs(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.chdir(REPO)
    assert_records_make_models_command(MODELS / f"{name}.json", "classifier",
                                       lambda out_dir: band_subset_arguments(out_dir, name))
    assert load_model(MODELS / f"{name}.json").card.bands == BAND_SUBSET_MODELS[name]


@pytest.mark.parametrize("model", [DEFAULT_MODEL, RGBN_MODEL, RGB_MODEL])
def test_bundled_model_is_small_and_validated_on_spatial_blocks(model: Path) -> None:
    card = load_model(model).card
    metrics = card.training["metrics"]
    assert Path(model).with_suffix(".safetensors").stat().st_size < 2 * 2 ** 20
    assert metrics["split"] == "spatial-blocks" and metrics["n_val"] > 100
    assert metrics["val_accuracy"] > 0.9 and min(metrics["val_f1"].values()) > 0.9
    assert card.natural_classes == ["natural"] and card.resolution_m == 10.0


def held_out_pixel_scores(scene: Path, out: Path) -> dict[str, dict]:
    """Each bundled classifier's naturalness map (threshold 0.5) against the labels of the validation blocks.

    The validation blocks are the training split's (same scene, labels, blocks, fraction and seed
    for all three models); each model's map comes from a GeoTIFF of the north half holding only its
    bands, explained with no options, so the automatic choice picks it.
    """
    dataset = RasterPolygonPatches(scene, LABELS, "label", BAND_SUBSET_MODELS["naturalness_s2_rgb"], 10.0, 32, 16, 1000.0)
    split = split_samples(dataset.groups, dataset.georeferenced, dataset.labels, None, 0.2, 0)
    held_out = {dataset.groups[i] for i in split.val}
    raster = open_input(scene)
    north = raster.grid.window(Window(0, 0, raster.grid.width, NORTH_ROWS))
    shapes = read_labelled_polygons(LABELS, "label", north)
    blocks = [window for key, window in block_windows(north, north.bounds, 1000.0) if key in held_out]
    scores = {}
    for model in (DEFAULT_MODEL, RGBN_MODEL, RGB_MODEL):
        card = load_model(model).card
        assert card.training["metrics"]["n_val"] == len(split.val)  # the same held-out blocks for every model
        raw, _ = read_window(match_bands(raster, card.bands), north)
        stack = write_geotiff(out / f"{model.stem}.tif", raw, north, card.bands)
        result = explain(stack, out / model.stem, device="cpu")
        assert result.model.automatic and result.model.path == model
        with rasterio.open(result.outputs["naturalness"]) as ds:
            naturalness = ds.read(1)
        right = {0: [0, 0], 1: [0, 0]}
        for window in blocks:
            labels = label_raster(shapes, dataset.classes, north.window(window))
            values = naturalness[window.row_off:window.row_off + window.height, window.col_off:window.col_off + window.width]
            for k in (0, 1):
                mask = (labels == k) & (values != NODATA)
                right[k][0] += int(((values[mask] >= 0.5) == (dataset.classes[k] == "natural")).sum())
                right[k][1] += int(mask.sum())
        scores[model.stem] = {
            "pixel_accuracy": round((right[0][0] + right[1][0]) / (right[0][1] + right[1][1]), 4),
            "recall": {dataset.classes[k]: round(right[k][0] / right[k][1], 4) for k in (0, 1)},
            "pixels": right[0][1] + right[1][1], "patch_accuracy": card.training["metrics"]["val_accuracy"]}
    return scores


def test_fewer_band_models_score_within_a_few_points_of_the_ten_band_model(scene: Path, tmp_path: Path) -> None:
    scores = held_out_pixel_scores(scene, tmp_path)
    print(json.dumps(scores, indent=1))
    ten = scores["naturalness_s2"]["pixel_accuracy"]
    assert ten > 0.9 and scores["naturalness_s2"]["pixels"] > 100_000
    for name in BAND_SUBSET_MODELS:
        assert scores[name]["pixel_accuracy"] > ten - FEWER_BANDS_TOLERANCE, scores
