"""`python -m train classifier` trains a loadable model from each of the three dataset layouts."""
import shlex
from pathlib import Path

import pytest
import rasterio
import torch

from core.checksum import file_sha256
from core.models.model_file import load_model
from tests.helpers.training import RASTER_BANDS, run_train, sidecar

pytestmark = pytest.mark.slow  # trains

FAST = ["--epochs", "1", "--batch-size", "16", "--width", "8"]


def _trained(result, out: Path):
    assert result.returncode == 0, result.stderr[-2000:]
    assert "epoch 1/1" in result.stderr  # the progress bar and the epoch summary
    return load_model(out)


def test_raster_with_polygons_trains_a_loadable_model(raster_layout: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "raster_model"
    result = run_train("classifier", "--raster", raster_layout["raster"], "--polygons", raster_layout["polygons"],
                       "--label-field", "landscape", "--bands", ",".join(RASTER_BANDS), "--patch-size", "16",
                       "--out", out, *FAST)
    model = _trained(result, out)
    card = model.card
    assert card.bands == RASTER_BANDS and card.classes == ["anthropogenic", "natural"]
    assert card.natural_classes == ["natural"] and card.resolution_m == 10.0 and card.tile_size == 256
    assert card.scale == 1e-4 and tuple(card.clip) == (0.0, 1.0) and len(card.mean) == 4
    metrics = card.training["metrics"]
    assert metrics["split"] == "spatial-blocks" and metrics["block_size_m"] == 1000.0 and metrics["epochs"] == 1
    assert metrics["n_train"] > 0 and metrics["n_val"] > 0 and set(metrics["val_f1"]) == set(card.classes)
    assert 0.0 <= metrics["val_accuracy"] <= 1.0 and len(card.training["data_hash"]) == 64
    assert (tmp_path / "raster_model.ckpt" / "epoch_0001.pt").is_file()
    dense = model.network.dense_logits(torch.zeros(1, 4, 40, 40))
    assert dense.shape == (1, 2, 40, 40)


def test_eurosat_multispectral_tiles_are_named_by_eurosat_band_order(eurosat_ms: Path, tmp_path: Path) -> None:
    out = tmp_path / "eurosat_ms"
    result = run_train("classifier", "--eurosat", eurosat_ms, "--natural-classes", "Natural", "--out", out, *FAST)
    card = _trained(result, out).card
    assert card.bands == ["B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B10", "B11", "B12"]
    assert card.classes == ["Anthropogenic", "Natural"] and card.natural_classes == ["Natural"]
    assert card.training["metrics"]["split"] == "spatial-blocks" and card.scale == 1e-4


def test_eurosat_jpegs_split_per_file_and_say_so(eurosat_rgb: Path, tmp_path: Path) -> None:
    out = tmp_path / "eurosat_rgb"
    result = run_train("classifier", "--eurosat", eurosat_rgb, "--natural-classes", "Natural", "--out", out, *FAST)
    card = _trained(result, out).card
    metrics = card.training["metrics"]
    assert card.bands == ["B04", "B03", "B02"] and abs(card.scale - 1 / 255) < 1e-12
    assert metrics["split"] == "per-file" and "georeference" in metrics["warnings"][0]


def test_recorded_command_reproduces_the_same_weights(eurosat_rgb: Path, tmp_path: Path) -> None:
    out = tmp_path / "first"
    assert run_train("classifier", "--eurosat", eurosat_rgb, "--natural-classes", "Natural", "--out", out,
                     *FAST).returncode == 0
    command = shlex.split(sidecar(out)["training"]["command"])
    assert command[:4] == ["python", "-m", "train", "classifier"] and "--resume" not in command
    again = tmp_path / "again"
    command[command.index("--out") + 1] = str(again)
    command[command.index("--workdir") + 1] = str(tmp_path / "again.ckpt")
    assert run_train(*command[3:]).returncode == 0
    assert file_sha256(out.with_suffix(".safetensors")) == file_sha256(again.with_suffix(".safetensors"))
    assert sidecar(again)["training"]["data_hash"] == sidecar(out)["training"]["data_hash"]


def test_anthroprotect_csv_splits_and_band_order_are_honoured(anthroprotect_layout: dict, tmp_path: Path) -> None:
    out = tmp_path / "anthroprotect"
    result = run_train("classifier", "--tiles", anthroprotect_layout["tiles"], "--csv", anthroprotect_layout["csv"],
                       "--natural-classes", "1", "--out", out, *FAST)
    card = _trained(result, out).card
    rows = anthroprotect_layout["rows"]
    metrics = card.training["metrics"]
    assert card.bands == ["B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B11", "B12"]
    assert card.classes == ["0", "1"] and card.natural_classes == ["1"] and metrics["split"] == "csv"
    assert metrics["n_train"] == sum(r["datasplit"] == "train" for r in rows)
    assert metrics["n_val"] == sum(r["datasplit"] == "val" for r in rows)


def test_unnamed_raster_bands_are_mapped_by_number(raster_layout: dict[str, Path], tmp_path: Path) -> None:
    unnamed = tmp_path / "unnamed.tif"
    with rasterio.open(raster_layout["raster"]) as src:
        profile, data = src.profile, src.read()
    with rasterio.open(unnamed, "w", **profile) as dst:
        dst.write(data)
    out = tmp_path / "mapped"
    mapping = ",".join(f"{name}={i}" for i, name in enumerate(RASTER_BANDS, start=1))
    result = run_train("classifier", "--raster", unnamed, "--polygons", raster_layout["polygons"],
                       "--label-field", "landscape", "--bands", mapping, "--patch-size", "16", "--out", out, *FAST)
    card = _trained(result, out).card
    assert card.bands == RASTER_BANDS
    assert f"--bands {mapping}" in card.training["command"]
