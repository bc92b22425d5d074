"""Tile tables: AnthroProtect's long infos.csv and MapInWild's wide split_IDs.csv with masks."""
import csv
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from core.errors import NaturalExplainError
from train.datasets.anthroprotect import anthroprotect


def _write_csv(path: Path, header: list[str], rows: list[list]) -> Path:
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _mask(path: Path, wild: bool) -> None:
    with rasterio.open(path, "w", driver="GTiff", width=8, height=8, count=1, dtype="uint8", crs="EPSG:32618",
                       transform=from_origin(440000, 4175000, 80, 80)) as dst:
        dst.write(np.full((1, 8, 8), 2 if wild else 0, dtype="uint8"))


@pytest.mark.slow
def test_mapinwild_wide_split_table_and_masks_label_the_tiles(anthroprotect_layout: dict, tmp_path: Path) -> None:
    ids = sorted(p.stem for p in anthroprotect_layout["tiles"].glob("*.tif"))
    masks = tmp_path / "mask"
    masks.mkdir()
    for tile_id in ids:
        _mask(masks / f"{tile_id}.tif", wild=tile_id.startswith("natural"))
    train, val = ids[::2], ids[1::2]
    table = _write_csv(tmp_path / "split_IDs.csv", ["train", "validation", "test"],
                       [[t, v if i < len(val) else "", ""] for i, (t, v) in enumerate(zip(train, val + [""]))])
    tiles = anthroprotect(anthroprotect_layout["tiles"], table, None, 1000.0, masks=masks)
    assert tiles.classes == ["background", "wilderness"]
    assert sorted(tiles.splits) == sorted(["train"] * len(train) + ["validation"] * len(val))
    by_file = {path.stem: tiles.classes[label] for path, label in zip(tiles.files, tiles.labels)}
    assert all((name == "wilderness") == stem.startswith("natural") for stem, name in by_file.items())


def test_column_overrides_are_checked(anthroprotect_layout: dict) -> None:
    with pytest.raises(NaturalExplainError, match="no column 'kind'"):
        anthroprotect(anthroprotect_layout["tiles"], anthroprotect_layout["csv"], None, 1000.0, label_column="kind")


def test_an_empty_split_column_name_splits_spatially(anthroprotect_layout: dict) -> None:
    tiles = anthroprotect(anthroprotect_layout["tiles"], anthroprotect_layout["csv"], None, 1000.0, split_column="")
    assert tiles.splits is None and all(tiles.georeferenced)


def test_a_tile_missing_from_the_folder_is_named(anthroprotect_layout: dict, tmp_path: Path) -> None:
    table = _write_csv(tmp_path / "infos.csv", ["file", "label", "datasplit"], [["nowhere.tif", "1", "train"]])
    with pytest.raises(NaturalExplainError, match="nowhere.tif"):
        anthroprotect(anthroprotect_layout["tiles"], table, None, 1000.0)
