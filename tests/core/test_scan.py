"""The scan engine: a prepared run lies on the input's grid and names its input and model by checksum; the tile
iterator hands every batch with data to every observer once and leaves out tiles holding only nodata."""
from pathlib import Path

import pytest
import rasterio
from rasterio.windows import Window

from core.checksum import file_sha256
from core.raster.read import BandReader
from core.raster.sources import open_input
from core.resources import DEFAULT_MODEL, SAMPLE
from core.scan import Observer, TileBatch, prepare, scan_batches
from tests.helpers.rasters import write_stack

TILE = 64
# The stack's left columns hold only nodata: the tiles wholly inside them (column offset 0) have no data.
EMPTY_COLUMNS = 100


@pytest.fixture(scope="module")
def sample_scan():
    return prepare(SAMPLE, device="cpu")


@pytest.fixture(scope="module")
def holed_stack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """200 x 200 px of the sample with its left 100 columns nodata (0)."""
    path = write_stack(tmp_path_factory.mktemp("scan") / "holed.tif", Window(0, 0, 200, 200))
    with rasterio.open(path, "r+") as ds:
        data = ds.read()
        data[:, :, :EMPTY_COLUMNS] = 0
        ds.write(data)
    return path


def test_prepared_grids_are_the_inputs_grid_exactly(sample_scan) -> None:
    grid, grids = open_input(SAMPLE).grid, sample_scan.grids
    for planned in (grids.out, grids.context, grids.model):
        assert (planned.crs, planned.transform, planned.width, planned.height) == (
            grid.crs, grid.transform, grid.width, grid.height)
    assert not grids.resampled
    assert max(t.window.col_off + t.window.width for t in sample_scan.tiles) == grid.width
    assert max(t.window.row_off + t.window.height for t in sample_scan.tiles) == grid.height


def test_provenance_pins_input_and_model_by_checksum(sample_scan) -> None:
    record = sample_scan.provenance()
    files = open_input(SAMPLE).files
    assert record["input"]["sha256"] == file_sha256(*files) and record["input"]["files"] == [str(p) for p in files]
    weights = Path(record["model"]["path"])
    assert weights.with_suffix(".json") == DEFAULT_MODEL.resolve()
    assert record["model"]["weights_sha256"] == file_sha256(weights)
    assert record["model"]["chosen_automatically"] is True  # no model named: the richest bundled classifier


def test_iterator_feeds_every_observer_each_batch_with_data_once_and_skips_nodata_tiles(holed_stack) -> None:
    scan = prepare(holed_stack, DEFAULT_MODEL, device="cpu", tile_size=TILE, overlap=0)
    seen: dict[str, list[TileBatch]] = {"first": [], "second": []}
    observers = [Observer(name, batches.append) for name, batches in seen.items()]
    timings: dict[str, float] = {}
    with BandReader(scan.band_refs) as reader:
        yielded = list(scan_batches(reader, scan.grids.model, scan.tiles, scan.loaded, scan.device, 3, observers,
                                    timings=timings))
    for batches in seen.values():
        assert len(batches) == len(yielded) and all(a is b for a, b in zip(batches, yielded))
    tiles = [tile for batch in yielded for tile in batch.tiles]
    empty = [t for t in scan.tiles if t.window.col_off + t.window.width <= EMPTY_COLUMNS]
    assert empty and tiles == [t for t in scan.tiles if t not in empty]
    assert all(batch.valid.any(axis=(1, 2)).all() and len(batch.x) == len(batch.tiles) <= 3 for batch in yielded)
    assert {"read_s", "first_s", "second_s"} <= set(timings)
    assert yielded[0].raw.shape == (len(yielded[0].tiles), len(scan.band_refs), TILE, TILE)
