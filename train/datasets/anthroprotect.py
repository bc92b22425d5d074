"""The AnthroProtect / MapInWild layout: a folder of Sentinel-2 GeoTIFF tiles plus a CSV.

AnthroProtect's `infos.csv` has one row per tile with columns `file`, `label` and
`datasplit` (train/val/test); its tiles (tiles/s2/) hold 10 bands in the order of
ANTHROPROTECT_BANDS. MapInWild's `split_IDs.csv` is wide instead: columns `train`,
`validation` and `test` each list tile ids (`<id>.tif`), and its labels are pixel masks
(mask/<id>.tif, non-zero = protected wilderness), summarised here as the tile's majority.
Column names can be overridden; a split column, when present, is honoured.
"""
import csv
from pathlib import Path

import numpy as np

from core.errors import NaturalExplainError
from core.raster.read import read_checked
from core.raster.sources import open_raster
from train.datasets.tile_files import TilePatches

ANTHROPROTECT_BANDS = ["B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B11", "B12"]
ID_COLUMNS = ("file", "id", "tile", "filename", "image")
LABEL_COLUMNS = ("label", "class")
SPLIT_COLUMNS = ("datasplit", "split")
WIDE_SPLIT_COLUMNS = ("train", "validation", "val", "test")
MASK_CLASSES = ("background", "wilderness")


def _read_rows(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        raise NaturalExplainError(f"CSV {path} does not exist")
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise NaturalExplainError(f"CSV {path} has no rows")
    return rows


def _column(rows: list[dict[str, str]], override: str | None, candidates: tuple[str, ...], what: str,
            path: Path) -> str | None:
    """The column to use: the override (which must exist), else the first known name present."""
    header = list(rows[0])
    if override is not None:
        if override and override not in header:
            raise NaturalExplainError(f"CSV {path} has no column '{override}' for the {what} (columns: {', '.join(header)})")
        return override or None
    lowered = {name.lower(): name for name in header}
    return next((lowered[c] for c in candidates if c in lowered), None)


def _melt_wide_splits(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """MapInWild's wide split table (one column of ids per split) as one row per tile."""
    long = []
    for column in (c for c in rows[0] if c.lower() in WIDE_SPLIT_COLUMNS):
        for row in rows:
            value = (row[column] or "").strip()
            if value:
                tile_id = value[:-2] if value.endswith(".0") else value
                long.append({"id": tile_id, "split": column})
    return long


def resolve_tile(tiles: Path, tile_id: str) -> Path:
    """The file of a tile id: `<id>` itself or `<id>.tif` under the tiles folder.

    Raises:
        NaturalExplainError: when neither exists.
    """
    for candidate in (tiles / tile_id, tiles / f"{tile_id}.tif", tiles / f"{tile_id}.tiff"):
        if candidate.is_file():
            return candidate
    raise NaturalExplainError(f"tile '{tile_id}' listed in the CSV is not in {tiles} (as {tile_id} or {tile_id}.tif)")


def mask_label(mask_path: Path) -> str:
    """The tile label from a MapInWild mask: wilderness when most valid pixels are non-zero."""
    if not mask_path.is_file():
        raise NaturalExplainError(f"mask {mask_path} is missing: MapInWild labels come from mask/<id>.tif")
    with open_raster(mask_path) as ds:
        mask = read_checked(ds, 1)
    return MASK_CLASSES[int(np.count_nonzero(mask) * 2 >= mask.size)]


def anthroprotect(tiles: Path, csv_path: Path, bands: list[str] | None, block_size_m: float,
                  id_column: str | None = None, label_column: str | None = None, split_column: str | None = None,
                  masks: Path | None = None, tile_bands: list[str] | None = None) -> TilePatches:
    """Open an AnthroProtect- or MapInWild-style tiles folder and CSV as labelled tiles.

    Args:
        tiles: the folder of GeoTIFF tiles.
        csv_path: AnthroProtect's infos.csv, MapInWild's split_IDs.csv, or any CSV of id/label/split.
        bands: the model's band names, or None for every band the tiles have.
        block_size_m: side of the spatial blocks, used when there is no split column.
        id_column: overrides the tile-id column (default: file, id, tile, filename or image).
        label_column: overrides the label column (default: label or class).
        split_column: overrides the split column (default: datasplit or split); '' ignores it.
        masks: MapInWild's mask folder, labelling tiles when the CSV has no label column.
        tile_bands: names of the tiles' bands in file order, when the files do not name them.

    Returns:
        The tiles.

    Raises:
        NaturalExplainError: for missing files or columns, unknown tiles or unmatched bands.
    """
    if not tiles.is_dir():
        raise NaturalExplainError(f"tiles folder {tiles} does not exist")
    rows = _read_rows(csv_path)
    if id_column is None and _column(rows, None, ID_COLUMNS, "", csv_path) is None \
            and any(c.lower() in WIDE_SPLIT_COLUMNS for c in rows[0]):
        rows, id_column = _melt_wide_splits(rows), "id"
        split_column = "split" if split_column is None else split_column
    ids = _column(rows, id_column, ID_COLUMNS, "tile ids", csv_path)
    if ids is None:
        raise NaturalExplainError(f"CSV {csv_path} has no tile-id column ({'/'.join(ID_COLUMNS)}): name it with --id-column")
    labels_from = _column(rows, label_column, LABEL_COLUMNS, "labels", csv_path)
    if labels_from is None and masks is None:
        raise NaturalExplainError(f"CSV {csv_path} has no label column ({'/'.join(LABEL_COLUMNS)}): name it with "
                                  "--label-column, or give MapInWild masks with --masks DIR")
    splits_from = _column(rows, split_column, SPLIT_COLUMNS, "splits", csv_path)
    files = [resolve_tile(tiles, row[ids].strip()) for row in rows]
    labels = ([row[labels_from].strip() for row in rows] if labels_from
              else [mask_label(resolve_tile(masks, row[ids].strip())) for row in rows])
    if any(not label for label in labels):
        raise NaturalExplainError(f"column '{labels_from}' of {csv_path} is empty in some rows: label every tile")
    splits = [row[splits_from] for row in rows] if splits_from else None
    layout_bands = {len(tile_bands): tile_bands} if tile_bands else {len(ANTHROPROTECT_BANDS): ANTHROPROTECT_BANDS}
    return TilePatches(files, labels, splits, bands, layout_bands, block_size_m, resolution_m=10.0)
