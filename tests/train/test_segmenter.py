"""python -m train segmenter: a U-Net from a raster and polygons rasterised to masks, with the classifier's
split, checkpoints, --resume/--fresh and model file; and the bundled segmenter that `make models` makes."""
import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from core.models.model_file import load_model
from core.resources import MODELS
from tests.helpers.cli import REPO
from tests.helpers.training import assert_records_make_models_command, sidecar
from train.__main__ import main
from train.checkpoint import latest_checkpoint, load_checkpoint
from train.reproduce import segmenter_arguments

pytestmark = pytest.mark.slow  # trains

BUNDLED = MODELS / "segmenter_s2.json"


def _train(layout: dict[str, Path], out: Path, epochs: int, *extra: str, polygons: Path | None = None) -> int:
    """A tiny U-Net (width 4, 2 poolings) on the 10 x 3 km GeoTIFF and its GeoPackage labels in EPSG:4326."""
    return main(["segmenter", "--raster", str(layout["raster"]), "--polygons", str(polygons or layout["polygons"]),
                 "--label-field", "landscape", "--bands", "B02,B03,B04,B08", "--patch-size", "32", "--stride", "32",
                 "--width", "4", "--depth", "2", "--batch-size", "16", "--out", str(out), "--epochs", str(epochs), *extra])


def test_segmenter_trains_on_real_polygons_as_pixel_masks(raster_layout: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "seg"
    assert _train(raster_layout, out, 1) == 0
    loaded = load_model(out.with_suffix(".json"), expect="segmenter")
    assert loaded.card.kind == "segmenter" and loaded.card.architecture == "unet_segmenter"
    assert loaded.card.classes == ["anthropogenic", "natural"] and loaded.card.natural_classes == ["natural"]
    metrics = loaded.card.training["metrics"]
    assert metrics["split"] == "spatial-blocks" and metrics["n_val_groups"] >= 1 and metrics["n_train_groups"] > 1
    assert min(metrics["labelled_pixels"].values()) > 10_000 and 0 <= metrics["val_iou"]["natural"] <= 1
    logits = loaded.network(torch.zeros(1, 4, 40, 52))
    assert logits.shape == (1, 2, 40, 52)  # per-pixel logits at the input's size, any size
    assert loaded.card.training["command"].startswith("python -m train segmenter")


def test_resumed_segmenter_matches_an_uninterrupted_run(raster_layout: dict[str, Path], tmp_path: Path) -> None:
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    assert _train(raster_layout, straight, 2) == 0
    assert _train(raster_layout, resumed, 1) == 0
    assert load_checkpoint(latest_checkpoint(tmp_path / "resumed.ckpt"))["epoch"] == 1
    assert _train(raster_layout, resumed, 2, "--resume") == 0
    assert [h["epoch"] for h in sidecar(resumed)["training"]["metrics"]["history"]] == [1, 2]
    a, b = load_file(straight.with_suffix(".safetensors")), load_file(resumed.with_suffix(".safetensors"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_rerun_over_checkpoints_needs_resume_or_fresh(raster_layout: dict[str, Path], tmp_path: Path,
                                                      capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "seg"
    assert _train(raster_layout, out, 1) == 0
    capsys.readouterr()
    assert _train(raster_layout, out, 1) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--resume" in err and "--fresh" in err, err
    assert _train(raster_layout, out, 1, "--fresh") == 0
    assert "discarded 1 checkpoint" in capsys.readouterr().err


def test_too_few_labelled_pixels_is_one_line(raster_layout: dict[str, Path], tmp_path: Path,
                                             capsys: pytest.CaptureFixture) -> None:
    """Two small squares (one per class) in the raster's CRS label far fewer pixels than a segmenter needs."""
    import rasterio
    with rasterio.open(raster_layout["raster"]) as ds:
        x0, y1, crs = ds.bounds.left, ds.bounds.top, ds.crs.to_string()

    def square(x: float, y: float, side: float) -> dict:
        return {"type": "Polygon", "coordinates": [[[x, y], [x + side, y], [x + side, y - side], [x, y - side], [x, y]]]}

    polygons = tmp_path / "few.geojson"
    polygons.write_text(json.dumps({"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": crs}},
                                    "features": [{"type": "Feature", "properties": {"landscape": name},
                                                  "geometry": square(x0 + 100 + 2000 * i, y1 - 100, 400)}
                                                 for i, name in enumerate(["natural", "anthropogenic"])]}))
    assert _train(raster_layout, tmp_path / "seg", 1, polygons=polygons) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "too few to train a segmenter" in err, err


def test_bundled_segmenter_records_the_command_make_models_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    assert_records_make_models_command(BUNDLED, "segmenter", segmenter_arguments)


def test_bundled_segmenter_is_small_and_validated_on_spatial_blocks() -> None:
    card = load_model(BUNDLED, expect="segmenter").card
    metrics = card.training["metrics"]
    assert BUNDLED.with_suffix(".safetensors").stat().st_size < 4 * 2 ** 20
    assert metrics["split"] == "spatial-blocks" and metrics["n_val_groups"] > 20
    assert metrics["val_accuracy"] > 0.9 and min(metrics["val_iou"].values()) > 0.8
    assert card.natural_classes == ["natural"] and card.resolution_m == 10.0
