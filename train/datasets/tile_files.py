"""Labelled tiles that are whole files (EuroSAT, AnthroProtect, MapInWild), read lazily.

Each tile is one sample. GeoTIFF tiles are opened through core.raster like any input;
JPEG/PNG tiles carry no georeference, so they get a bare pixel grid and fall back to a
per-file split. Files whose bands have no names are named by the layout's documented band
order, handed to `match_bands` as an explicit mapping.
"""
import contextlib
import warnings
from pathlib import Path
from typing import Iterator

import numpy as np
import rasterio
from affine import Affine
from rasterio.errors import NotGeoreferencedWarning, RasterioIOError

from core.errors import NaturalExplainError
from core.raster.bands import match_bands
from core.raster.grid import Grid, pixel_size_m
from core.raster.read import read_window
from core.raster.sources import BandRef, RasterInput, open_input, open_raster, undecodable_gdal_messages_silenced
from train.datasets.labelled_patches import LabelledPatches, class_index
from train.split import block_key

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}
TILE_SUFFIXES = {".tif", ".tiff"} | IMAGE_SUFFIXES


@contextlib.contextmanager
def _unreferenced_expected() -> Iterator[None]:
    """Silence GDAL's no-georeference warning where a missing georeference is expected (JPEG tiles)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        yield


def _open_image(path: Path) -> RasterInput:
    """An un-georeferenced image as a RasterInput on a bare pixel grid (no CRS)."""
    try:
        with _unreferenced_expected(), undecodable_gdal_messages_silenced():
            with rasterio.open(path) as ds:
                grid = Grid(None, Affine.identity(), ds.width, ds.height)
                bands = [BandRef(None, path, i, grid, None) for i in range(1, ds.count + 1)]
    except RasterioIOError as exc:
        raise NaturalExplainError(f"{path} is not an image GDAL can read: remove it from the dataset folder") from exc
    return RasterInput(path=path, bands=bands, grid=grid)


def open_tile(path: Path) -> RasterInput:
    """Open one tile file: a GeoTIFF through core.raster, an image as un-georeferenced.

    Raises:
        NaturalExplainError: for a file that cannot be read, or a GeoTIFF without a CRS.
    """
    return _open_image(path) if path.suffix.lower() in IMAGE_SUFFIXES else open_input(path)


def layout_mapping(tile: RasterInput, layout_bands: dict[int, list[str]]) -> dict[str, int]:
    """Name the bands of a tile whose file does not name them, by the layout's documented order.

    Args:
        tile: the opened tile.
        layout_bands: band count -> band names in file order, as the layout documents them.

    Returns:
        A model band name -> 1-based band number mapping (empty when the file names its bands).
    """
    if any(band.name for band in tile.bands):
        return {}
    names = layout_bands.get(len(tile.bands), [])
    return {name: i for i, name in enumerate(names, start=1)}


def _tile_band_names(tile: RasterInput, layout_bands: dict[int, list[str]]) -> list[str]:
    mapping = layout_mapping(tile, layout_bands)
    if mapping:
        return list(mapping)
    if not all(band.name for band in tile.bands):
        raise NaturalExplainError(f"the bands of {tile.path} have no names and the layout documents no order for "
                                  f"{len(tile.bands)} bands: give --tile-bands NAME,NAME,... in file order")
    return [band.name for band in tile.bands]


class TilePatches(LabelledPatches):
    """One labelled sample per tile file, read on demand.

    Args:
        files: the tile files.
        label_names: one class name per file.
        splits: one split name per file from the dataset, or None to split spatially.
        bands: the model's band names, or None for the bands every tile has (first tile's order).
        layout_bands: band count -> band names in file order, for files that do not name bands.
        block_size_m: side of the split's spatial blocks in metres.
        resolution_m: the pixel size to record when tiles carry no georeference.

    Raises:
        NaturalExplainError: for no tiles, unreadable tiles, mixed kinds or sizes, unmatched bands,
            or fewer than two classes.
    """

    def __init__(self, files: list[Path], label_names: list[str], splits: list[str] | None, bands: list[str] | None,
                 layout_bands: dict[int, list[str]], block_size_m: float, resolution_m: float) -> None:
        if not files:
            raise NaturalExplainError("the dataset holds no tiles (.tif, .jpg, .png): check the folder")
        kinds = {path.suffix.lower() in IMAGE_SUFFIXES for path in files}
        if len(kinds) > 1:
            raise NaturalExplainError("the dataset mixes JPEG/PNG and GeoTIFF tiles, whose pixel units differ: train on one kind")
        self.classes, self.labels = class_index(label_names)
        self.splits, self.files = splits, list(files)
        tiles = [open_tile(path) for path in files]
        self.bands = bands or self._common_bands(tiles, layout_bands)
        self._refs = [match_bands(tile, self.bands, layout_mapping(tile, layout_bands)) for tile in tiles]
        self._grids = [tile.grid for tile in tiles]
        self._check_one_size()
        self.georeferenced = [grid.crs is not None for grid in self._grids]
        self.groups = [self._group(grid, path, block_size_m) for grid, path in zip(self._grids, files)]
        self.resolution_m = pixel_size_m(self._grids[0]) if self.georeferenced[0] else resolution_m
        with _unreferenced_expected(), open_raster(files[0]) as ds:
            self.is_8bit = ds.dtypes[0] == "uint8"

    @staticmethod
    def _common_bands(tiles: list[RasterInput], layout_bands: dict[int, list[str]]) -> list[str]:
        first = _tile_band_names(tiles[0], layout_bands)
        common = set(first).intersection(*(_tile_band_names(t, layout_bands) for t in tiles[1:]))
        return [name for name in first if name in common]

    def _check_one_size(self) -> None:
        sizes = {(grid.width, grid.height) for grid in self._grids}
        if len(sizes) > 1:
            raise NaturalExplainError(f"the tiles come in {len(sizes)} sizes {sorted(sizes)[:3]}: "
                                      "cut them to one size so they can be batched")

    @staticmethod
    def _group(grid: Grid, path: Path, block_size_m: float) -> tuple[str, int, int] | str:
        if grid.crs is None:
            return path.name
        xmin, ymin, xmax, ymax = grid.bounds
        return block_key(grid.crs, (xmin + xmax) / 2, (ymin + ymax) / 2, block_size_m)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray, int]:
        with _unreferenced_expected():
            raw, valid = read_window(self._refs[index], self._grids[index])
        return raw, valid, self.labels[index]
