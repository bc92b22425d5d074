"""The EuroSAT layout: one folder per class (AnnualCrop/, Forest/, ... SeaLake/), 64x64 px tiles.

EuroSAT ships as RGB JPEGs (bands R, G, B = B04, B03, B02, no georeference) or as 13-band
GeoTIFFs (EuroSAT MS) whose bands carry no names; both orders are documented here.
"""
from pathlib import Path

from core.errors import NaturalExplainError
from train.datasets.tile_files import TILE_SUFFIXES, TilePatches

EUROSAT_MS_BANDS = ["B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B10", "B11", "B12"]
EUROSAT_RGB_BANDS = ["B04", "B03", "B02"]
EUROSAT_LAYOUT_BANDS = {len(EUROSAT_MS_BANDS): EUROSAT_MS_BANDS, len(EUROSAT_RGB_BANDS): EUROSAT_RGB_BANDS}
# EuroSAT's ground sampling distance, recorded for the un-georeferenced RGB JPEGs.
EUROSAT_RESOLUTION_M = 10.0


def eurosat_files(root: Path) -> tuple[list[Path], list[str]]:
    """Tile files and their class names (the class folder's name).

    Raises:
        NaturalExplainError: when `root` is missing or holds no class folder with tiles.
    """
    if not root.is_dir():
        raise NaturalExplainError(f"EuroSAT folder {root} does not exist")
    files, labels = [], []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for path in sorted(folder.iterdir()):
            if path.suffix.lower() in TILE_SUFFIXES:
                files.append(path)
                labels.append(folder.name)
    if not files:
        raise NaturalExplainError(f"{root} holds no class folders with tiles: EuroSAT layout is ROOT/<class>/<tile>.tif|.jpg")
    return files, labels


def eurosat(root: Path, bands: list[str] | None, block_size_m: float, resolution_m: float | None,
            tile_bands: list[str] | None = None) -> TilePatches:
    """Open a EuroSAT-style folder as labelled tiles.

    Args:
        root: the folder holding one sub-folder per class.
        bands: the model's band names, or None for every band the tiles have.
        block_size_m: side of the split's spatial blocks (GeoTIFF tiles) in metres.
        resolution_m: pixel size to record for JPEG tiles; EuroSAT's 10 m when None.
        tile_bands: names of the files' bands in file order, replacing EuroSAT's documented orders.

    Returns:
        The tiles.

    Raises:
        NaturalExplainError: for a missing folder, no tiles, unreadable tiles or unmatched bands.
    """
    files, labels = eurosat_files(root)
    layout_bands = {len(tile_bands): tile_bands} if tile_bands else EUROSAT_LAYOUT_BANDS
    return TilePatches(files, labels, None, bands, layout_bands, block_size_m,
                       resolution_m or EUROSAT_RESOLUTION_M)
