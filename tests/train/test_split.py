"""The validation split is spatial: whole blocks are held out, never random pixels."""
from pathlib import Path

import pytest
from rasterio.crs import CRS

from core.errors import NaturalExplainError
from tests.helpers.training import RASTER_BANDS
from train.datasets.raster_polygons import RasterPolygonPatches
from train.split import block_key, split_by_column, split_samples

BLOCK_M = 1000.0
PATCH = 16


@pytest.fixture(scope="module")
def patches(raster_layout: dict[str, Path]) -> RasterPolygonPatches:
    return RasterPolygonPatches(raster_layout["raster"], raster_layout["polygons"], "landscape", RASTER_BANDS,
                                10.0, PATCH, PATCH, BLOCK_M)


def test_no_validation_block_holds_a_training_patch(patches: RasterPolygonPatches) -> None:
    split = split_samples(patches.groups, patches.georeferenced, patches.labels, None, 0.2, seed=0)
    assert split.mode == "spatial-blocks"
    train_blocks = {patches.groups[i] for i in split.train}
    val_blocks = {patches.groups[i] for i in split.val}
    assert train_blocks and val_blocks and not train_blocks & val_blocks


def test_every_patch_lies_wholly_inside_its_block(patches: RasterPolygonPatches) -> None:
    assert len(patches) > 20
    for index, (_, col, row) in enumerate(patches.groups):
        xmin, ymin, xmax, ymax = patches.patch_grid(index).bounds
        assert col * BLOCK_M <= xmin < xmax <= (col + 1) * BLOCK_M
        assert row * BLOCK_M <= ymin < ymax <= (row + 1) * BLOCK_M


def test_validation_holds_every_class(patches: RasterPolygonPatches) -> None:
    split = split_samples(patches.groups, patches.georeferenced, patches.labels, None, 0.2, seed=0)
    assert {patches.labels[i] for i in split.val} == set(range(len(patches.classes)))


def test_split_depends_on_seed_not_on_sample_order(patches: RasterPolygonPatches) -> None:
    first = split_samples(patches.groups, patches.georeferenced, patches.labels, None, 0.2, seed=0)
    again = split_samples(patches.groups, patches.georeferenced, patches.labels, None, 0.2, seed=0)
    order = list(reversed(range(len(patches.labels))))
    reversed_split = split_samples([patches.groups[i] for i in order], patches.georeferenced,
                                   [patches.labels[i] for i in order], None, 0.2, seed=0)
    other_seeds = [split_samples(patches.groups, patches.georeferenced, patches.labels, None, 0.2, seed=s)
                   for s in range(1, 6)]
    assert first == again
    assert {patches.groups[i] for i in first.val} == {patches.groups[order[i]] for i in reversed_split.val}
    assert any(s.val != first.val for s in other_seeds)


def test_blocks_come_from_an_absolute_grid_in_metres() -> None:
    utm = CRS.from_epsg(32618)
    assert block_key(utm, 436100.0, 4178999.0, 1000.0) == ("EPSG:32618", 436, 4178)
    assert block_key(utm, 436999.9, 4178000.1, 1000.0) == block_key(utm, 436000.1, 4178999.9, 1000.0)
    wgs84 = CRS.from_epsg(4326)
    east = block_key(wgs84, 25.0, 65.0, 1000.0)
    assert east[0] == "sinusoidal" and block_key(wgs84, 25.0 + 0.03, 65.0, 1000.0) != east


def test_files_without_georeference_split_per_file_with_a_warning() -> None:
    files = [f"tile_{i}.jpg" for i in range(10)]
    split = split_samples(files, [False] * 10, [0] * 5 + [1] * 5, None, 0.2, seed=0)
    assert split.mode == "per-file" and split.warnings and "georeference" in split.warnings[0]
    assert not {files[i] for i in split.train} & {files[i] for i in split.val}


def test_a_split_column_is_honoured_and_test_rows_are_left_out() -> None:
    split = split_by_column(["train", "val", "test", "validation", "train"])
    assert split.train == [0, 4] and split.val == [1, 3] and split.mode == "csv"


def test_too_few_blocks_to_hold_out_is_a_user_error() -> None:
    with pytest.raises(NaturalExplainError, match="too few"):
        split_samples([("EPSG:32618", 0, 0)] * 4, [True] * 4, [0, 0, 1, 1], None, 0.2, seed=0)
