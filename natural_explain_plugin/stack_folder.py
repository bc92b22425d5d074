"""Stack a folder of Sentinel-2 band files into one layer the model can read, at the finest resolution.

What Build Virtual Raster does with "Place each input file into a separate band", but with
Resolution = Highest (its default, Average, gives 23.3 m pixels for a 10/20/60 m set) and
every band described by its Sentinel-2 name, so the dock matches the bands by name. The
band is found in the file name (B02.tif, T18SUJ_20230101T155519_B8A_20m.jp2, ...); when a
band comes at several resolutions (a SAFE product's R10m, R20m and R60m folders), the finest
file is used.
"""
import re
from pathlib import Path

from osgeo import gdal

from core.errors import NaturalExplainError

from .i18n import tr

BAND_PATTERN = re.compile(r"(?<![A-Za-z0-9])B(0[1-9]|1[0-2]|8A)(?![0-9A-Za-z])|_B(0[1-9]|1[0-2]|8A)(?=[_.])")
BAND_ORDER = ["B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B10", "B11", "B12"]
EXTENSIONS = (".tif", ".tiff", ".jp2")


def band_of(path: Path) -> str | None:
    """The Sentinel-2 band a file holds, from its name ('B8A'), or None."""
    match = BAND_PATTERN.search(path.stem.upper())
    return None if match is None else "B" + (match.group(1) or match.group(2))


def band_files(folder: Path) -> dict[str, Path]:
    """Band name -> its finest-resolution file under `folder` (searched recursively), in Sentinel-2 order.

    Raises:
        NaturalExplainError: when the folder holds no Sentinel-2 band file.
    """
    found: dict[str, tuple[float, Path]] = {}
    for path in sorted(p for p in Path(folder).rglob("*") if p.suffix.lower() in EXTENSIONS):
        band = band_of(path)
        if band is None:
            continue
        ds = gdal.Open(str(path))
        if ds is None:
            continue
        pixel = abs(ds.GetGeoTransform()[1])
        if band not in found or pixel < found[band][0]:
            found[band] = (pixel, path)
    if not found:
        raise NaturalExplainError(tr("{0} holds no Sentinel-2 band file (a .tif or .jp2 named with B02, B8A, ...): "
                                     "choose the folder with the band files").format(folder))
    return {band: found[band][1] for band in BAND_ORDER if band in found}


def stack_folder(folder: Path, target: Path) -> Path:
    """Write `target` (a VRT) with one band per Sentinel-2 band file of `folder`, at the highest resolution.

    Raises:
        NaturalExplainError: when the folder has no band file or GDAL cannot build the stack.
    """
    files = band_files(folder)
    target.parent.mkdir(parents=True, exist_ok=True)
    vrt = gdal.BuildVRT(str(target), [str(p) for p in files.values()], separate=True, resolution="highest")
    if vrt is None:
        raise NaturalExplainError(tr("GDAL could not stack the band files of {0}: {1}").format(
            folder, gdal.GetLastErrorMsg()))
    for number, band in enumerate(files, start=1):
        vrt.GetRasterBand(number).SetDescription(band)
    vrt.FlushCache()
    vrt = None  # closing the dataset writes the descriptions into the VRT
    return target


def stack_path(folder: Path, fallback: Path) -> Path:
    """Where the stack of `folder` goes: beside its files, or under `fallback` when the folder is read-only."""
    name = f"{Path(folder).name or 'sentinel2'}_stack.vrt"
    target = Path(folder) / name
    try:
        target.touch(exist_ok=True)
        return target
    except OSError:
        return Path(fallback) / name
