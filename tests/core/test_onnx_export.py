"""`python -m core export-onnx`: the bundled classifier as ONNX for the Deepness QGIS plugin.

onnxruntime, fed a real tile of the bundled sample the way Deepness feeds it (every value / 255,
then the metadata's standardisation), must give the probabilities torch gives on the engine's own
preprocessing of the same tile.
"""
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from rasterio.windows import Window

from core.models.model_file import load_model
from core.models.preprocess import to_model_input
from core.raster.bands import match_bands
from core.raster.read import read_window
from core.raster.sources import open_input
from core.resources import DEFAULT_GENERATORS, DEFAULT_MODEL
from tests.helpers.cli import assert_one_line_error, run_cli

pytestmark = pytest.mark.slow  # exports and runs models; each refusal starts python -m core

ort = pytest.importorskip("onnxruntime")

TOLERANCE = 1e-4
# Two tiles of the 800 x 800 sample, one in the middle and one at a corner, as one batch.
WINDOWS = [(272, 272), (0, 544)]


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    """The bundled classifier exported by the CLI over an older file (--overwrite)."""
    out = tmp_path_factory.mktemp("onnx") / "naturalness_s2.onnx"
    out.write_bytes(b"an older file")
    result = run_cli("export-onnx", str(DEFAULT_MODEL), "--out", str(out), "--overwrite")
    assert result.returncode == 0, result.stderr
    assert f"written: {out}" in result.stdout
    assert [p.name for p in out.parent.iterdir()] == [out.name]  # no temporary file left beside it
    return out


@pytest.fixture(scope="module")
def session(exported: Path):
    return ort.InferenceSession(str(exported), providers=["CPUExecutionProvider"])


def metadata(session) -> dict:
    """The metadata as Deepness reads it: onnxruntime's custom_metadata_map, each value JSON."""
    return {k: json.loads(v) for k, v in session.get_modelmeta().custom_metadata_map.items()}


def real_tiles(sample_dir: Path, bands: list[str], size: int) -> tuple[np.ndarray, np.ndarray]:
    """Raw values (N, C, size, size) of the model's bands at WINDOWS, NaN where invalid, and the valid masks."""
    raster = open_input(sample_dir)
    refs = match_bands(raster, bands)
    raws, valids = zip(*(read_window(refs, raster.grid, Window(col, row, size, size)) for row, col in WINDOWS))
    raw, valid = np.stack(raws), np.stack(valids)
    return np.where(valid[:, None], raw, np.nan).astype(np.float32), valid


def deepness_input(raw: np.ndarray, meta: dict) -> np.ndarray:
    """Deepness' preprocessing (model_base.py `preprocessing`): / 255 to float32, standardise, NHWC to NCHW."""
    nhwc = np.transpose(raw, (0, 2, 3, 1))
    x = np.float32(nhwc * 1.0 / 255.0)
    x = (x - np.array(meta["standardization_mean"], np.float32)) / np.array(meta["standardization_std"], np.float32)
    return np.ascontiguousarray(np.transpose(x, (0, 3, 1, 2)))


def test_onnxruntime_matches_torch_on_real_tiles(session, sample_dir: Path) -> None:
    loaded = load_model(DEFAULT_MODEL)
    card = loaded.card
    raw, valid = real_tiles(sample_dir, card.bands, card.tile_size)
    raw[0, 4, :20, :30], valid[0, :20, :30] = np.nan, False  # a nodata hole in one band: the pixel is 0 in all
    x = torch.from_numpy(np.stack([to_model_input(r, v, card) for r, v in zip(raw, valid)]))
    with torch.no_grad():
        expected = torch.softmax(loaded.network.dense_logits(x), dim=1).numpy()
    found = session.run(None, {session.get_inputs()[0].name: deepness_input(raw, metadata(session))})[0]
    assert found.shape == expected.shape == (len(WINDOWS), 2, card.tile_size, card.tile_size)
    difference = float(np.abs(found - expected).max())
    print(f"max abs difference onnxruntime vs torch: {difference:.3g}")
    assert difference <= TOLERANCE
    natural = found[:, card.natural_indices].sum(axis=1)
    assert natural.min() < 0.5 < natural.max()  # real tiles hold both classes: the check is not on a flat answer


def test_metadata_is_what_deepness_reads(session) -> None:
    meta = metadata(session)
    n = 10
    assert meta["model_type"] == "Segmentor"
    assert meta["class_names"] == {"0": "anthropogenic", "1": "natural"}
    assert meta["resolution"] == 1000.0  # cm per pixel: the card's 10 m
    assert meta["tile_size"] == meta["tiles_size"] == 256
    assert meta["tiles_overlap"] == 13  # percent: our runs' 32 px of 256
    assert meta["standardization_mean"] == [0.0] * n and meta["standardization_std"] == [1.0] * n
    assert meta["seg_thresh"] == 0.5 and meta["seg_small_segment"] == 0
    assert meta["natural_explain_bands"] == ["B02", "B03", "B04", "B08", "B05", "B06", "B07", "B8A", "B11", "B12"]
    assert meta["natural_explain_natural_classes"] == ["natural"]
    assert meta["natural_explain_model"] == "naturalness_s2.json"
    assert len(meta["natural_explain_weights_sha256"]) == 64
    # Deepness takes the tile size from the input's last dimension and the class count from the output's.
    assert session.get_inputs()[0].shape == ["batch", n, 256, 256]
    assert session.get_outputs()[0].shape == ["batch", 2, 256, 256]
    assert session.get_inputs()[0].type == "tensor(float)"


def test_generators_file_is_refused_in_one_line(tmp_path: Path) -> None:
    out = tmp_path / "g.onnx"
    assert_one_line_error(run_cli("export-onnx", str(DEFAULT_GENERATORS), "--out", str(out)),
                          "pattern generators", "not a classifier")
    assert not out.exists()


def test_out_below_a_file_is_refused_in_one_line(tmp_path: Path) -> None:
    blocking = tmp_path / "notes.txt"
    blocking.write_text("a file, not a folder")
    assert_one_line_error(run_cli("export-onnx", str(DEFAULT_MODEL), "--out", str(blocking / "m.onnx")),
                          "is a file, not a folder")


def test_existing_out_needs_overwrite(exported: Path) -> None:
    before = exported.read_bytes()
    assert_one_line_error(run_cli("export-onnx", str(DEFAULT_MODEL), "--out", str(exported)), "--overwrite")
    assert exported.read_bytes() == before


def test_out_must_be_onnx(tmp_path: Path) -> None:
    assert_one_line_error(run_cli("export-onnx", str(DEFAULT_MODEL), "--out", str(tmp_path / "m.pt")), "end in .onnx")
